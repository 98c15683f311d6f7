package agent

import (
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// refusedOutput returns the output of a call that will not run: the tool's
// own when it provides one, else msg as text in the call's wire shape.
func (d *dispatcher) refusedOutput(call tools.Call, tool tools.Tool, msg string) responses.Item {
	if dt, ok := tool.(tools.Decliner); ok {
		out, err := dt.Declined(d.ctx, call, msg)
		if err == nil && !out.IsZero() && out.OutputKey() == call.CallID {
			return out
		}
		d.r.a.log.Warn("tool gave no output for a declined call", "tool", toolName(call), "call_id", call.CallID, "err", err)
	}
	return tools.TextOutput(call, msg, true)
}
