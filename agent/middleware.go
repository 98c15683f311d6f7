package agent

import (
	"context"
	"slices"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Middleware wraps the loop's work at its seams, in the style of net/http
// handlers and the MCP Go SDK's middleware: a whole run, each model
// request, each approval question, and each tool call. A wrapper may put values into the context it
// passes on (a tracer puts its span there, so the model's HTTP request and
// the tool see it), refuse by returning an error without calling next (a
// guardrail), and see the result, the error and (by timing next) the
// duration. Hooks that only observe call next and look at what comes back.
//
// Any field may be nil. [Options.Middleware] lists them outermost first.
// With none installed the loop calls its handlers directly and does no
// extra work.
type Middleware struct {
	// Run wraps a whole run ([Agent.Run], [Agent.Stream], [Agent.Resume]).
	// An error it returns without calling next ends the run with that
	// error; events keep flowing to the run's consumer while next runs.
	Run func(next RunHandler) RunHandler
	// Model wraps each model request. The handler returns once the
	// response is complete; while it streams, the loop emits its events
	// and starts calls as their items complete. An error ends the run
	// (a refusal wraps [ErrRefused] by convention).
	Model func(next ModelHandler) ModelHandler
	// Tool wraps each approved call of a local tool. An error returned
	// with a zero item is the call's failure: the model reads it, and the
	// event's outcome is [tools.OutcomeOf] the error (wrap
	// [tools.ErrDenied] to refuse a call).
	Tool func(next ToolHandler) ToolHandler
	// Approve wraps the question put to the [Approver] for each call that
	// needs one (by the policy, or its tool's review). A wrapper may answer
	// without calling next: a hook that lets a call through without asking
	// (the approval is then the wrapper's, even with no Approver
	// configured), or refuses it with a reason for the model. Calls that
	// need no approval never reach it; Tool sees those. The in-process
	// loop runs it; the Temporal workflow asks through its Update instead.
	Approve func(next ApproveHandler) ApproveHandler
	// Event, when set, sees every event of the run as it is handed to the
	// run's consumer, on the run's goroutine, with the context the Run
	// middleware passed on (so a tracer finds its run span there): a hook
	// for what has no call of its own (the first text delta of a turn,
	// approvals, handoffs). It must not block.
	Event func(ctx context.Context, ev *Event)
}

// RunInfo describes a run to [Middleware.Run].
type RunInfo struct {
	Agent   string // Options.Name of the agent the run starts with
	Model   string
	Resumed bool // the run continues a stopped one ([Agent.Resume])
}

// RunHandler runs a whole run and returns its result and error.
type RunHandler func(ctx context.Context, run *RunInfo) (*Result, error)

// ModelCall is one model request.
type ModelCall struct {
	Agent string // Options.Name of the agent in charge
	Turn  int    // the request's number within the run, from 1
	// Kind says what the request is for: "" for a turn of the run,
	// "summary" for the summarising request of a compaction, "compact"
	// for a request to the compact endpoint (the handler's Response then
	// carries the compaction's output and usage).
	Kind    string
	Request *responses.Request
	// Retry is true when the turn is asked again after its stream broke
	// with nothing acted on.
	Retry bool
}

// ModelHandler sends one model request and returns the complete response.
type ModelHandler func(ctx context.Context, call *ModelCall) (*responses.Response, error)

// ToolHandler runs one approved call and returns its output item; see
// [tools.Tool].
type ToolHandler func(ctx context.Context, call tools.Call) (responses.Item, error)

// ApproveHandler answers the approval request req for call (the call's
// item; for a hosted MCP approval, its mcp_approval_request).
type ApproveHandler func(ctx context.Context, call tools.Call, req tools.ApprovalRequest) (Approval, error)

// approve puts an approval request through the Approve middleware.
func (a *Agent) approve(ctx context.Context, call tools.Call, req tools.ApprovalRequest, h ApproveHandler) (Approval, error) {
	if !a.hasApproveMW {
		return h(ctx, call, req)
	}
	for _, mw := range slices.Backward(a.opts.Middleware) {
		if mw.Approve != nil {
			h = mw.Approve(h)
		}
	}
	return h(ctx, call, req)
}

// model sends a model request through the Model middleware.
func (a *Agent) callModel(ctx context.Context, call *ModelCall, h ModelHandler) (*responses.Response, error) {
	if !a.hasModelMW {
		return h(ctx, call)
	}
	for _, mw := range slices.Backward(a.opts.Middleware) {
		if mw.Model != nil {
			h = mw.Model(h)
		}
	}
	return h(ctx, call)
}

type toolKey struct{}

// ToolOf returns the tool a call runs on, for Tool middleware that wants
// more than the call (an MCP tool's server, a shell's sandbox mode): the
// loop puts it into the context it passes to the Tool middleware.
func ToolOf(ctx context.Context) (tools.Tool, bool) {
	t, ok := ctx.Value(toolKey{}).(tools.Tool)
	return t, ok
}

// callTool runs a call of tool through the Tool middleware.
func (a *Agent) callTool(ctx context.Context, tool tools.Tool, call tools.Call, h ToolHandler) (responses.Item, error) {
	if !a.hasToolMW {
		return h(ctx, call)
	}
	ctx = context.WithValue(ctx, toolKey{}, tool)
	for _, mw := range slices.Backward(a.opts.Middleware) {
		if mw.Tool != nil {
			h = mw.Tool(h)
		}
	}
	return h(ctx, call)
}
