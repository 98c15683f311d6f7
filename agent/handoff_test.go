package agent_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func toolNames(r rt.Request) []string {
	var names []string
	for _, d := range r.Params.Tools {
		names = append(names, d.Name)
	}
	return names
}

func namedTool(name string) tools.Tool {
	return function.New(name, "A tool.", func(ctx context.Context, in struct{}) (string, error) {
		return name + " done", nil
	}, nil)
}

// A hands to B, B to C: each request carries the instructions and tools of
// the agent in charge, the chain stays valid, and the Result names C.
func TestHandoffChain(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(map[bool]string{false: "chained", true: "stateless"}[stateless], func(t *testing.T) {
			srv := rt.New(t,
				rt.Output(rt.FunctionCall("h1", "transfer_to_b", `{"reason":"billing"}`)),
				rt.Output(rt.FunctionCall("c1", "b_tool", `{}`), rt.FunctionCall("h2", "transfer_to_c", `{"reason":"refund"}`)),
				rt.Output(rt.Text("refunded")),
			)
			c := agent.New(client(srv), "model-c", &agent.Options{Name: "c", Instructions: "You are C.", Tools: []tools.Tool{namedTool("c_tool")}, Stateless: stateless})
			b := agent.New(client(srv), "model-b", &agent.Options{Name: "b", Instructions: "You are B.", Tools: []tools.Tool{namedTool("b_tool")}, Stateless: stateless,
				Handoffs: []agent.Handoff{{Agent: c}}})
			var reasons []string
			a := agent.New(client(srv), "model-a", &agent.Options{Name: "a", Instructions: "You are A.", Stateless: stateless,
				Handoffs: []agent.Handoff{{Agent: b, OnHandoff: func(ctx context.Context, args json.RawMessage) error {
					reasons = append(reasons, string(args))
					return nil
				}}}})
			var handoffs []agent.HandoffEvent
			var res *agent.Result
			for ev, err := range a.Stream(t.Context(), "refund me") {
				require.NoError(t, err)
				if ev.Kind == agent.EventHandoff {
					handoffs = append(handoffs, *ev.Handoff)
				}
				if ev.Kind == agent.EventRunCompleted {
					res = ev.Result
				}
			}
			require.NotNil(t, res)
			assert.Equal(t, "refunded", res.Text)
			assert.Equal(t, "c", res.Agent)
			assert.Equal(t, "c", res.State.Agent)
			assert.Equal(t, []agent.HandoffEvent{{From: "a", To: "b", CallID: "h1"}, {From: "b", To: "c", CallID: "h2"}}, handoffs)
			assert.Equal(t, []string{`{"reason":"billing"}`}, reasons)

			reqs := served(srv)
			require.Len(t, reqs, 3)
			for i, want := range []struct {
				model, instr string
				tools        []string
			}{
				{"model-a", "You are A.", []string{"transfer_to_b"}},
				{"model-b", "You are B.", []string{"b_tool", "transfer_to_c"}},
				{"model-c", "You are C.", []string{"c_tool"}},
			} {
				assert.Equal(t, want.model, reqs[i].Params.Model, "request %d", i+1)
				assert.Equal(t, want.instr, reqs[i].Params.Instructions, "request %d", i+1)
				assert.Equal(t, want.tools, toolNames(reqs[i]), "request %d", i+1)
			}
			in := input(t, reqs[2])
			if stateless {
				assert.Empty(t, reqs[2].Params.PreviousResponseID)
				assert.Contains(t, strings.Join(in, "\n"), `"call_id":"h1"`, "the whole transcript is replayed")
			} else {
				assert.Equal(t, reqs[1].ResponseID, reqs[2].Params.PreviousResponseID)
				require.Len(t, in, 2)
				assert.Contains(t, in[0], `"call_id":"c1"`)
				assert.Contains(t, in[1], "Transferred to c.")
			}
		})
	}
}

// A handoff beside two other calls: they run; a second handoff in the same
// response is answered that it was ignored.
func TestHandoffBesideCalls(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "x", `{}`), rt.FunctionCall("h1", "transfer_to_b", `{"reason":"r"}`), rt.FunctionCall("c2", "y", `{}`), rt.FunctionCall("h2", "transfer_to_c", `{"reason":"r"}`)),
		rt.Output(rt.Text("b here")),
	)
	b := agent.New(client(srv), "m", &agent.Options{Name: "b"})
	c := agent.New(client(srv), "m", &agent.Options{Name: "c"})
	a := agent.New(client(srv), "m", &agent.Options{Name: "a", Tools: []tools.Tool{namedTool("x"), namedTool("y")},
		Handoffs: []agent.Handoff{{Agent: b}, {Agent: c}}})
	res, err := a.Run(t.Context(), "go")
	require.NoError(t, err)
	assert.Equal(t, "b", res.Agent)
	in := input(t, served(srv)[1])
	require.Len(t, in, 4)
	assert.Contains(t, in[0], "x done")
	assert.Contains(t, in[1], "Transferred to b.")
	assert.Contains(t, in[2], "y done")
	assert.Contains(t, in[3], "Ignored: this response already hands the conversation to b.")
	assert.Equal(t, 2, res.ToolCalls)
}

