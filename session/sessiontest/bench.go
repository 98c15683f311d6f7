package sessiontest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/session"
)

// Bench runs the store benchmarks as sub-benchmarks of b: appending a
// 20-item turn, loading a 10,000-item conversation (whole, and its last 100
// items), taking a pending continuation, and a one-call agent run attached
// to a conversation (session.Attach) beside the same run unattached.
// newStore returns an empty store, closed by a b.Cleanup it registers.
func Bench(b *testing.B, newStore func(b *testing.B) session.Store) {
	b.Run("AttachedRun", func(b *testing.B) { benchAttached(b, newStore(b)) })
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

// benchAttached times a one-call run (two requests) against a scripted
// server, attached to a conversation of st and bare, interleaved so that
// drift on a shared machine hits both alike. It reports the time a run
// spends in the store (attached-ns/run minus bare-ns/run) and the ratio.
func benchAttached(b *testing.B, st session.Store) {
	srv := rt.NewServer(rt.Model(func(req *responses.Request) rt.Reply {
		if req.PreviousResponseID == "" || len(req.Input.Items) == 1 && !req.Input.Items[0].IsOutput() {
			return rt.Output(rt.FunctionCall("", "echo", `{"text":"a"}`))
		}
		return rt.Output(rt.Text("done"))
	}))
	defer srv.Close()
	var calls atomic.Int32
	a := attachAgent(srv, &calls, false)
	ctx := b.Context()
	in := []responses.Item{responses.UserMessage("go")}
	bare := func() {
		if _, err := a.RunItems(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	attached := func() {
		att, err := session.Attach(ctx, st, "bench", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := att.Run(ctx, a, in); err != nil {
			b.Fatal(err)
		}
	}
	for range 10 {
		bare()
		attached()
	}
	srv.DiscardRequests()
	var tBare, tAttached time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		bare()
		t1 := time.Now()
		attached()
		tAttached += time.Since(t1)
		tBare += t1.Sub(t0)
		if i%256 == 0 {
			srv.DiscardRequests()
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tBare.Nanoseconds())/n, "bare-ns/run")
	b.ReportMetric(float64(tAttached.Nanoseconds())/n, "attached-ns/run")
	b.ReportMetric(float64((tAttached-tBare).Nanoseconds())/n, "store-ns/run")
	b.ReportMetric(float64(tAttached)/float64(tBare), "x-bare")
}
