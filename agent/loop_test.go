package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
	"github.com/agentloop/agentloop/tools/shell"
)

func TestMain(m *testing.M) {
	shell.RunSandboxHelperIfRequested() // sandboxed commands re-execute this binary
	goleak.VerifyTestMain(m)
}

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

type echoArgs struct {
	Text string `json:"text"`
}

func addTool() tools.Tool {
	return function.New("add", "Add two integers.", func(ctx context.Context, in addArgs) (int, error) {
		return in.A + in.B, nil
	}, nil)
}

func echoTool(opts *function.Options) tools.Tool {
	return function.New("echo", "Echo text.", func(ctx context.Context, in echoArgs) (string, error) {
		return in.Text, nil
	}, opts)
}

// client returns a client for srv with tiny retry delays.
func client(srv *rt.Server) *responses.Client {
	return responses.NewClient(&responses.ClientOptions{
		Provider: responses.Compatible, BaseURL: srv.URL, APIKey: "test-key",
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond,
	})
}

// input returns the input items of a recorded request as compact JSON.
func input(t *testing.T, r rt.Request) []string {
	t.Helper()
	var out []string
	if r.Params.Input.Items == nil {
		return []string{r.Params.Input.Text}
	}
	for _, it := range r.Params.Input.Items {
		out = append(out, string(it.Raw()))
	}
	return out
}

func fnOutput(callID, output string) string {
	return string(responses.MustJSON(responses.FunctionCallOutput{Type: "function_call_output", CallID: callID, Output: responses.MustJSON(output)}))
}

func userMsg(text string) string {
	return string(responses.UserMessage(text).Raw())
}

// createRequests returns the create requests that got a response.
func served(srv *rt.Server) []rt.Request {
	var out []rt.Request
	for _, r := range srv.Requests() {
		if r.StatusCode == 200 {
			out = append(out, r)
		}
	}
	return out
}

