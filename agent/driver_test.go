package agent_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// Two stop-at tools run in parallel and the second finishes first: the
// run's text is the first call's output, every time.
func TestStopAtToolsInCallOrder(t *testing.T) {
	for i := range 100 {
		secondDone := make(chan struct{})
		first := function.New("first", "First.", func(ctx context.Context, in struct{}) (string, error) {
			select {
			case <-secondDone:
			case <-ctx.Done():
			}
			return "from first", nil
		}, nil)
		second := function.New("second", "Second.", func(ctx context.Context, in struct{}) (string, error) {
			defer close(secondDone)
			return "from second", nil
		}, nil)
		srv := rt.New(t, rt.Output(rt.FunctionCall("call_1", "first", `{}`), rt.FunctionCall("call_2", "second", `{}`)))
		a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{first, second}, StopAtTools: []string{"first", "second"}})
		res, err := a.Run(t.Context(), "go")
		require.NoError(t, err)
		require.Equal(t, "stop_tool", res.StopReason)
		require.Equal(t, "from first", res.Text, "run %d", i)
		srv.Close()
	}
}

type ctxKey struct{}

// The seam: a Run middleware's context reaches the model's HTTP request
// and the tools; Model and Tool middleware see every call, its result and
// outcome, and may refuse.
func TestMiddleware(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	note := func(s string) { mu.Lock(); seen = append(seen, s); mu.Unlock() }

	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"hi"}`), rt.FunctionCall("call_2", "guarded", `{}`)),
		rt.Output(rt.Text("done")),
	)
	var httpSawValue bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Context().Value(ctxKey{}) == "run-span" {
			mu.Lock()
			httpSawValue = true
			mu.Unlock()
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, APIKey: "k", HTTPClient: hc})

	var toolSawValue bool
	echo := function.New("echo", "Echo.", func(ctx context.Context, in echoArgs) (string, error) {
		toolSawValue = ctx.Value(ctxKey{}) == "run-span"
		return in.Text, nil
	}, nil)
	guardedRan := false
	guarded := function.New("guarded", "Refused by a guardrail.", func(ctx context.Context, in struct{}) (string, error) {
		guardedRan = true
		return "ran", nil
	}, nil)

	var firstDelta int
	mw := agent.Middleware{
		Event: func(ctx context.Context, ev *agent.Event) {
			if ctx.Value(ctxKey{}) != "run-span" {
				note("event without the run's context")
			}
			if ev.Kind == agent.EventTextDelta {
				firstDelta++
			}
		},
		Run: func(next agent.RunHandler) agent.RunHandler {
			return func(ctx context.Context, info *agent.RunInfo) (*agent.Result, error) {
				note("run start " + info.Model)
				res, err := next(context.WithValue(ctx, ctxKey{}, "run-span"), info)
				note("run end " + res.StopReason)
				return res, err
			}
		},
		Model: func(next agent.ModelHandler) agent.ModelHandler {
			return func(ctx context.Context, call *agent.ModelCall) (*responses.Response, error) {
				resp, err := next(ctx, call)
				note("model " + resp.ID)
				return resp, err
			}
		},
		Tool: func(next agent.ToolHandler) agent.ToolHandler {
			return func(ctx context.Context, call tools.Call) (responses.Item, error) {
				if call.Name == "guarded" {
					note("refused " + call.CallID)
					return responses.Item{}, errors.Join(errors.New("guardrail: not allowed"), tools.ErrDenied)
				}
				out, err := next(ctx, call)
				note("tool " + call.CallID + " " + string(tools.OutcomeOf(err)))
				return out, err
			}
		},
	}
	a := agent.New(c, "m", &agent.Options{Tools: []tools.Tool{echo, guarded}, Middleware: []agent.Middleware{mw}, MaxParallel: 1})
	var outcomes = map[string]agent.Outcome{}
	for ev, err := range a.Stream(t.Context(), "go") {
		require.NoError(t, err)
		if ev.Kind == agent.EventToolFinished {
			outcomes[ev.Tool.CallID] = ev.Tool.Outcome
		}
	}
	assert.True(t, httpSawValue, "the model's HTTP request carries the run middleware's context")
	assert.Positive(t, firstDelta, "the Event hook sees the text deltas")
	assert.True(t, toolSawValue, "tools get the run middleware's context")
	assert.False(t, guardedRan, "a refused call never runs")
	assert.Equal(t, map[string]agent.Outcome{"call_1": agent.OutcomeOK, "call_2": agent.OutcomeDenied}, outcomes)
	require.Len(t, seen, 6)
	assert.Equal(t, "run start m", seen[0])
	// Calls start while the response streams: the first model call and
	// the tools may end in any order.
	assert.ElementsMatch(t, []string{"tool call_1 ok", "refused call_2", "model resp_1"}, seen[1:4])
	assert.Equal(t, []string{"model resp_2", "run end done"}, seen[4:])
	reqs := served(srv)
	require.Len(t, reqs, 2)
	assert.Contains(t, input(t, reqs[1])[1], "guardrail: not allowed")
}

// A Model middleware that refuses ends the run with its error.
func TestMiddlewareRefusesModelCall(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.Text("never")))
	refused := errors.New("input guardrail tripped")
	a := agent.New(client(srv), "m", &agent.Options{Middleware: []agent.Middleware{{
		Model: func(next agent.ModelHandler) agent.ModelHandler {
			return func(ctx context.Context, call *agent.ModelCall) (*responses.Response, error) {
				return nil, refused
			}
		},
	}}})
	res, err := a.Run(t.Context(), "go")
	require.ErrorIs(t, err, refused)
	require.NotNil(t, res)
	assert.Empty(t, srv.Requests())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// One continuation value: a finished run's State continues the
// conversation in a new Agent, chained or stateless.
func TestWithState(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		srv := rt.New(t, rt.Output(rt.Text("one")), rt.Output(rt.Text("two")))
		opts := &agent.Options{Stateless: stateless}
		res, err := agent.New(client(srv), "m", opts).Run(t.Context(), "first")
		require.NoError(t, err)
		st := roundTrip(t, res.State)
		res2, err := agent.New(client(srv), "m", opts).Run(t.Context(), "second", agent.WithState(st))
		require.NoError(t, err)
		assert.Equal(t, "two", res2.Text)
		reqs := served(srv)
		require.Len(t, reqs, 2)
		if stateless {
			assert.Len(t, input(t, reqs[1]), 3, "the transcript, then the new prompt")
		} else {
			assert.Equal(t, res.ResponseID, reqs[1].Params.PreviousResponseID)
		}
	}
}

// A stream cut after a complete message item (nothing to act on) is asked
// for again: the consumer is told to drop what it showed, and the Result's
// text is the answer once.
func TestCutAfterMessageNotDoubled(t *testing.T) {
	srv := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("partial answer")}, Faults: []rt.Fault{rt.CutAfterItemDone(0)}})
	a := agent.New(client(srv), "m", nil)
	var text strings.Builder
	for ev, err := range a.Stream(t.Context(), "x") {
		require.NoError(t, err)
		switch ev.Kind {
		case agent.EventStreamRestarted:
			text.Reset()
		case agent.EventTextDelta:
			text.WriteString(ev.Delta)
		case agent.EventRunCompleted:
			assert.Equal(t, "partial answer", ev.Result.Text)
		}
	}
	assert.Equal(t, "partial answer", text.String())
}

// The client's retries and the loop's re-asks share one budget per turn: a
// stream that always breaks after output costs MaxRetries+1 requests, not
// their product.
func TestRetriesDoNotStack(t *testing.T) {
	early, late := rt.CutAfterEvents(1), rt.CutAfterItemDone(0) // the client retries the first, the loop the second
	srv := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("x")}, Faults: []rt.Fault{early, early, late, early, early, late, early, early, late}})
	a := agent.New(client(srv), "m", nil) // MaxRetries: the default 2
	_, err := a.Run(t.Context(), "x")
	var se *responses.StreamError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 3, len(srv.Requests()), "requests sent for the turn")
}

// A conversation stopped by a budget with outputs unsent goes on with a
// new prompt: the outputs go first, so the chain stays valid.
func TestWithStateSendsUnsentOutputs(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)), rt.Output(rt.Text("ok")))
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{echoTool(nil)}, MaxTotalTokens: 1})
	res, err := a.Run(t.Context(), "first")
	require.NoError(t, err)
	require.Equal(t, "max_tokens", res.StopReason)
	b := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{echoTool(nil)}})
	_, err = b.Run(t.Context(), "second", agent.WithState(roundTrip(t, res.State)))
	require.NoError(t, err)
	in := input(t, served(srv)[1])
	require.Len(t, in, 2)
	assert.Equal(t, fnOutput("c1", "a"), in[0])
	assert.Equal(t, userMsg("second"), in[1])
}
