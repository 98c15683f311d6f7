package session_test

import (
	"fmt"
	"testing"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
)

// FuzzTrim checks the window rule on random conversations: what Trim keeps
// fits the budget, never starts with a call and never holds an output
// whose call it does not hold; and it drops no more than it must when the
// conversation is already a valid window that fits.
func FuzzTrim(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 3, 0}, 0, 0)
	f.Add([]byte{2, 3, 2, 2, 3, 3, 0, 1}, 40, 3)
	f.Fuzz(func(t *testing.T, kinds []byte, tokens, last int) {
		if len(kinds) > 64 {
			kinds = kinds[:64]
		}
		var items []responses.Item
		calls := 0
		for i, k := range kinds {
			var raw string
			switch k % 5 {
			case 0:
				raw = fmt.Sprintf(`{"type":"message","role":"user","content":"m%d"}`, i)
			case 1:
				raw = fmt.Sprintf(`{"type":"reasoning","encrypted_content":"r%d"}`, i)
			case 2:
				calls++
				raw = fmt.Sprintf(`{"type":"function_call","call_id":"c%d","name":"f","arguments":"{}"}`, calls)
			case 3: // an output for some call, maybe not yet made
				raw = fmt.Sprintf(`{"type":"function_call_output","call_id":"c%d","output":"o"}`, int(k/5)%(calls+2))
			case 4:
				raw = `{"type":"mcp_approval_request","id":"a1","server_label":"s","name":"n","arguments":"{}"}`
			}
			var it responses.Item
			if err := it.UnmarshalJSON([]byte(raw)); err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		opts := &session.LoadOptions{Tokens: max(tokens, 0) % 1000}
		drop := opts.Trim(items)
		if drop < 0 || drop > len(items) {
			t.Fatalf("drop %d of %d", drop, len(items))
		}
		kept := items[drop:]
		sum := 0
		have := map[string]bool{}
		for i, it := range kept {
			sum += session.EstimateTokens(it)
			if i == 0 && it.IsCall() {
				t.Fatalf("window starts with a call")
			}
			if k := it.CallKey(); k != "" {
				have[k] = true
			}
			if it.IsOutput() && !have[it.OutputKey()] {
				t.Fatalf("output %q at %d without its call", it.OutputKey(), i)
			}
		}
		if opts.Tokens > 0 && sum > opts.Tokens {
			t.Fatalf("window of %d tokens exceeds %d", sum, opts.Tokens)
		}
		// Trimming a valid window keeps it.
		if again := opts.Trim(kept); again != 0 {
			t.Fatalf("trimming the window again drops %d more", again)
		}
	})
}
