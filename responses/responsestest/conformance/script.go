package conformance

import (
	"encoding/json"
	"strings"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// Model answers like a tiny deterministic model, for clients that run their
// own loop (the Node agent): a request whose input ends with a tool output
// gets a text quoting it; a request offering a function tool gets a call of
// the first one with {"city":"Paris"}; anything else gets "echo: <text>".
func Model() rt.Model {
	return func(req *responses.Request) rt.Reply {
		items := req.Input.Items
		if n := len(items); n > 0 && items[n-1].IsOutput() {
			var out struct{ Output json.RawMessage }
			_ = items[n-1].Decode(&out)
			return rt.Output(rt.Text("tool said: " + strings.Trim(string(out.Output), `"`)))
		}
		for _, t := range req.Tools {
			if t.Type == "function" {
				return rt.Output(rt.FunctionCall("", t.Name, `{"city":"Paris"}`))
			}
		}
		text := req.Input.Text
		for _, it := range items {
			text += it.Text()
		}
		return rt.Output(rt.Text("echo: " + text))
	}
}