func TestLoopScenarios(t *testing.T) {
	type check func(t *testing.T, srv *rt.Server, res *agent.Result, err error)
	slowTool := function.New("slow", "Sleeps.", func(ctx context.Context, in struct{}) (string, error) {
		select {
		case <-time.After(10 * time.Second):
			return "woke", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}, &function.Options{Timeout: 50 * time.Millisecond})
	panicky := function.New("boom", "Panics.", func(ctx context.Context, in struct{}) (string, error) {
		panic("kaboom")
	}, nil)

	for _, tc := range []struct {
		name   string
		script []rt.Turn
		opts   agent.Options
		prompt string
		check  check
		// streamOnly: the case is about the event stream (a cut after
		// an item), which a JSON reply does not have.
		streamOnly bool
	}{
		{
			name:   "text only",
			script: []rt.Turn{rt.Output(rt.Text("Hello there."))},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, "Hello there.", res.Text)
				assert.Equal(t, 1, res.Turns)
				reqs := served(srv)
				require.Len(t, reqs, 1)
				assert.Equal(t, []string{userMsg("hi")}, input(t, reqs[0]))
				assert.Empty(t, reqs[0].Params.PreviousResponseID)
				assert.Equal(t, "test-model", reqs[0].Params.Model)
				assert.Equal(t, "Be brief.", reqs[0].Params.Instructions)
				assert.Nil(t, reqs[0].Params.Store, "store is not sent in chained mode")
			},
		},
		{
			name: "one call",
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "add", `{"a":2,"b":3}`)),
				rt.Output(rt.Text("5")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, "5", res.Text)
				assert.Equal(t, 2, res.Turns)
				assert.Equal(t, 1, res.ToolCalls)
				reqs := served(srv)
				require.Len(t, reqs, 2)
				assert.Equal(t, reqs[0].ResponseID, reqs[1].Params.PreviousResponseID)
				assert.Equal(t, []string{fnOutput("call_1", "5")}, input(t, reqs[1]))
				// Per-request settings are resent on every turn.
				for _, r := range reqs {
					assert.Equal(t, "Be brief.", r.Params.Instructions)
					require.Len(t, r.Params.Tools, 2)
					assert.Equal(t, "add", r.Params.Tools[0].Name)
					require.NotNil(t, r.Params.ParallelToolCalls)
					assert.True(t, *r.Params.ParallelToolCalls)
					require.NotNil(t, r.Params.Temperature)
					assert.Equal(t, 0.0, *r.Params.Temperature)
				}
				assert.Equal(t, res.ResponseID, reqs[1].ResponseID)
			},
		},
		{
			name: "8 parallel calls",
			script: func() []rt.Turn {
				var calls []responses.Item
				for i := range 8 {
					calls = append(calls, rt.FunctionCall(fmt.Sprintf("call_%d", i), "add", fmt.Sprintf(`{"a":%d,"b":100}`, i)))
				}
				return []rt.Turn{rt.Output(calls...), rt.Output(rt.Text("done"))}
			}(),
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, 8, res.ToolCalls)
				reqs := served(srv)
				require.Len(t, reqs, 2)
				var want []string
				for i := range 8 {
					want = append(want, fnOutput(fmt.Sprintf("call_%d", i), fmt.Sprint(i+100)))
				}
				assert.Equal(t, want, input(t, reqs[1]), "outputs in call order")
			},
		},
		{
			name: "3 chained turns",
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_a", "add", `{"a":1,"b":1}`)),
				rt.Output(rt.FunctionCall("call_b", "echo", `{"text":"x"}`)),
				rt.Output(rt.FunctionCall("call_c", "add", `{"a":2,"b":2}`)),
				rt.Output(rt.Text("all done")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, 4, res.Turns)
				reqs := served(srv)
				require.Len(t, reqs, 4)
				assert.Empty(t, reqs[0].Params.PreviousResponseID)
				for i := 1; i < 4; i++ {
					assert.Equal(t, reqs[i-1].ResponseID, reqs[i].Params.PreviousResponseID)
					assert.Len(t, reqs[i].Params.Input.Items, 1, "only new items are sent when chaining")
				}
				assert.Equal(t, []string{fnOutput("call_b", "x")}, input(t, reqs[2]))
				assert.Equal(t, []string{fnOutput("call_c", "4")}, input(t, reqs[3]))
				// Result items: call, output, call, output, call, output, message.
				require.Len(t, res.Items, 7)
				assert.Equal(t, responses.TypeMessage, res.Items[6].Type)
			},
		},
		{
			name: "stateless mode",
			opts: agent.Options{Stateless: true},
			script: []rt.Turn{
				rt.Output(rt.Reasoning("thinking", "enc-1"), rt.FunctionCall("call_1", "add", `{"a":2,"b":2}`)),
				rt.Output(rt.Text("4")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				reqs := served(srv)
				require.Len(t, reqs, 2)
				for _, r := range reqs {
					require.NotNil(t, r.Params.Store)
					assert.False(t, *r.Params.Store)
					assert.Contains(t, r.Params.Include, "reasoning.encrypted_content")
					assert.Empty(t, r.Params.PreviousResponseID)
				}
				in := input(t, reqs[1])
				require.Len(t, in, 4)
				assert.Equal(t, userMsg("hi"), in[0])
				assert.Contains(t, in[1], `"encrypted_content":"enc-1"`, "reasoning item resent in place")
				assert.Contains(t, in[2], `"call_id":"call_1"`)
				assert.Equal(t, fnOutput("call_1", "4"), in[3])
				require.Len(t, res.Transcript, 5)
			},
		},
		{
			name: "429 then success",
			script: []rt.Turn{
				rt.Reply{Output: []responses.Item{rt.Text("ok")}, Faults: []rt.Fault{rt.RateLimited(20 * time.Millisecond)}},
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, "ok", res.Text)
				all := srv.Requests()
				require.Len(t, all, 2)
				assert.Equal(t, 429, all[0].StatusCode)
				assert.Equal(t, string(all[0].Body), string(all[1].Body), "the retry resends the same request")
			},
		},
		{
			name: "500 then success",
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
				rt.Reply{Output: []responses.Item{rt.Text("3")}, Faults: []rt.Fault{rt.ServerError(500)}},
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, "3", res.Text)
				all := srv.Requests()
				require.Len(t, all, 3)
				assert.Equal(t, 500, all[1].StatusCode)
				assert.Equal(t, []string{fnOutput("call_1", "3")}, input(t, all[2]))
			},
		},
		{
			name: "stream cut before the call item is retried",
			script: []rt.Turn{
				rt.Reply{Output: []responses.Item{rt.FunctionCall("call_1", "add", `{"a":1,"b":1}`)}, Faults: []rt.Fault{rt.CutBeforeItemDone(0)}},
				rt.Output(rt.Text("2")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, "2", res.Text)
				assert.Equal(t, 1, res.ToolCalls, "the call ran once")
				reqs := served(srv)
				require.Len(t, reqs, 3, "cut attempt, retry, next turn")
				assert.Equal(t, reqs[1].ResponseID, reqs[2].Params.PreviousResponseID)
				assert.Equal(t, []string{fnOutput("call_1", "2")}, input(t, reqs[2]))
			},
		},
		{
			name:       "stream cut after the call item ends the run",
			streamOnly: true,
			script: []rt.Turn{
				rt.Reply{Output: []responses.Item{rt.FunctionCall("call_1", "add", `{"a":1,"b":1}`), rt.Text("x")}, Faults: []rt.Fault{rt.CutAfterItemDone(0)}},
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				var se *responses.StreamError
				require.ErrorAs(t, err, &se)
				assert.True(t, se.OutputDelivered)
				require.NotNil(t, res)
				assert.Len(t, srv.Requests(), 1, "not retried: the call had started")
			},
		},
		{
			name: "malformed arguments",
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "add", `{"a":1,`)),
				rt.Output(rt.FunctionCall("call_2", "add", `{"a":"one","b":2}`)),
				rt.Output(rt.Text("sorry")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				reqs := served(srv)
				require.Len(t, reqs, 3)
				in := input(t, reqs[1])
				require.Len(t, in, 1)
				assert.Contains(t, in[0], `"call_id":"call_1"`)
				assert.Contains(t, in[0], "invalid")
				in = input(t, reqs[2])
				assert.Contains(t, in[0], `"call_id":"call_2"`)
				assert.Contains(t, in[0], "error: ")
			},
		},
		{
			name: "unknown tool",
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "rm_rf", `{}`)),
				rt.Output(rt.Text("ok")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				reqs := served(srv)
				require.Len(t, reqs, 2)
				assert.Equal(t, []string{fnOutput("call_1", `error: unknown tool "rm_rf"; available tools: add, echo`)}, input(t, reqs[1]))
				assert.Equal(t, 0, res.ToolCalls)
			},
		},
		{
			name: "tool panic",
			opts: agent.Options{Tools: []tools.Tool{panicky}},
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "boom", `{}`)),
				rt.Output(rt.Text("recovered")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, "recovered", res.Text)
				in := input(t, served(srv)[1])
				require.Len(t, in, 1)
				assert.Contains(t, in[0], "error: ")
				assert.NotContains(t, in[0], "goroutine", "no stack reaches the model")
			},
		},
		{
			name: "tool timeout",
			opts: agent.Options{Tools: []tools.Tool{slowTool}},
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "slow", `{}`)),
				rt.Output(rt.Text("too slow")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				in := input(t, served(srv)[1])
				require.Len(t, in, 1)
				assert.Contains(t, in[0], "error: ")
				assert.Contains(t, strings.ToLower(in[0]), "timed out")
			},
		},
		{
			name: "max turns",
			opts: agent.Options{MaxTurns: 2},
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "add", `{"a":1,"b":1}`)),
				rt.Output(rt.FunctionCall("call_2", "add", `{"a":1,"b":1}`)),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.ErrorIs(t, err, agent.ErrMaxTurns)
				require.NotNil(t, res)
				assert.Equal(t, 2, res.Turns)
				assert.Equal(t, 2, res.ToolCalls)
				require.NotNil(t, res.State, "the partial result can be continued")
				assert.Len(t, res.State.Input, 1)
				assert.Len(t, served(srv), 2)
			},
		},
		{
			name: "approval denied",
			opts: agent.Options{
				Tools: []tools.Tool{echoTool(&function.Options{NeedsApproval: function.Always})},
				Approver: agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
					return agent.Deny("not today"), nil
				}),
			},
			script: []rt.Turn{
				rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"secret"}`)),
				rt.Output(rt.Text("understood")),
			},
			check: func(t *testing.T, srv *rt.Server, res *agent.Result, err error) {
				require.NoError(t, err)
				assert.Equal(t, 0, res.ToolCalls)
				assert.Equal(t, []string{fnOutput("call_1", "The call was declined: not today")}, input(t, served(srv)[1]))
			},
		},
	} {
		// Streamed, the calls start as their items arrive; over JSON, they
		// are scheduled on the run's goroutine once the response is whole.
		for _, streaming := range []bool{true, false} {
			name := tc.name
			if !streaming {
				if tc.streamOnly {
					continue
				}
				name += " (JSON)"
			}
			t.Run(name, func(t *testing.T) {
				srv := rt.New(t, tc.script...)
				opts := tc.opts
				if opts.Tools == nil {
					opts.Tools = []tools.Tool{addTool(), echoTool(nil)}
				}
				opts.Instructions = "Be brief."
				opts.Request.Temperature = responses.Ptr(0.0)
				opts.DisableStreaming = !streaming
				a := agent.New(client(srv), "test-model", &opts)
				prompt := tc.prompt
				if prompt == "" {
					prompt = "hi"
				}
				res, err := a.Run(t.Context(), prompt)
				tc.check(t, srv, res, err)
				assert.Equal(t, streaming, served(srv)[0].Params.Stream)
			})
		}
	}
}

func TestLoopNonStreaming(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "add", `{"a":20,"b":22}`)),
		rt.Output(rt.Text("42")),
	)
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{addTool()}, DisableStreaming: true})
	res, err := a.Run(t.Context(), "add")
	require.NoError(t, err)
	assert.Equal(t, "42", res.Text)
	reqs := served(srv)
	require.Len(t, reqs, 2)
	assert.False(t, reqs[0].Params.Stream)
	assert.Equal(t, []string{fnOutput("call_1", "42")}, input(t, reqs[1]))
}

func TestLoopCancelMidTool(t *testing.T) {
	started := make(chan struct{})
	var finished atomic.Bool
	block := function.New("block", "Blocks until canceled.", func(ctx context.Context, in struct{}) (string, error) {
		close(started)
		<-ctx.Done()
		finished.Store(true)
		return "", ctx.Err()
	}, &function.Options{Timeout: -1})
	srv := rt.New(t, rt.Output(rt.FunctionCall("call_1", "block", `{}`)))
	// Non-streaming, so the response is complete before the tool starts
	// (when streaming, a cancel that lands before response.completed leaves
	// a turn to send again instead).
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{block}, DisableStreaming: true})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	begin := time.Now()
	res, err := a.Run(ctx, "go")
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(begin), 5*time.Second)
	assert.True(t, finished.Load(), "Run returned only after the tool returned")
	require.NotNil(t, res)
	assert.Len(t, srv.Requests(), 1)
	// The interrupted call still has an output, ready to send on resume.
	require.NotNil(t, res.State)
	assert.Equal(t, srv.Requests()[0].ResponseID, res.State.PreviousResponseID)
	require.Len(t, res.State.Input, 1)
	assert.Equal(t, "call_1", res.State.Input[0].CallID)
	assert.Contains(t, string(res.State.Input[0].Raw()), "Canceled")
}

func TestLoopDeferredApprovalResume(t *testing.T) {
	srv := rt.New(t,
		rt.Output(
			rt.FunctionCall("call_1", "add", `{"a":1,"b":2}`),
			rt.FunctionCall("call_2", "echo", `{"text":"ship it"}`),
		),
		rt.Output(rt.Text("shipped")),
	)
	var ran atomic.Int32
	guarded := func() tools.Tool {
		return function.New("echo", "Echo text.", func(ctx context.Context, in echoArgs) (string, error) {
			ran.Add(1)
			return in.Text, nil
		}, &function.Options{NeedsApproval: function.Always})
	}
	deferAll := agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		return agent.Defer, nil
	})
	a1 := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{addTool(), guarded()}, Approver: deferAll})
	res, err := a1.Run(t.Context(), "deploy")
	require.NoError(t, err)
	assert.Equal(t, "pending_approval", res.StopReason)
	require.Len(t, res.Pending, 1)
	assert.Equal(t, "call_2", res.Pending[0].CallID)
	assert.Equal(t, "function", res.Pending[0].Request.Kind)
	assert.Equal(t, int32(0), ran.Load(), "a deferred call does not run")
	assert.Len(t, srv.Requests(), 1)

	b, err := json.Marshal(res.State)
	require.NoError(t, err)

	// A fresh agent, as in a new process.
	var st agent.RunState
	require.NoError(t, json.Unmarshal(b, &st))
	a2 := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{addTool(), guarded()}})
	res2, err := a2.Resume(t.Context(), &st, []agent.Decision{{CallID: "call_2", Approval: agent.Approve}})
	require.NoError(t, err)
	assert.Equal(t, "shipped", res2.Text)
	assert.Equal(t, int32(1), ran.Load())
	reqs := served(srv)
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].ResponseID, reqs[1].Params.PreviousResponseID)
	assert.Equal(t, []string{fnOutput("call_1", "3"), fnOutput("call_2", "ship it")}, input(t, reqs[1]))

	_, err = a2.Resume(t.Context(), &st, nil)
	require.Error(t, err, "a pending call without a decision")
}

func TestLoopApproveAlwaysRemembered(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"a"}`)),
		rt.Output(rt.FunctionCall("call_2", "echo", `{"text":"b"}`)),
		rt.Output(rt.Text("ok")),
	)
	var asked atomic.Int32
	a := agent.New(client(srv), "m", &agent.Options{
		Tools: []tools.Tool{echoTool(&function.Options{NeedsApproval: function.Always})},
		Approver: agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
			asked.Add(1)
			return agent.Approval{Approved: true, Always: true}, nil
		}),
	})
	res, err := a.Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, 2, res.ToolCalls)
	assert.Equal(t, int32(1), asked.Load())
}

