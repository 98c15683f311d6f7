package agent_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// The Approve middleware answers for the calls that need approval: here it
// lets "ship it" through with no Approver configured, refuses "drop it"
// with a reason the model reads, and passes the rest to the Approver.
func TestApproveMiddleware(t *testing.T) {
	srv := rt.New(t,
		rt.Output(
			rt.FunctionCall("call_1", "echo", `{"text":"ship it"}`),
			rt.FunctionCall("call_2", "echo", `{"text":"drop it"}`),
			rt.FunctionCall("call_3", "echo", `{"text":"ask me"}`),
		),
		rt.Output(rt.Text("done")),
	)
	var mu sync.Mutex
	seen := map[string]string{} // call id -> the call item's name, as the middleware saw it
	var asked atomic.Int32
	mw := agent.Middleware{Approve: func(next agent.ApproveHandler) agent.ApproveHandler {
		return func(ctx context.Context, call tools.Call, req tools.ApprovalRequest) (agent.Approval, error) {
			mu.Lock()
			seen[call.CallID] = call.Name
			mu.Unlock()
			switch string(req.Arguments) {
			case `{"text":"ship it"}`:
				return agent.Approve, nil
			case `{"text":"drop it"}`:
				return agent.Deny("policy says no"), nil
			}
			return next(ctx, call, req)
		}
	}}
	a := agent.New(client(srv), "m", &agent.Options{
		Tools:      []tools.Tool{echoTool(&function.Options{NeedsApproval: function.Always})},
		Middleware: []agent.Middleware{mw},
		Approver: agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
			asked.Add(1)
			return agent.Approve, nil
		}),
	})
	res, err := a.Run(t.Context(), "go")
	require.NoError(t, err)
	assert.Equal(t, "done", res.Text)
	assert.Equal(t, int32(1), asked.Load(), "only the call the middleware passed on reached the Approver")
	assert.Equal(t, map[string]string{"call_1": "echo", "call_2": "echo", "call_3": "echo"}, seen)
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	got := input(t, reqs[1])
	require.Len(t, got, 3)
	assert.Equal(t, fnOutput("call_1", "ship it"), got[0])
	assert.Contains(t, got[1], "policy says no")
	assert.Equal(t, fnOutput("call_3", "ask me"), got[2])
}

// Without an Approver, a call the middleware passes on is refused as
// before.
func TestApproveMiddlewareWithoutApprover(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"x"}`)),
		rt.Output(rt.Text("done")),
	)
	pass := agent.Middleware{Approve: func(next agent.ApproveHandler) agent.ApproveHandler { return next }}
	a := agent.New(client(srv), "m", &agent.Options{
		Tools:      []tools.Tool{echoTool(&function.Options{NeedsApproval: function.Always})},
		Middleware: []agent.Middleware{pass},
	})
	_, err := a.Run(t.Context(), "go")
	require.NoError(t, err)
	got := input(t, srv.Requests()[1])
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "no approver is configured")
}
