package computer_test

import (
	"encoding/json"
	"testing"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/computer"
)

// FuzzCall feeds arbitrary call items to the tool: it never panics, and
// whenever it answers, the answer is a computer_call_output for that call.
func FuzzCall(f *testing.F) {
	for _, s := range []string{
		`{"type":"computer_call","call_id":"c1","actions":[{"type":"click","button":"left","x":1,"y":2},{"type":"type","text":"hi"}]}`,
		`{"type":"computer_call","call_id":"c1","action":{"type":"drag","path":[{"x":1,"y":1},{"x":2,"y":2}]}}`,
		`{"type":"computer_call","call_id":"c1","action":{"type":"scroll","x":1,"y":1,"scroll_x":-5,"scroll_y":9999}}`,
		`{"type":"computer_call","call_id":"c1","pending_safety_checks":[{"id":"sc","code":"x","message":"m"}],"actions":[]}`,
		`{"type":"computer_call","call_id":"c1","actions":[{"type":"keypress","keys":[]},{"type":"move","x":-1,"y":5}]}`,
		`{"type":"computer_call","call_id":"c1","actions":null,"action":null}`,
		`{"type":"computer_call","call_id":7}`,
		`{"type":"function_call"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tool := computer.New(&fake{}, &computer.Options{AlwaysAsk: true})
		var it responses.Item
		if json.Unmarshal(data, &it) != nil {
			return
		}
		call := tools.NewCall(it)
		if _, err := tool.Review(t.Context(), call); err != nil {
			t.Fatalf("review failed: %v", err)
		}
		out, err := tool.Call(t.Context(), call)
		if err != nil {
			return
		}
		if out.Type != responses.TypeComputerCallOutput || out.CallID != call.CallID {
			t.Fatalf("answer %s for call %q", out.Raw(), call.CallID)
		}
		if fixed := responses.WithoutEmptySafetyChecks(it); !json.Valid(fixed.Raw()) {
			t.Fatalf("invalid JSON after dropping empty checks: %s", fixed.Raw())
		}
	})
}