func TestLoopHostedMCPApprovals(t *testing.T) {
	srv := rt.New(t,
		rt.Output(
			rt.MCPListTools("docs", "search", "delete"),
			rt.MCPApprovalRequest("mcpr_1", "docs", "search", `{"q":"go"}`),
			rt.MCPApprovalRequest("mcpr_2", "docs", "delete", `{"id":1}`),
		),
		rt.Output(rt.MCPCall("docs", "search", `{"q":"go"}`, "found"), rt.Text("done")),
	)
	a := agent.New(client(srv), "m", &agent.Options{
		Approver: agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
			if req.Tool == "docs/search" {
				return agent.Approve, nil
			}
			return agent.Deny("destructive"), nil
		}),
	})
	res, err := a.Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, "done", res.Text)
	reqs := served(srv)
	require.Len(t, reqs, 2)
	assert.Equal(t, []string{
		`{"type":"mcp_approval_response","approval_request_id":"mcpr_1","approve":true}`,
		`{"type":"mcp_approval_response","approval_request_id":"mcpr_2","approve":false,"reason":"destructive"}`,
	}, input(t, reqs[1]))
}

func TestLoopStreamEvents(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "add", `{"a":1,"b":1}`)),
		rt.Output(rt.Text("The answer is two.")),
	)
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{addTool()}})
	var kinds []agent.EventKind
	var text strings.Builder
	var finished *agent.ToolEvent
	for ev, err := range a.Stream(t.Context(), "x") {
		require.NoError(t, err)
		kinds = append(kinds, ev.Kind)
		switch ev.Kind {
		case agent.EventTextDelta:
			text.WriteString(ev.Delta)
		case agent.EventToolFinished:
			finished = ev.Tool
		}
	}
	assert.Equal(t, "The answer is two.", text.String())
	require.NotNil(t, finished)
	assert.Equal(t, agent.OutcomeOK, finished.Outcome)
	assert.Equal(t, "add", finished.Name)
	assert.Contains(t, kinds, agent.EventToolStarted)
	assert.Contains(t, kinds, agent.EventTurnCompleted)
	assert.Equal(t, agent.EventRunCompleted, kinds[len(kinds)-1])
}