// An input filter: the target sees the run's history without tool calls,
// sent in place of the chain.
func TestHandoffInputFilter(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "x", `{}`)),
		rt.Output(rt.Text("Let me hand you over."), rt.FunctionCall("h1", "transfer_to_b", `{"reason":"r"}`)),
		rt.Output(rt.Text("b here")),
	)
	b := agent.New(client(srv), "m", &agent.Options{Name: "b"})
	a := agent.New(client(srv), "m", &agent.Options{Name: "a", Tools: []tools.Tool{namedTool("x")},
		Handoffs: []agent.Handoff{{Agent: b, Filter: agent.HandoffFilter{DropTools: true}}}})
	res, err := a.Run(t.Context(), "hello")
	require.NoError(t, err)
	assert.Equal(t, "b here", res.Text)
	req := served(srv)[2]
	assert.Empty(t, req.Params.PreviousResponseID, "the filtered history replaces the chain")
	in := input(t, req)
	require.Len(t, in, 2)
	assert.Equal(t, userMsg("hello"), in[0])
	assert.Contains(t, in[1], "Let me hand you over.")
}

// A handoff, then a deferred approval in the agent handed to: the state
// names that agent, and a new Agent resumes in it.
func TestHandoffThenDeferredApproval(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("h1", "transfer_to_b", `{"reason":"r"}`)),
		rt.Output(rt.FunctionCall("c1", "danger", `{}`)),
		rt.Output(rt.Text("done by b")),
	)
	build := func(ap agent.Approver) *agent.Agent {
		danger := function.New("danger", "Needs approval.", func(ctx context.Context, in struct{}) (string, error) {
			return "danger done", nil
		}, &function.Options{NeedsApproval: function.Always})
		b := agent.New(client(srv), "model-b", &agent.Options{Name: "b", Instructions: "You are B.", Tools: []tools.Tool{danger}})
		return agent.New(client(srv), "model-a", &agent.Options{Name: "a", Approver: ap, Handoffs: []agent.Handoff{{Agent: b}}})
	}
	res, err := build(agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) {
		return agent.Defer, nil
	})).Run(t.Context(), "go")
	require.NoError(t, err)
	require.Equal(t, "pending_approval", res.StopReason)
	assert.Equal(t, "b", res.State.Agent)
	st := roundTrip(t, res.State)

	res2, err := build(nil).Resume(t.Context(), st, []agent.Decision{{CallID: "c1", Approval: agent.Approve}})
	require.NoError(t, err)
	assert.Equal(t, "done by b", res2.Text)
	assert.Equal(t, "b", res2.Agent)
	last := served(srv)[2]
	assert.Equal(t, "model-b", last.Params.Model)
	assert.Equal(t, "You are B.", last.Params.Instructions)
	assert.Contains(t, input(t, last)[0], "danger done")
}

// The order of lifecycle events of a run with parallel calls and a
// handoff.
func TestLifecycleOrderWithHandoff(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "x", `{}`), rt.FunctionCall("c2", "y", `{}`), rt.FunctionCall("h1", "transfer_to_b", `{"reason":"r"}`)),
		rt.Output(rt.Text("b here")),
	)
	b := agent.New(client(srv), "m", &agent.Options{Name: "b"})
	a := agent.New(client(srv), "m", &agent.Options{Name: "a", Tools: []tools.Tool{namedTool("x"), namedTool("y")}, Handoffs: []agent.Handoff{{Agent: b}}})
	var kinds []agent.EventKind
	for ev, err := range a.Stream(t.Context(), "go") {
		require.NoError(t, err)
		switch ev.Kind {
		case agent.EventRunStarted, agent.EventTurnStarted, agent.EventTurnCompleted, agent.EventHandoff, agent.EventRunCompleted, agent.EventToolFinished:
			kinds = append(kinds, ev.Kind)
		}
	}
	assert.Equal(t, []agent.EventKind{
		agent.EventRunStarted,
		agent.EventTurnStarted, agent.EventToolFinished, agent.EventToolFinished, agent.EventToolFinished, agent.EventTurnCompleted,
		agent.EventHandoff,
		agent.EventTurnStarted, agent.EventTurnCompleted,
		agent.EventRunCompleted,
	}, kinds)
}
