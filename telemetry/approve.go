package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/tools"
)

// approval is one decision of an approver, kept until its call's span
// starts.
type approval struct {
	req            tools.ApprovalRequest
	asked, decided time.Time
	decision       agent.Approval
	err            error
	by             string
}

// addEvents records the approval as two events of span, at the times they
// happened (before the span's start when the call waited for them).
func (a approval) addEvents(span trace.Span) {
	span.AddEvent(eventApprovalRequested, trace.WithTimestamp(a.asked), trace.WithAttributes(keyApprovalKind.String(a.req.Kind)))
	attrs := []attribute.KeyValue{keyApproved.Bool(a.decision.Approved && a.err == nil), keyApprovalBy.String(a.by)}
	if a.decision.Always {
		attrs = append(attrs, keyApprovalAlways.Bool(true))
	}
	if a.decision.Defer {
		attrs = append(attrs, keyApprovalDefer.Bool(true))
	}
	if a.err != nil {
		attrs = append(attrs, keyErrorType.String("approver_error"))
	}
	span.AddEvent(eventApprovalDecided, trace.WithTimestamp(a.decided), trace.WithAttributes(attrs...))
}

func (rs *runState) putApproval(a approval) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.approvals == nil {
		rs.approvals = make(map[string]approval)
	}
	rs.approvals[a.req.CallID] = a
}

func (rs *runState) takeApproval(callID string) (approval, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	a, ok := rs.approvals[callID]
	delete(rs.approvals, callID)
	return a, ok
}

// Approver wraps next so that approvals show in the trace: an approved
// call's execute_tool span gets the events agentloop.approval.requested
// and agentloop.approval.decided at the times they happened, with who
// decided (by returns it for a request, for example "user" for a person at
// a prompt or "policy" for a rule; nil records "approver") and how. A call that is declined or deferred never runs; it gets
// an execute_tool span of its own that lasts the wait for the decision,
// with agentloop.tool.outcome "denied" or "deferred". A hosted MCP approval
// request has no call to run here: its events go on the run's span.
//
// Approvals that "approve always" answered earlier never reach an approver
// and are not recorded. A nil next returns nil, so that the agent keeps
// declining every call that asks.
func (i *Instrumentation) Approver(next agent.Approver, by func(tools.ApprovalRequest) string) agent.Approver {
	if next == nil {
		return nil
	}
	return agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		asked := time.Now()
		d, err := next.Approve(ctx, req)
		rs := runOf(ctx)
		if rs == nil || !rs.span.IsRecording() {
			return d, err
		}
		who := "approver"
		if by != nil {
			who = by(req)
		}
		a := approval{req: req, asked: asked, decided: time.Now(), decision: d, err: err, by: who}
		switch {
		case req.Kind == "hosted_mcp":
			a.addEvents(rs.span)
		case d.Approved && err == nil:
			rs.putApproval(a)
		default:
			i.declinedSpan(ctx, a)
		}
		return d, err
	})
}

// declinedSpan records a call that did not run for want of an approval.
func (i *Instrumentation) declinedSpan(ctx context.Context, a approval) {
	outcome := tools.OutcomeDenied
	if a.decision.Defer && a.err == nil {
		outcome = tools.OutcomeDeferred
	}
	attrs := i.toolAttrs(callTypeOf(a.req.Kind), a.req.Tool, a.req.CallID)
	attrs = append(attrs, keyOutcome.String(string(outcome)))
	if a.req.Kind == "apply_patch" && len(a.req.Paths) > 0 {
		attrs = append(attrs, keyPatchFiles.StringSlice(a.req.Paths))
	}
	_, span := i.tracer.Start(parentOf(ctx), opExecuteTool+" "+a.req.Tool, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrs...), trace.WithTimestamp(a.asked))
	a.addEvents(span)
	span.End(trace.WithTimestamp(a.decided))
}

// callTypeOf returns the call item type of an approval request's kind.
func callTypeOf(kind string) string {
	switch kind {
	case "function", "mcp":
		return "function_call"
	case "custom":
		return "custom_tool_call"
	case "shell":
		return "shell_call"
	case "apply_patch":
		return "apply_patch_call"
	case "computer":
		return "computer_call"
	}
	return kind
}
