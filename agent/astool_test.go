package agent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// researcher is a sub-agent model: it looks the topic up with its own tool,
// then answers.
func researcherModel(req *responses.Request) rt.Reply {
	for _, it := range req.Input.Items {
		if it.IsOutput() {
			return rt.Reply{Output: []responses.Item{rt.Text("found it")}, Usage: &responses.Usage{InputTokens: 100, OutputTokens: 10, TotalTokens: 110}}
		}
	}
	return rt.Reply{Output: []responses.Item{rt.FunctionCall("", "lookup", `{}`)}, Usage: &responses.Usage{InputTokens: 50, OutputTokens: 5, TotalTokens: 55}}
}

// An agent tool called 3× in parallel: each sub-agent runs its own loop
// with its own tool, its events reach the parent marked with the path, and
// its tokens count in the parent's usage.
func TestAgentToolParallel(t *testing.T) {
	sub := rt.New(t, rt.Model(researcherModel))
	var lookups atomic.Int32
	lookup := function.New("lookup", "Look up.", func(ctx context.Context, in struct{}) (string, error) {
		lookups.Add(1)
		return "data", nil
	}, nil)
	researcher := agent.New(client(sub), "sub-model", &agent.Options{Name: "researcher", Instructions: "Research.", Tools: []tools.Tool{lookup}})

	parent := rt.New(t,
		rt.Reply{Output: []responses.Item{
			rt.FunctionCall("r1", "research", `{"input":"a"}`),
			rt.FunctionCall("r2", "research", `{"input":"b"}`),
			rt.FunctionCall("r3", "research", `{"input":"c"}`),
		}, Usage: &responses.Usage{InputTokens: 10, OutputTokens: 1, TotalTokens: 11}},
		rt.Reply{Output: []responses.Item{rt.Text("summary")}, Usage: &responses.Usage{InputTokens: 10, OutputTokens: 1, TotalTokens: 11}},
	)
	planner := agent.New(client(parent), "m", &agent.Options{Name: "planner", Tools: []tools.Tool{researcher.AsTool("research", "Research a topic.")}})
	var subEvents int
	var res *agent.Result
	for ev, err := range planner.Stream(t.Context(), "plan") {
		require.NoError(t, err)
		if len(ev.Path) > 0 {
			assert.Equal(t, []string{"research"}, ev.Path)
			subEvents++
		}
		if ev.Kind == agent.EventRunCompleted {
			res = ev.Result
		}
	}
	require.NotNil(t, res)
	assert.Equal(t, "summary", res.Text)
	assert.Equal(t, int32(3), lookups.Load())
	assert.Greater(t, subEvents, 6)
	assert.Equal(t, int64(22+3*165), res.Usage.TotalTokens, "the sub-agents' tokens count")
	require.Len(t, res.UsageByModel, 2, "%v", res.UsageByModel)
	assert.Equal(t, int64(22), res.UsageByModel["m"].TotalTokens)
	assert.Equal(t, int64(3*165), res.UsageByModel["sub-model"].TotalTokens, "each model apart, for pricing")
	assert.Equal(t, res.UsageByModel, res.State.UsageByModel)
	in := input(t, served(parent)[1])
	require.Len(t, in, 3)
	for i, o := range in {
		assert.Contains(t, o, fmt.Sprintf(`"call_id":"r%d"`, i+1))
		assert.Contains(t, o, "found it")
	}
}

// A sub-agent that hits its own budget answers with an error the model
// reads; its tokens push the parent over the parent's budget.
func TestAgentToolBudget(t *testing.T) {
	sub := rt.New(t, rt.Model(researcherModel))
	lookup := function.New("lookup", "Look up.", func(ctx context.Context, in struct{}) (string, error) { return "data", nil }, nil)
	researcher := agent.New(client(sub), "sub-model", &agent.Options{Name: "researcher", Tools: []tools.Tool{lookup}, MaxTotalTokens: 40})
	parent := rt.New(t, rt.Output(rt.FunctionCall("r1", "research", `{"input":"a"}`)), rt.Output(rt.Text("never")))
	planner := agent.New(client(parent), "m", &agent.Options{Tools: []tools.Tool{researcher.AsTool("research", "")}, MaxTotalTokens: 50})
	var outcome agent.Outcome
	var errText string
	var res *agent.Result
	for ev, err := range planner.Stream(t.Context(), "plan") {
		require.NoError(t, err)
		if ev.Kind == agent.EventToolFinished && len(ev.Path) == 0 {
			outcome, errText = ev.Tool.Outcome, ev.Tool.Error
		}
		if ev.Kind == agent.EventRunCompleted {
			res = ev.Result
		}
	}
	assert.Equal(t, agent.OutcomeError, outcome)
	assert.Contains(t, errText, "stopped before it answered (max_tokens)")
	assert.Equal(t, "max_tokens", res.StopReason, "the sub-agent's 55 tokens count toward the parent's 50")
	assert.Len(t, served(parent), 1)
}

