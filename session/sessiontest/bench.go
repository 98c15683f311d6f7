package sessiontest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
)

// Bench runs the store benchmarks as sub-benchmarks of b: appending a
// 20-item turn, loading a 10,000-item conversation (whole, and its last 100
// items), and taking a pending continuation. newStore returns an empty
// store, closed by a b.Cleanup it registers.
func Bench(b *testing.B, newStore func(b *testing.B) session.Store) {
	b.Run("AppendTurn20", func(b *testing.B) {
		st, ctx := newStore(b), b.Context()
		turn := benchTurn(0)
		var v int64
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var err error
			if v, err = st.Append(ctx, "bench", v, session.Turn{Items: turn, ResponseID: fmt.Sprint("resp_", i)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, last := range []int{0, 100} {
		name := "Load10k"
		if last > 0 {
			name = fmt.Sprintf("LoadLast%dOf10k", last)
		}
		b.Run(name, func(b *testing.B) {
			st, ctx := newStore(b), b.Context()
			var v int64
			for t := range 500 {
				var err error
				if v, err = st.Append(ctx, "bench", v, session.Turn{Items: benchTurn(t)}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := st.Load(ctx, "bench", &session.LoadOptions{Last: last})
				if err != nil {
					b.Fatal(err)
				}
				if want := max(last, 0); (want == 0 && len(c.Items) != 10000) || (want > 0 && len(c.Items) > want) {
					b.Fatalf("loaded %d items", len(c.Items))
				}
			}
		})
	}
	b.Run("TakePending", func(b *testing.B) {
		st, ctx := newStore(b), b.Context()
		if _, err := st.Append(ctx, "bench", 0, session.Turn{Items: benchTurn(0)}); err != nil {
			b.Fatal(err)
		}
		state := []byte(`{"version":1,"transcript":[` + strings.Repeat(`{"type":"message","role":"user","content":"x"},`, 60) + `{}]}`)
		for i := 0; i < b.N; i++ {
			if err := st.PutPending(ctx, "bench", fmt.Sprint("p", i), state); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := st.TakePending(ctx, fmt.Sprint("p", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchTurn is a turn of 20 items as a tool-using model produces them:
// reasoning with encrypted content, calls, their outputs and a message.
func benchTurn(t int) []responses.Item {
	enc := strings.Repeat("QUJD", 300) // 1.2 kB
	out := strings.Repeat("output line\\n", 40)
	var raws []string
	raws = append(raws, fmt.Sprintf(`{"type":"message","role":"user","content":"turn %d: fix the failing test"}`, t))
	for i := range 6 {
		raws = append(raws,
			fmt.Sprintf(`{"type":"reasoning","id":"rs_%d_%d","summary":[],"encrypted_content":"%s"}`, t, i, enc),
			fmt.Sprintf(`{"type":"function_call","id":"fc_%d_%d","call_id":"call_%d_%d","name":"shell","arguments":"{\"command\":\"go test ./...\"}","status":"completed"}`, t, i, t, i),
			fmt.Sprintf(`{"type":"function_call_output","call_id":"call_%d_%d","output":"%s"}`, t, i, out))
	}
	raws = append(raws, `{"type":"message","role":"assistant","id":"msg_1","content":[{"type":"output_text","text":"Fixed.","annotations":[]}],"status":"completed"}`)
	items := make([]responses.Item, len(raws))
	for i, r := range raws {
		if err := items[i].UnmarshalJSON([]byte(r)); err != nil {
			panic(err)
		}
	}
	return items
}