func TestLoopFailedAndIncomplete(t *testing.T) {
	srv := rt.New(t, rt.Reply{Status: "failed", Error: &responses.ResponseError{Code: "invalid_prompt", Message: "no"}})
	a := agent.New(client(srv), "m", nil)
	_, err := a.Run(t.Context(), "x")
	var re *agent.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "failed", re.Status)
	assert.Equal(t, "invalid_prompt", re.Err.Code)

	srv = rt.New(t, rt.Reply{Status: "incomplete", IncompleteReason: "max_output_tokens", Output: []responses.Item{rt.Text("partial")}})
	a = agent.New(client(srv), "m", nil)
	res, err := a.Run(t.Context(), "x")
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "max_output_tokens", re.Reason)
	require.NotNil(t, res)
}

func TestLoopStopAtTool(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"final answer"}`)))
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{echoTool(nil)}, StopAtTools: []string{"echo"}})
	res, err := a.Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, "stop_tool", res.StopReason)
	assert.Equal(t, "final answer", res.Text)
}

func TestLoopTokenBudget(t *testing.T) {
	srv := rt.New(t,
		rt.Reply{Output: []responses.Item{rt.FunctionCall("call_1", "add", `{"a":1,"b":1}`)}, Usage: &responses.Usage{InputTokens: 900, OutputTokens: 200}},
	)
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{addTool()}, MaxTotalTokens: 1000})
	res, err := a.Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, "max_tokens", res.StopReason)
	assert.Equal(t, int64(1100), res.Usage.TotalTokens)
}

func TestNewPanicsOnDuplicateTools(t *testing.T) {
	assert.Panics(t, func() {
		agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{addTool(), addTool()}})
	})
}

func TestLoopConcurrencyLimits(t *testing.T) {
	var calls []responses.Item
	for i := range 6 {
		calls = append(calls, rt.FunctionCall(fmt.Sprintf("call_%d", i), "work", `{}`))
	}
	for _, tc := range []struct {
		name     string
		opts     agent.Options
		serial   bool
		wantPeak int32
	}{
		{"bounded by MaxParallel", agent.Options{MaxParallel: 2}, false, 2},
		{"serial tool runs alone", agent.Options{}, true, 1},
		{"parallel_tool_calls false", agent.Options{ParallelToolCalls: responses.Ptr(false)}, false, 1},
		{"default runs all six", agent.Options{}, false, 6},
	} {
		for _, streaming := range []bool{true, false} {
			name := tc.name
			if !streaming {
				name += " (JSON)"
			}
			tc.opts.DisableStreaming = !streaming
			t.Run(name, func(t *testing.T) { testConcurrencyLimit(t, calls, tc.opts, tc.serial, tc.wantPeak) })
		}
	}
}

func testConcurrencyLimit(t *testing.T, calls []responses.Item, opts agent.Options, serial bool, wantPeak int32) {
	var now, peak atomic.Int32
	work := function.New("work", "Works.", func(ctx context.Context, _ struct{}) (string, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		// Stay until as many calls as the limit allows are running
		// (a barrier, so a slow machine cannot hide the overlap),
		// then a little longer so a call beyond the limit would show.
		for deadline := time.Now().Add(5 * time.Second); now.Load() < wantPeak && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		return "ok", nil
	}, &function.Options{Serial: serial})
	srv := rt.New(t, rt.Output(calls...), rt.Output(rt.Text("done")))
	opts.Tools = []tools.Tool{work}
	res, err := agent.New(client(srv), "m", &opts).Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, 6, res.ToolCalls)
	assert.Equal(t, wantPeak, peak.Load())
	reqs := served(srv)
	require.Len(t, reqs, 2)
	require.Len(t, reqs[1].Params.Input.Items, 6)
	for i, it := range reqs[1].Params.Input.Items {
		assert.Equal(t, fmt.Sprintf("call_%d", i), it.CallID, "outputs in call order")
	}
	if opts.ParallelToolCalls != nil {
		assert.False(t, *reqs[0].Params.ParallelToolCalls, "parallel_tool_calls:false is sent")
	}
}

func TestLoopStreamRestartedDiscardsDeltas(t *testing.T) {
	srv := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("one two three four")}, Faults: []rt.Fault{rt.CutAfterEvents(6)}})
	a := agent.New(client(srv), "m", nil)
	var text strings.Builder
	restarts := 0
	for ev, err := range a.Stream(t.Context(), "x") {
		require.NoError(t, err)
		switch ev.Kind {
		case agent.EventStreamRestarted:
			restarts++
			text.Reset()
		case agent.EventTextDelta:
			text.WriteString(ev.Delta)
		}
	}
	assert.Equal(t, 1, restarts)
	assert.Equal(t, "one two three four", text.String())
	assert.Len(t, srv.Requests(), 2)
}

// replayClient is a transport that is not HTTP: it replays recorded streams.
type replayClient struct{ streams []string }

func (c *replayClient) Create(ctx context.Context, req *responses.Request) (*responses.Response, error) {
	return nil, errors.New("replayClient: streaming only")
}

func (c *replayClient) Compact(context.Context, *responses.CompactRequest) (*responses.Compaction, error) {
	return nil, errors.New("replayClient: no compaction")
}

func (c *replayClient) Stream(ctx context.Context, req *responses.Request) (*responses.Stream, error) {
	if len(c.streams) == 0 {
		return nil, errors.New("replayClient: no more recordings")
	}
	next := c.streams[0]
	c.streams = c.streams[1:]
	return responses.NewStream(ctx, strings.NewReader(next)), nil
}

func TestLoopOverAnotherTransport(t *testing.T) {
	ev := func(seq int, typ, body string) string {
		return fmt.Sprintf("event: %s\ndata: {\"type\":%q,\"sequence_number\":%d,%s}\n\n", typ, typ, seq, body)
	}
	call := `{"type":"function_call","id":"fc_1","call_id":"call_1","name":"add","arguments":"{\"a\":40,\"b\":2}","status":"completed"}`
	msg := `{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"42","annotations":[]}]}`
	c := &replayClient{streams: []string{
		ev(0, "response.output_item.done", `"output_index":0,"item":`+call) +
			ev(1, "response.completed", `"response":{"id":"resp_1","status":"completed","output":[`+call+`]}`),
		ev(0, "response.completed", `"response":{"id":"resp_2","status":"completed","output":[`+msg+`]}`),
	}}
	res, err := agent.New(c, "m", &agent.Options{Tools: []tools.Tool{addTool()}}).Run(t.Context(), "add")
	require.NoError(t, err)
	assert.Equal(t, "42", res.Text)
	assert.Equal(t, "resp_2", res.ResponseID)
	assert.Equal(t, 1, res.ToolCalls)
}

func TestOptionsApprovedSkipsTheApprover(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"a"}`)),
		rt.Output(rt.Text("ok")),
	)
	a := agent.New(client(srv), "m", &agent.Options{
		Tools:    []tools.Tool{echoTool(&function.Options{NeedsApproval: function.Always})},
		Approved: []string{"function:echo"}, // restored from a saved session
		Approver: agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
			t.Errorf("asked for %s although it was approved always", req.Key)
			return agent.Deny("no"), nil
		}),
	})
	res, err := a.Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, 1, res.ToolCalls)
	assert.Equal(t, []string{"function:echo"}, a.Approved())
}