// A deferred approval inside a sub-agent defers the parent's call; the
// parent's Resume resumes the sub-agent with the decision.
func TestAgentToolDeferredApproval(t *testing.T) {
	sub := rt.New(t,
		rt.Output(rt.FunctionCall("d1", "danger", `{}`)),
		rt.Output(rt.Text("sub done")),
	)
	var ran atomic.Int32
	danger := function.New("danger", "Needs approval.", func(ctx context.Context, in struct{}) (string, error) {
		ran.Add(1)
		return "danger done", nil
	}, &function.Options{NeedsApproval: function.Always})
	parent := rt.New(t, rt.Output(rt.FunctionCall("r1", "worker", `{"input":"go"}`)), rt.Output(rt.Text("all done")))
	build := func(ap agent.Approver) *agent.Agent {
		worker := agent.New(client(sub), "m", &agent.Options{Name: "worker", Tools: []tools.Tool{danger}})
		return agent.New(client(parent), "m", &agent.Options{Name: "boss", Approver: ap, Tools: []tools.Tool{worker.AsTool("worker", "")}})
	}
	res, err := build(agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) {
		return agent.Defer, nil
	})).Run(t.Context(), "go")
	require.NoError(t, err)
	require.Equal(t, "pending_approval", res.StopReason)
	require.Len(t, res.Pending, 1)
	assert.Equal(t, "d1", res.Pending[0].CallID)
	assert.Equal(t, []string{"r1"}, res.Pending[0].Via)
	assert.Equal(t, int32(0), ran.Load())
	st := roundTrip(t, res.State)

	res2, err := build(nil).Resume(t.Context(), st, []agent.Decision{{CallID: "d1", Approval: agent.Approve}})
	require.NoError(t, err)
	assert.Equal(t, "all done", res2.Text)
	assert.Equal(t, int32(1), ran.Load())
	in := input(t, served(parent)[1])
	require.Len(t, in, 1)
	assert.Contains(t, in[0], "sub done")
}

// An input guardrail that trips while the first request still streams:
// the request is cancelled, no tool runs, and the run ends with a
// TripwireError naming it.
func TestInputGuardrailTrips(t *testing.T) {
	release := make(chan struct{})
	srv := rt.New(t, rt.TurnFunc(func(req *responses.Request) rt.Reply {
		return rt.Reply{Output: []responses.Item{rt.FunctionCall("c1", "x", `{}`), rt.Text("long answer")}, Delay: 20 * time.Millisecond}
	}))
	var toolRan atomic.Bool
	x := function.New("x", "X.", func(ctx context.Context, in struct{}) (string, error) {
		toolRan.Store(true)
		return "x", nil
	}, nil)
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{x}, InputGuardrails: []agent.InputGuardrail{
		{Name: "ok", Check: func(ctx context.Context, in []responses.Item) (agent.GuardrailResult, error) {
			return agent.GuardrailResult{}, nil
		}},
		{Name: "topic", Check: func(ctx context.Context, in []responses.Item) (agent.GuardrailResult, error) {
			<-release
			return agent.GuardrailResult{Tripped: true, Message: "off topic", Info: 0.9}, nil
		}},
	}})
	go func() { time.Sleep(30 * time.Millisecond); close(release) }()
	var tripped *agent.TripwireError
	var kinds []agent.EventKind
	for ev, err := range a.Stream(t.Context(), "tell me a joke") {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == agent.EventGuardrailTripped {
			tripped = ev.Tripwire
		}
		if ev.Kind == agent.EventRunCompleted {
			var tw *agent.TripwireError
			require.ErrorAs(t, err, &tw)
			assert.Equal(t, "topic", tw.Guardrail)
			assert.Equal(t, "input", tw.Kind)
			assert.Equal(t, 0.9, tw.Info)
		}
	}
	require.NotNil(t, tripped)
	assert.False(t, toolRan.Load(), "no tool runs before the input guardrails pass")
	assert.NotContains(t, kinds, agent.EventToolStarted)
}

