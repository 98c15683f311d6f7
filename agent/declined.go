package agent

import (
	"context"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// decliner is implemented by tools whose calls cannot be answered with text,
// such as computer use (whose output is a screenshot): the loop asks them
// for the output of a call that was refused or declined. It is matched by
// method set, so executor packages need not import agent.
type decliner interface {
	Declined(ctx context.Context, call tools.Call, reason string) (responses.Item, error)
}

// refusedOutput returns the output of a call that will not run: the tool's
// own when it provides one, else msg as text in the call's wire shape.
func (d *dispatcher) refusedOutput(call tools.Call, tool tools.Tool, msg string) responses.Item {
	if dt, ok := tool.(decliner); ok {
		out, err := dt.Declined(d.ctx, call, msg)
		if err == nil && !out.IsZero() && out.OutputKey() == call.CallID {
			return out
		}
		d.r.a.log.Warn("tool gave no output for a declined call", "tool", toolName(call), "call_id", call.CallID, "err", err)
	}
	return tools.TextOutput(call, msg, true)
}