// A shell call of a hosted container environment is run by the server,
// which answers it in the same output: the loop must neither run it nor
// answer it again.
func TestLoopLeavesHostedShellCallsToTheServer(t *testing.T) {
	srv := rt.New(t, rt.Output(
		rt.Raw(`{"type":"shell_call","id":"sh_h","call_id":"call_h","status":"completed","environment":{"type":"container_reference","container_id":"cntr_1"},"action":{"commands":["rm -rf /"],"timeout_ms":null,"max_output_length":null}}`),
		rt.Raw(`{"type":"shell_call_output","id":"sho_h","call_id":"call_h","status":"completed","output":[{"stdout":"","stderr":"","outcome":{"type":"exit","exit_code":0}}]}`),
		rt.Text("done in the container"),
	))
	var ran atomic.Int32
	local := tools.Tool(countingShell{&ran})
	res, err := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{local}}).Run(t.Context(), "x")
	require.NoError(t, err)
	assert.Equal(t, "done in the container", res.Text)
	assert.Equal(t, int32(0), ran.Load(), "a hosted call never runs locally")
	assert.Len(t, srv.Requests(), 1, "nothing left to answer")
}

// countingShell is a local shell tool that counts its calls.
type countingShell struct{ n *atomic.Int32 }

func (c countingShell) Definition() responses.ToolDefinition {
	return responses.MustToolDefinition(map[string]any{"type": "shell", "environment": map[string]string{"type": "local"}})
}

func (c countingShell) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	c.n.Add(1)
	return tools.TextOutput(call, "ran", false), nil
}