// Output guardrails check the final text; tool guardrails refuse a call,
// replace an output, or end the run.
func TestOutputAndToolGuardrails(t *testing.T) {
	t.Run("output", func(t *testing.T) {
		srv := rt.New(t, rt.Output(rt.Text("the password is hunter2")))
		a := agent.New(client(srv), "m", &agent.Options{OutputGuardrails: []agent.OutputGuardrail{{Name: "secrets",
			Check: func(ctx context.Context, res *agent.Result) (agent.GuardrailResult, error) {
				return agent.GuardrailResult{Tripped: strings.Contains(res.Text, "password")}, nil
			}}}})
		res, err := a.Run(t.Context(), "x")
		var tw *agent.TripwireError
		require.ErrorAs(t, err, &tw)
		assert.Equal(t, "secrets", tw.Guardrail)
		assert.Equal(t, "done", res.StopReason)
	})
	t.Run("output guardrail error is not a trip", func(t *testing.T) {
		srv := rt.New(t, rt.Output(rt.Text("hi")))
		boom := errors.New("classifier down")
		a := agent.New(client(srv), "m", &agent.Options{OutputGuardrails: []agent.OutputGuardrail{{Name: "c",
			Check: func(ctx context.Context, res *agent.Result) (agent.GuardrailResult, error) {
				return agent.GuardrailResult{}, boom
			}}}})
		_, err := a.Run(t.Context(), "x")
		require.ErrorIs(t, err, boom)
		var tw *agent.TripwireError
		assert.False(t, errors.As(err, &tw))
	})
	t.Run("tool: reject, replace, end", func(t *testing.T) {
		srv := rt.New(t,
			rt.Output(rt.FunctionCall("c1", "rm", `{}`), rt.FunctionCall("c2", "cat", `{}`)),
			rt.Output(rt.FunctionCall("c3", "launch", `{}`)),
			rt.Output(rt.Text("never")),
		)
		var rmRan, launchRan atomic.Bool
		a := agent.New(client(srv), "m", &agent.Options{
			Tools: []tools.Tool{
				function.New("rm", "rm", func(ctx context.Context, in struct{}) (string, error) { rmRan.Store(true); return "", nil }, nil),
				function.New("cat", "cat", func(ctx context.Context, in struct{}) (string, error) { return "SECRET=1", nil }, nil),
				function.New("launch", "launch", func(ctx context.Context, in struct{}) (string, error) { launchRan.Store(true); return "", nil }, nil),
			},
			ToolGuardrails: []agent.ToolGuardrail{{
				Name: "policy",
				Before: func(ctx context.Context, call tools.Call) (agent.ToolCheck, error) {
					switch call.Name {
					case "rm":
						return agent.ToolCheck{Verdict: agent.ToolReject, Message: "rm is not allowed"}, nil
					case "launch":
						return agent.ToolCheck{Verdict: agent.ToolEndRun, Message: "no launches"}, nil
					}
					return agent.ToolCheck{}, nil
				},
				After: func(ctx context.Context, call tools.Call, out responses.Item) (agent.ToolCheck, error) {
					if strings.Contains(string(out.Raw()), "SECRET") {
						return agent.ToolCheck{Verdict: agent.ToolReplace, Output: tools.TextOutput(call, "[redacted]", false)}, nil
					}
					return agent.ToolCheck{}, nil
				},
			}},
		})
		res, err := a.Run(t.Context(), "x")
		var tw *agent.TripwireError
		require.ErrorAs(t, err, &tw)
		assert.Equal(t, "tool", tw.Kind)
		assert.False(t, rmRan.Load())
		assert.False(t, launchRan.Load())
		in := input(t, served(srv)[1])
		assert.Contains(t, in[0], "rm is not allowed")
		assert.Contains(t, in[1], "[redacted]")
		assert.Len(t, served(srv), 2, "the run ended before a third request")
		require.NotNil(t, res.State)
		assert.Len(t, res.State.Input, 1, "the refused launch's output is kept for later")
	})
}
