package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// The tests of this file drive the Machine alone: no server, no goroutine,
// no clock. sim is a synchronous driver whose model, tools and approver are
// plain functions of the test.

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

type sim struct {
	t     testing.TB
	m     *agent.Machine
	tools []agent.ToolInfo
	now   time.Time

	// model answers request n (from 0).
	model func(n int, req *responses.Request) *responses.Response
	// tool answers a call.
	tool func(call tools.Call) (responses.Item, error)
	// review gives a tool's verdict.
	review func(call tools.Call) tools.Review
	// approve answers the approver.
	approve func(req tools.ApprovalRequest) agent.Approval
	// order permutes the calls of a turn before they are reported done
	// (the finishing order); nil keeps call order.
	order func(n int) []int
	// cancelAfter ends the run's context once that many calls have run.
	cancelAfter int
	// streamBreaks makes the first n requests break after output.
	streamBreaks int
	// tick is added to the clock at every turn.
	tick time.Duration

	requests []*responses.Request
	handoffs []agent.HandOff
	events   []agent.Event
	actions  []string // a trace of every action, for determinism checks
	ran      int
	canceled bool
}

func (s *sim) defaults() {
	if s.tool == nil {
		s.tool = func(call tools.Call) (responses.Item, error) {
			return tools.TextOutput(call, "ok "+call.CallID, false), nil
		}
	}
	if s.approve == nil {
		s.approve = func(tools.ApprovalRequest) agent.Approval { return agent.Approve }
	}
	if s.now.IsZero() {
		s.now = t0
	}
}

// run performs acts until Finish and returns it.
func (s *sim) run(acts []agent.Action) agent.Finish {
	s.defaults()
	var calls []agent.Action // call actions of the turn, performed at its end
	for steps := 0; steps < 10000; steps++ {
		if len(acts) == 0 {
			if len(calls) == 0 {
				s.t.Fatalf("the machine stopped with nothing to do")
			}
			acts = s.performCalls(&calls)
			continue
		}
		act := acts[0]
		acts = acts[1:]
		if act == nil {
			continue // a silent Machine's event
		}
		s.actions = append(s.actions, traceOf(act))
		switch a := act.(type) {
		case agent.Emit:
			s.events = append(s.events, a.Event)
		case agent.Finish:
			return a
		case agent.ListTools:
			acts = append(acts, s.m.Step(s.now, agent.ToolsListed{Tools: s.tools})...)
		case agent.HandOff:
			s.handoffs = append(s.handoffs, a)
			acts = append(acts, s.m.Step(s.now, agent.HandedOff{Config: agent.Config{Agent: a.To, Model: "model-" + a.To}})...)
		case agent.Compact:
			out := []responses.Item{responses.UserMessage("first"), responses.MustItem(map[string]string{"type": "compaction", "id": "cmp_1", "encrypted_content": "x"})}
			acts = append(acts, s.m.Step(s.now, agent.Compacted{Output: out, Usage: &responses.Usage{InputTokens: 5}})...)
		case agent.SendRequest:
			s.requests = append(s.requests, a.Request)
			if s.streamBreaks > 0 {
				s.streamBreaks--
				acts = append(acts, s.m.Step(s.now, agent.RequestFailed{Err: &responses.StreamError{Err: errors.New("cut")}, StreamBroke: true})...)
				continue
			}
			resp := s.model(len(s.requests)-1, a.Request)
			s.now = s.now.Add(s.tick)
			acts = append(acts, s.m.Step(s.now, agent.ResponseDone{Response: resp})...)
			if len(acts) == 0 || isCallAction(acts) {
				calls = append(calls, acts...)
				acts = s.performCalls(&calls)
				var err error
				if s.canceled {
					err = context.Canceled
				}
				acts = append(acts, s.m.Step(s.now, agent.TurnEnded{Err: err})...)
			}
		default:
			calls = append(calls, act)
			if len(acts) == 0 {
				// Calls of a resumed turn.
				acts = s.performCalls(&calls)
				var err error
				if s.canceled {
					err = context.Canceled
				}
				acts = append(acts, s.m.Step(s.now, agent.TurnEnded{Err: err})...)
			}
		}
	}
	s.t.Fatal("no Finish after 10000 actions")
	return agent.Finish{}
}

func isCallAction(acts []agent.Action) bool {
	for _, a := range acts {
		switch a.(type) {
		case agent.ReviewCall, agent.AskApproval, agent.RunCall, agent.DeclineCall, agent.Emit, nil:
		default:
			return false
		}
	}
	return true
}

// performCalls performs the queued call actions until none is left:
// reviews and approvals in order, then the runs in the finishing order.
// Events go to s.events; it returns nothing but emits.
func (s *sim) performCalls(queue *[]agent.Action) []agent.Action {
	var runs []agent.RunCall
	for len(*queue) > 0 {
		act := (*queue)[0]
		*queue = (*queue)[1:]
		if act != nil { // nil: a silent Machine's event
			s.actions = append(s.actions, traceOf(act))
		}
		var more []agent.Action
		switch a := act.(type) {
		case agent.Emit:
			s.events = append(s.events, a.Event)
		case agent.ReviewCall:
			more = s.m.Step(s.now, agent.Reviewed{CallID: a.Call.CallID, Review: s.review(a.Call)})
		case agent.AskApproval:
			more = s.m.Step(s.now, agent.Approved{CallID: a.CallID, Approval: s.approve(a.Request)})
		case agent.DeclineCall:
			more = s.m.Step(s.now, agent.CallDone{CallID: a.Call.CallID, Output: tools.TextOutput(a.Call, "declined by tool: "+a.Reason, true)})
		case agent.RunCall:
			runs = append(runs, a)
		}
		*queue = append(*queue, more...)
		if len(*queue) == 0 && len(runs) > 0 {
			idx := make([]int, len(runs))
			for i := range idx {
				idx[i] = i
			}
			if s.order != nil {
				idx = s.order(len(runs))
			}
			for _, i := range idx {
				a := runs[i]
				var done agent.CallDone
				if s.canceled {
					done = agent.CallDone{CallID: a.Call.CallID, Canceled: true, NotRun: true}
				} else {
					out, err := s.tool(a.Call)
					s.ran++
					done = agent.CallDone{CallID: a.Call.CallID, Output: out, Err: err, Duration: time.Millisecond}
					if s.cancelAfter > 0 && s.ran >= s.cancelAfter {
						s.canceled = true
					}
				}
				*queue = append(*queue, s.m.Step(s.now, done)...)
			}
			runs = nil
		}
	}
	return nil
}

func traceOf(act agent.Action) string {
	switch a := act.(type) {
	case agent.Emit:
		ev := a.Event
		ev.Time = time.Time{}
		if ev.Tool != nil {
			tc := *ev.Tool
			tc.Err = nil
			ev.Tool = &tc
		}
		b, _ := json.Marshal(ev)
		return "emit " + string(b)
	case agent.SendRequest:
		b, _ := json.Marshal(a.Request)
		return "send " + string(b)
	case agent.Finish:
		b, _ := json.Marshal(a.Result)
		return fmt.Sprintf("finish %s %v", b, a.Err)
	case agent.RunCall:
		approved, _ := json.Marshal(a.Call.Approved)
		return fmt.Sprintf("run %s exclusive=%v approved=%s resume=%v", a.Call.Item.Raw(), a.Exclusive, approved, a.Resume != nil)
	}
	return fmt.Sprintf("%T %+v", act, act)
}

// Script helpers.

func fcall(id, name, args string) responses.Item {
	return responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, ID: "fc_" + id, CallID: id, Name: name, Arguments: args, Status: "completed"})
}

func textResp(id, text string) *responses.Response {
	return &responses.Response{ID: id, Status: responses.StatusCompleted, Output: []responses.Item{responses.MustItem(responses.Message{
		Type: responses.TypeMessage, ID: "msg_" + id, Role: "assistant", Status: "completed",
		Content: responses.MustJSON([]responses.ContentPart{{Type: "output_text", Text: text}}),
	})}, Usage: &responses.Usage{InputTokens: 10, OutputTokens: 5, TotalTokens: 15}}
}

func callsResp(id string, calls ...responses.Item) *responses.Response {
	return &responses.Response{ID: id, Status: responses.StatusCompleted, Output: calls, Usage: &responses.Usage{InputTokens: 10, OutputTokens: 5, TotalTokens: 15}}
}

func fnTool(name string) agent.ToolInfo {
	return agent.ToolInfo{Definition: responses.ToolDefinition{Type: "function", Name: name}}
}

// script answers requests in order.
func script(resps ...*responses.Response) func(int, *responses.Request) *responses.Response {
	return func(n int, _ *responses.Request) *responses.Response {
		if n >= len(resps) {
			return textResp(fmt.Sprintf("resp_extra_%d", n), "extra")
		}
		return resps[n]
	}
}

func inputOf(t testing.TB, req *responses.Request) []responses.Item {
	return req.Input.Items
}

func outputKeys(items []responses.Item) []string {
	var keys []string
	for _, it := range items {
		if it.IsOutput() {
			keys = append(keys, it.OutputKey())
		}
	}
	return keys
}

func eventKinds(evs []agent.Event) []agent.EventKind {
	var k []agent.EventKind
	for _, ev := range evs {
		k = append(k, ev.Kind)
	}
	return k
}

func toolOutcomes(evs []agent.Event) map[string]agent.Outcome {
	m := map[string]agent.Outcome{}
	for _, ev := range evs {
		if ev.Kind == agent.EventToolFinished {
			m[ev.Tool.CallID] = ev.Tool.Outcome
		}
	}
	return m
}

func TestMachineRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   agent.Config
		setup func(s *sim)
		check func(t *testing.T, s *sim, fin agent.Finish)
	}{
		{
			name:  "text only: done",
			setup: func(s *sim) { s.model = script(textResp("resp_1", "hello")) },
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Equal(t, "hello", fin.Result.Text)
				assert.Equal(t, "done", fin.Result.StopReason)
				assert.Equal(t, "resp_1", fin.Result.State.PreviousResponseID)
				assert.Equal(t, []agent.EventKind{agent.EventRunStarted, agent.EventTurnStarted, agent.EventTurnCompleted}, eventKinds(s.events))
			},
		},
		{
			name: "one call: outputs chained to the response",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("add")}
				s.model = script(callsResp("resp_1", fcall("c1", "add", `{}`)), textResp("resp_2", "5"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				require.Len(t, s.requests, 2)
				assert.Equal(t, "", s.requests[0].PreviousResponseID)
				assert.Equal(t, "resp_1", s.requests[1].PreviousResponseID)
				assert.Equal(t, []string{"c1"}, outputKeys(inputOf(t, s.requests[1])))
				assert.Equal(t, 1, fin.Result.ToolCalls)
				assert.Equal(t, 2, fin.Result.Turns)
				assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeOK}, toolOutcomes(s.events))
			},
		},
		{
			name: "max turns: typed error, outputs kept for later",
			cfg:  agent.Config{MaxTurns: 2},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("add")}
				s.model = func(n int, _ *responses.Request) *responses.Response {
					return callsResp(fmt.Sprintf("resp_%d", n+1), fcall(fmt.Sprintf("c%d", n+1), "add", `{}`))
				}
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.ErrorIs(t, fin.Err, agent.ErrMaxTurns)
				assert.Len(t, s.requests, 2)
				assert.Equal(t, []string{"c2"}, outputKeys(fin.Result.State.Input))
			},
		},
		{
			name: "stateless: store false, encrypted reasoning, transcript replayed",
			cfg:  agent.Config{Stateless: true},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("add")}
				s.model = script(callsResp("resp_1", fcall("c1", "add", `{}`)), textResp("resp_2", "5"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				req := s.requests[1]
				assert.Equal(t, false, *req.Store)
				assert.Contains(t, req.Include, "reasoning.encrypted_content")
				assert.Empty(t, req.PreviousResponseID)
				in := inputOf(t, req)
				require.Len(t, in, 3) // the prompt, the call, its output
				assert.Equal(t, "c1", in[1].CallKey())
				assert.Equal(t, "c1", in[2].OutputKey())
				assert.Len(t, fin.Result.Transcript, 4)
			},
		},
		{
			name: "token budget: stops cleanly with the outputs unsent",
			cfg:  agent.Config{MaxTotalTokens: 10},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("add")}
				s.model = script(callsResp("resp_1", fcall("c1", "add", `{}`)))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Equal(t, "max_tokens", fin.Result.StopReason)
				assert.Equal(t, []string{"c1"}, outputKeys(fin.Result.State.Input))
			},
		},
		{
			name: "duration budget: the time comes in",
			cfg:  agent.Config{MaxDuration: time.Minute},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("add")}
				s.tick = 40 * time.Second
				s.model = func(n int, _ *responses.Request) *responses.Response {
					return callsResp(fmt.Sprintf("resp_%d", n+1), fcall(fmt.Sprintf("c%d", n+1), "add", `{}`))
				}
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Equal(t, "max_duration", fin.Result.StopReason)
				assert.Len(t, s.requests, 2) // 40 s, then 80 s ≥ 1 min
			},
		},
		{
			name: "stop at tools: the first stop call in call order wins, whatever finished first",
			cfg:  agent.Config{StopAtTools: []string{"final", "other"}},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("final"), fnTool("other")}
				s.model = script(callsResp("resp_1", fcall("c1", "final", `{}`), fcall("c2", "other", `{}`)))
				s.order = func(n int) []int { return []int{1, 0} }
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Equal(t, "stop_tool", fin.Result.StopReason)
				assert.Equal(t, "ok c1", fin.Result.Text)
			},
		},
		{
			name: "parallel groups: a tool that is not parallel-safe runs alone",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a"), {Definition: responses.ToolDefinition{Type: "function", Name: "b"}, Exclusive: true}}
				s.model = script(callsResp("resp_1", fcall("c1", "a", `{}`), fcall("c2", "b", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Contains(t, s.actions, traceOf(agent.RunCall{Call: callOf(fcall("c1", "a", `{}`)), Exclusive: false}))
				assert.Contains(t, s.actions, traceOf(agent.RunCall{Call: callOf(fcall("c2", "b", `{}`)), Exclusive: true}))
			},
		},
		{
			name: "parallel_tool_calls false: every call alone",
			cfg:  agent.Config{ParallelToolCalls: responses.Ptr(false)},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a")}
				s.model = script(callsResp("resp_1", fcall("c1", "a", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				assert.Contains(t, s.actions, traceOf(agent.RunCall{Call: callOf(fcall("c1", "a", `{}`)), Exclusive: true}))
				assert.Equal(t, false, *s.requests[0].ParallelToolCalls)
			},
		},
		{
			name: "approval: asked, approved always, then remembered",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{{Definition: responses.ToolDefinition{Type: "function", Name: "rm"}, Reviews: true}}
				s.review = func(call tools.Call) tools.Review {
					return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{Kind: "function", Key: "function:rm"}}
				}
				asked := 0
				s.approve = func(tools.ApprovalRequest) agent.Approval {
					asked++
					return agent.Approval{Approved: true, Always: true}
				}
				s.model = script(callsResp("resp_1", fcall("c1", "rm", `{}`)), callsResp("resp_2", fcall("c2", "rm", `{}`)), textResp("resp_3", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				var requested, remembered int
				for _, ev := range s.events {
					if ev.Kind == agent.EventApprovalRequested {
						requested++
					}
					if ev.Kind == agent.EventApprovalDecided && ev.Approval.Remembered {
						remembered++
					}
				}
				assert.Equal(t, 1, requested)
				assert.Equal(t, 1, remembered)
				assert.Equal(t, []string{"function:rm"}, fin.Result.State.AlwaysApproved)
				assert.Equal(t, 2, fin.Result.ToolCalls)
			},
		},
		{
			name: "approval declined: the model reads why, the call never ran",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{{Definition: responses.ToolDefinition{Type: "function", Name: "rm"}, Reviews: true}}
				s.review = func(tools.Call) tools.Review { return tools.Review{Decision: tools.Ask} }
				s.approve = func(tools.ApprovalRequest) agent.Approval { return agent.Deny("not today") }
				s.tool = func(call tools.Call) (responses.Item, error) { panic("ran a declined call") }
				s.model = script(callsResp("resp_1", fcall("c1", "rm", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				in := inputOf(t, s.requests[1])
				require.Len(t, in, 1)
				assert.Contains(t, string(in[0].Raw()), "The call was declined: not today")
				assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeDenied}, toolOutcomes(s.events))
				assert.Equal(t, 0, fin.Result.ToolCalls)
			},
		},
		{
			name: "policy denial by a sandbox: outcome sandbox_denied; a decliner builds the output",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{{Definition: responses.ToolDefinition{Type: "function", Name: "sh"}, Reviews: true, Declines: true}}
				s.review = func(tools.Call) tools.Review {
					return tools.Review{Decision: tools.Deny, Reason: "network", Err: tools.ErrSandboxDenied}
				}
				s.model = script(callsResp("resp_1", fcall("c1", "sh", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeSandboxDenied}, toolOutcomes(s.events))
				assert.Contains(t, string(inputOf(t, s.requests[1])[0].Raw()), "declined by tool: This call was refused by policy: network")
			},
		},
		{
			name: "deferred approval: stops with a state; resume runs the call",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a"), {Definition: responses.ToolDefinition{Type: "function", Name: "rm"}, Reviews: true}}
				s.review = func(tools.Call) tools.Review { return tools.Review{Decision: tools.Ask} }
				s.approve = func(tools.ApprovalRequest) agent.Approval { return agent.Defer }
				s.model = script(callsResp("resp_1", fcall("c1", "a", `{}`), fcall("c2", "rm", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Equal(t, "pending_approval", fin.Result.StopReason)
				st := roundTrip(t, fin.Result.State)
				require.Len(t, st.Pending, 1)
				assert.Equal(t, "c2", st.Pending[0].CallID)
				assert.Contains(t, st.Outputs, "c1")

				// A missing decision is an error.
				m2 := agent.NewMachine(agent.Config{Model: "m"}, nil)
				s2 := &sim{t: t, m: m2, tools: s.tools, model: s.model, review: s.review}
				fin2 := s2.run(m2.Resume(t0, st, nil))
				require.ErrorContains(t, fin2.Err, "no decision for pending call c2")

				m3 := agent.NewMachine(agent.Config{Model: "m"}, nil)
				s3 := &sim{t: t, m: m3, tools: s.tools, review: s.review, model: func(int, *responses.Request) *responses.Response { return textResp("resp_2", "x") }}
				fin3 := s3.run(m3.Resume(t0, st, []agent.Decision{{CallID: "c2", Approval: agent.Approve}}))
				require.NoError(t, fin3.Err)
				require.Len(t, s3.requests, 1)
				assert.Equal(t, "resp_1", s3.requests[0].PreviousResponseID)
				assert.Equal(t, []string{"c1", "c2"}, outputKeys(inputOf(t, s3.requests[0])))
				assert.Equal(t, "x", fin3.Result.Text)
				assert.Equal(t, 2, fin3.Result.ToolCalls)
			},
		},
		{
			name: "unknown tool: an output naming the tools there are",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a")}
				s.model = script(callsResp("resp_1", fcall("c1", "nope", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeUnknown}, toolOutcomes(s.events))
				assert.Contains(t, string(inputOf(t, s.requests[1])[0].Raw()), `unknown tool \"nope\"; available tools: a`)
			},
		},
		{
			name: "tool failures are outputs with typed outcomes",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a")}
				s.tool = func(call tools.Call) (responses.Item, error) {
					switch call.CallID {
					case "c1":
						return responses.Item{}, fmt.Errorf("slow: %w", tools.ErrTimeout)
					case "c2":
						return tools.TextOutput(call, "exit 1", true), errors.New("exit status 1")
					case "c3":
						return responses.Item{}, nil
					}
					return tools.TextOutput(tools.Call{Type: call.Type, CallID: "other"}, "x", false), nil
				}
				s.model = script(callsResp("resp_1", fcall("c1", "a", `{}`), fcall("c2", "a", `{}`), fcall("c3", "a", `{}`), fcall("c4", "a", `{}`)), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeTimeout, "c2": agent.OutcomeError, "c3": agent.OutcomeError, "c4": agent.OutcomeError}, toolOutcomes(s.events))
				assert.Equal(t, []string{"c1", "c2", "c3", "c4"}, outputKeys(inputOf(t, s.requests[1])))
				assert.Contains(t, string(inputOf(t, s.requests[1])[1].Raw()), "exit 1")
			},
		},
		{
			name: "canceled while calls ran: canceled outputs in call order, kept for later",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a")}
				s.cancelAfter = 1
				s.model = script(callsResp("resp_1", fcall("c1", "a", `{}`), fcall("c2", "a", `{}`)))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.ErrorIs(t, fin.Err, context.Canceled)
				assert.Equal(t, []string{"c1", "c2"}, outputKeys(fin.Result.State.Input))
				assert.Contains(t, string(fin.Result.State.Input[1].Raw()), "Canceled")
				assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeOK, "c2": agent.OutcomeCanceled}, toolOutcomes(s.events))
				assert.Equal(t, 1, fin.Result.ToolCalls)
			},
		},
		{
			name: "a broken stream with nothing acted on is asked again, twice at most",
			setup: func(s *sim) {
				s.streamBreaks = 3
				s.model = script(textResp("resp_1", "hi"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				var se *responses.StreamError
				require.ErrorAs(t, fin.Err, &se)
				assert.Len(t, s.requests, 3)
				assert.Equal(t, 2, countKind(s.events, agent.EventStreamRestarted))
				assert.Len(t, fin.Result.State.Input, 1, "the prompt is kept to ask again")
			},
		},
		{
			name: "compaction: decided here, performed by the driver",
			cfg:  agent.Config{Compaction: agent.Compaction{ContextWindow: 100}},
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a")}
				big := callsResp("resp_1", fcall("c1", "a", `{}`))
				big.Usage = &responses.Usage{InputTokens: 90, OutputTokens: 5, TotalTokens: 95}
				s.model = script(big, textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				assert.Empty(t, s.requests[1].PreviousResponseID, "the compacted items are the whole context")
				in := inputOf(t, s.requests[1])
				assert.Equal(t, "compaction", in[len(in)-1].Type)
				assert.Equal(t, 1, countKind(s.events, agent.EventCompacted))
			},
		},
		{
			name: "a failed response is a typed error",
			setup: func(s *sim) {
				s.model = script(&responses.Response{ID: "resp_1", Status: responses.StatusFailed, Error: &responses.ResponseError{Code: "server_error", Message: "boom"}})
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				var re *agent.ResponseError
				require.ErrorAs(t, fin.Err, &re)
				assert.Equal(t, "resp_1", re.ResponseID)
			},
		},
		{
			name: "hosted MCP approval request: answered through the approver",
			setup: func(s *sim) {
				s.approve = func(req tools.ApprovalRequest) agent.Approval {
					assert.Equal(t, "hosted_mcp", req.Kind)
					return agent.Deny("no")
				}
				req := responses.MustItem(responses.MCPApprovalRequest{Type: responses.TypeMCPApprovalRequest, ID: "mcpr_1", ServerLabel: "gh", Name: "delete", Arguments: `{}`})
				s.model = script(callsResp("resp_1", req), textResp("resp_2", "x"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				in := inputOf(t, s.requests[1])
				require.Len(t, in, 1)
				assert.Equal(t, responses.TypeMCPApprovalResponse, in[0].Type)
				assert.Contains(t, string(in[0].Raw()), `"approve":false`)
			},
		},
		{
			name: "handoff: the first wins, the next request runs under the new agent",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a"), {Definition: responses.ToolDefinition{Type: "function", Name: "transfer_to_b"}, Handoff: "b"},
					{Definition: responses.ToolDefinition{Type: "function", Name: "transfer_to_c"}, Handoff: "c"}}
				s.model = script(callsResp("resp_1", fcall("c1", "transfer_to_b", `{"reason":"x"}`), fcall("c2", "a", `{}`), fcall("c3", "transfer_to_c", `{}`)), textResp("resp_2", "b here"))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				require.NoError(t, fin.Err)
				require.Len(t, s.handoffs, 1)
				assert.Equal(t, "b", s.handoffs[0].To)
				assert.JSONEq(t, `{"reason":"x"}`, string(s.handoffs[0].Arguments))
				assert.Equal(t, "model-b", s.requests[1].Model)
				assert.Equal(t, "b", fin.Result.Agent)
				in := inputOf(t, s.requests[1])
				assert.Equal(t, []string{"c1", "c2", "c3"}, outputKeys(in))
				assert.Contains(t, string(in[2].Raw()), "Ignored")
				assert.Equal(t, 1, countKind(s.events, agent.EventHandoff))
			},
		},
		{
			name: "chain validation: a call left unanswered is never sent",
			setup: func(s *sim) {
				s.tools = []agent.ToolInfo{fnTool("a")}
				s.model = script(callsResp("resp_1", fcall("c1", "a", `{}`)))
			},
			check: func(t *testing.T, s *sim, fin agent.Finish) {
				// Run by hand: the driver reports TurnEnded before the call.
				m := agent.NewMachine(agent.Config{Model: "m"}, nil)
				m.Start(t0, []responses.Item{responses.UserMessage("go")})
				acts := m.Step(t0, agent.ToolsListed{Tools: s.tools})
				require.IsType(t, agent.SendRequest{}, acts[len(acts)-1])
				m.Step(t0, agent.ResponseDone{Response: callsResp("resp_1", fcall("c1", "a", `{}`))})
				acts = m.Step(t0, agent.TurnEnded{})
				fin2 := acts[len(acts)-1].(agent.Finish)
				var ie *agent.InvariantError
				require.ErrorAs(t, fin2.Err, &ie)
				assert.Equal(t, []string{"c1"}, ie.Missing)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Model = "m"
			m := agent.NewMachine(cfg, nil)
			s := &sim{t: t, m: m}
			tc.setup(s)
			fin := s.run(m.Start(t0, []responses.Item{responses.UserMessage("go")}))
			tc.check(t, s, fin)
		})
	}
}

func callOf(it responses.Item) tools.Call {
	c := tools.NewCall(it)
	c.Progress = nil
	return c
}

func countKind(evs []agent.Event, k agent.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func roundTrip(t testing.TB, st *agent.RunState) *agent.RunState {
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back agent.RunState
	require.NoError(t, json.Unmarshal(b, &back))
	b2, err := json.Marshal(&back)
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(b2), "RunState JSON round trip")
	return &back
}

// FuzzMachine feeds random runs to the Machine: random call types and
// tools, parallel flags, approvals (yes, no, always, defer), failures,
// finishing orders and cancellations. Invariants: every request answers
// each call of the previous response exactly once, in call order, and
// carries no output for a call that does not exist; a run always finishes;
// the same inputs give the same actions.
func FuzzMachine(f *testing.F) {
	f.Add(uint64(1), uint8(3), false)
	f.Add(uint64(42), uint8(8), true)
	f.Add(uint64(7), uint8(1), false)
	f.Fuzz(func(t *testing.T, seed uint64, turns uint8, stateless bool) {
		first := fuzzRun(t, seed, int(turns%12)+1, stateless, false)
		second := fuzzRun(t, seed, int(turns%12)+1, stateless, false)
		require.Equal(t, first, second, "the same inputs must give the same actions")
		// A silent Machine (a quiet in-process run) gives the same
		// actions, without the events.
		var loud []string
		for _, a := range first {
			if !strings.HasPrefix(a, "emit ") {
				loud = append(loud, a)
			}
		}
		require.Equal(t, loud, fuzzRun(t, seed, int(turns%12)+1, stateless, true))
	})
}

func fuzzRun(t *testing.T, seed uint64, turns int, stateless, silent bool) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cfg := agent.Config{Model: "m", Stateless: stateless, MaxTurns: 1 + rng.IntN(20), MaxParallel: rng.IntN(4)}
	if rng.IntN(3) == 0 {
		cfg.ParallelToolCalls = responses.Ptr(false)
	}
	if rng.IntN(4) == 0 {
		cfg.StopAtTools = []string{"t2"}
	}
	ts := []agent.ToolInfo{
		fnTool("t0"),
		{Definition: responses.ToolDefinition{Type: "function", Name: "t1"}, Exclusive: true},
		{Definition: responses.ToolDefinition{Type: "function", Name: "t2"}, Reviews: true},
		{Definition: responses.ToolDefinition{Type: "shell"}, Reviews: true, Declines: true},
		{Definition: responses.ToolDefinition{Type: "function", Name: "transfer_to_x"}, Handoff: "x"},
	}
	m := agent.NewMachine(cfg, nil)
	if silent {
		agent.Silence(m)
	}
	s := &sim{t: t, m: m, tools: ts}
	if rng.IntN(5) == 0 {
		s.cancelAfter = 1 + rng.IntN(6)
	}
	if rng.IntN(6) == 0 {
		s.streamBreaks = rng.IntN(3)
	}
	var lastCalls []responses.Item
	n := 0
	s.model = func(i int, req *responses.Request) *responses.Response {
		// The invariant on what this request answers.
		in := inputOf(t, req)
		if stateless && len(lastCalls) > 0 {
			in = in[len(in)-len(lastCalls):]
		}
		if len(lastCalls) > 0 {
			var keys []string
			for _, c := range lastCalls {
				keys = append(keys, c.CallKey())
			}
			assert.Equal(t, keys, outputKeys(in), "request %d answers each call once, in call order", i)
		}
		lastCalls = nil
		if i >= turns {
			return textResp(fmt.Sprintf("resp_%d", i), "done")
		}
		k := rng.IntN(5)
		var out []responses.Item
		for j := range k {
			n++
			id := fmt.Sprintf("c%d", n)
			var it responses.Item
			switch rng.IntN(7) {
			case 0, 1:
				it = fcall(id, fmt.Sprintf("t%d", rng.IntN(3)), `{}`)
			case 2:
				it = fcall(id, "missing", `{}`)
			case 3:
				it = responses.MustItem(map[string]any{"type": "shell_call", "id": "sh_" + id, "call_id": id, "status": "completed", "action": map[string]any{"commands": []string{"ls"}}})
			case 5:
				it = fcall(id, "transfer_to_x", `{"reason":"r"}`)
			case 4:
				it = responses.MustItem(responses.MCPApprovalRequest{Type: responses.TypeMCPApprovalRequest, ID: "mcpr_" + id, ServerLabel: "s", Name: "x", Arguments: "{}"})
			default:
				it = fcall(id, "t2", `{}`)
			}
			_ = j
			out = append(out, it)
		}
		lastCalls = out
		resp := callsResp(fmt.Sprintf("resp_%d", i), out...)
		if k == 0 {
			resp = textResp(fmt.Sprintf("resp_%d", i), "done")
		}
		return resp
	}
	s.review = func(call tools.Call) tools.Review {
		switch rng.IntN(4) {
		case 0:
			return tools.Review{Decision: tools.Allow}
		case 1:
			return tools.Review{Decision: tools.Deny, Reason: "no"}
		}
		return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{Key: "k" + fmt.Sprint(rng.IntN(3))}}
	}
	s.approve = func(tools.ApprovalRequest) agent.Approval {
		switch rng.IntN(5) {
		case 0:
			return agent.Deny("no")
		case 1:
			return agent.Approval{Approved: true, Always: true}
		case 2:
			if rng.IntN(3) == 0 {
				return agent.Defer
			}
		}
		return agent.Approve
	}
	s.tool = func(call tools.Call) (responses.Item, error) {
		switch rng.IntN(5) {
		case 0:
			return responses.Item{}, errors.New("failed")
		case 1:
			return tools.TextOutput(call, "bad", true), fmt.Errorf("x: %w", tools.ErrSandboxDenied)
		}
		return tools.TextOutput(call, "ok", false), nil
	}
	s.order = func(n int) []int { return rng.Perm(n) }

	fin := s.run(m.Start(t0, []responses.Item{responses.UserMessage("go")}))
	require.NotNil(t, fin.Result)
	require.NotNil(t, fin.Result.State)
	roundTrip(t, fin.Result.State)
	for _, ev := range s.events {
		if ev.Kind == agent.EventToolFinished {
			assert.NotEmpty(t, ev.Tool.Outcome)
		}
	}
	if fin.Result.StopReason == "pending_approval" {
		// Every pending call has no output yet; every other call has one.
		st := fin.Result.State
		pending := map[string]bool{}
		for _, p := range st.Pending {
			pending[p.CallID] = true
		}
		for _, c := range st.Calls {
			_, answered := st.Outputs[c.CallKey()]
			assert.NotEqual(t, pending[c.CallKey()], answered, "call %s", c.CallKey())
		}
	}
	if errors.Is(fin.Err, context.Canceled) || fin.Result.StopReason == "stop_tool" || fin.Result.StopReason == "max_tokens" {
		assert.Equal(t, len(lastCalls), len(fin.Result.State.Input))
	}
	return slices.DeleteFunc(s.actions, func(a string) bool { return strings.HasPrefix(a, "agent.ListTools") })
}

// A refused call's event carries an error for errors.Is.
func TestRefusedCallErr(t *testing.T) {
	m := agent.NewMachine(agent.Config{Model: "m"}, nil)
	s := &sim{t: t, m: m, tools: []agent.ToolInfo{{Definition: responses.ToolDefinition{Type: "function", Name: "sh"}, Reviews: true}, fnTool("rm")}}
	s.review = func(call tools.Call) tools.Review {
		return tools.Review{Decision: tools.Deny, Reason: "policy", Err: fmt.Errorf("rule rm: %w", tools.ErrSandboxDenied)}
	}
	s.model = script(callsResp("resp_1", fcall("c1", "sh", `{}`), fcall("c2", "nope", `{}`)), textResp("resp_2", "x"))
	s.run(m.Start(t0, []responses.Item{responses.UserMessage("go")}))
	errs := map[string]error{}
	for _, ev := range s.events {
		if ev.Kind == agent.EventToolFinished {
			errs[ev.Tool.CallID] = ev.Tool.Err
		}
	}
	assert.ErrorIs(t, errs["c1"], tools.ErrSandboxDenied)
	assert.ErrorIs(t, errs["c2"], tools.ErrUnknownTool)
}

// BenchmarkMachineRun is the Machine's own cost for the run that
// BenchmarkTurnOverhead measures (two requests, one call), without I/O: the
// part of the loop's overhead that its rules take.
func BenchmarkMachineRun(b *testing.B) {
	ts := []agent.ToolInfo{fnTool("add")}
	call := fcall("call_1", "add", `{"a":2,"b":3}`)
	first, second := callsResp("resp_1", call), textResp("resp_2", "5")
	input := []responses.Item{responses.UserMessage("add")}
	out := tools.TextOutput(callOf(call), "5", false)
	b.ReportAllocs()
	for b.Loop() {
		m := agent.NewMachine(agent.Config{Model: "m"}, nil)
		m.Start(t0, input)
		m.Step(t0, agent.ToolsListed{Tools: ts})
		m.Step(t0, agent.CallStreamed{Item: call})
		m.Step(t0, agent.ResponseDone{Response: first})
		m.Step(t0, agent.CallDone{CallID: "call_1", Output: out})
		m.Step(t0, agent.TurnEnded{})
		m.Step(t0, agent.ToolsListed{Tools: ts})
		m.Step(t0, agent.ResponseDone{Response: second})
		acts := m.Step(t0, agent.TurnEnded{})
		if _, ok := acts[len(acts)-1].(agent.Finish); !ok {
			b.Fatal("no finish")
		}
	}
}

// A call that finished with its output when the run was canceled keeps the
// outcome that happened (it ran, wrote its file): not "canceled".
func TestOutcomeIsWhatHappened(t *testing.T) {
	m := agent.NewMachine(agent.Config{Model: "m"}, nil)
	m.Start(t0, []responses.Item{responses.UserMessage("go")})
	m.Step(t0, agent.ToolsListed{Tools: []agent.ToolInfo{fnTool("a")}})
	c1, c2 := fcall("c1", "a", `{}`), fcall("c2", "a", `{}`)
	m.Step(t0, agent.ResponseDone{Response: callsResp("resp_1", c1, c2)})
	var evs []agent.Event
	collect := func(acts []agent.Action) {
		for _, a := range acts {
			if e, ok := a.(agent.Emit); ok {
				evs = append(evs, e.Event)
			}
		}
	}
	collect(m.Step(t0, agent.CallDone{CallID: "c1", Output: tools.TextOutput(callOf(c1), "written", false), Canceled: true}))
	collect(m.Step(t0, agent.CallDone{CallID: "c2", Err: context.Canceled, Canceled: true}))
	acts := m.Step(t0, agent.TurnEnded{Err: context.Canceled})
	collect(acts)
	assert.Equal(t, map[string]agent.Outcome{"c1": agent.OutcomeOK, "c2": agent.OutcomeCanceled}, toolOutcomes(evs))
	fin := acts[len(acts)-1].(agent.Finish)
	assert.Contains(t, string(fin.Result.State.Input[0].Raw()), "written")
	assert.Contains(t, string(fin.Result.State.Input[1].Raw()), "Canceled")
}

func TestNoTurnBound(t *testing.T) {
	m := agent.NewMachine(agent.Config{Model: "m", MaxTurns: -1}, nil)
	s := &sim{t: t, m: m, tools: []agent.ToolInfo{fnTool("a")}}
	s.model = func(n int, _ *responses.Request) *responses.Response {
		if n == 100 {
			return textResp("resp_last", "done")
		}
		return callsResp(fmt.Sprintf("resp_%d", n), fcall(fmt.Sprintf("c%d", n), "a", `{}`))
	}
	fin := s.run(m.Start(t0, []responses.Item{responses.UserMessage("go")}))
	require.NoError(t, fin.Err)
	assert.Equal(t, 101, fin.Result.Turns)
}

// A run moved elsewhere between turns (Checkpoint, then Continue in a new
// Machine) keeps counting its turns and time from its start.
func TestContinueKeepsBudgets(t *testing.T) {
	cfg := agent.Config{Model: "m", MaxTurns: 3}
	ts := []agent.ToolInfo{fnTool("a")}
	call := func(n int) *responses.Response {
		return callsResp(fmt.Sprintf("resp_%d", n), fcall(fmt.Sprintf("c%d", n), "a", `{}`))
	}
	m := agent.NewMachine(cfg, nil)
	m.Start(t0, []responses.Item{responses.UserMessage("go")})
	for n := 1; n <= 2; n++ {
		m.Step(t0, agent.ToolsListed{Tools: ts})
		m.Step(t0, agent.ResponseDone{Response: call(n)})
		m.Step(t0, agent.CallDone{CallID: fmt.Sprintf("c%d", n), Output: tools.TextOutput(callOf(fcall(fmt.Sprintf("c%d", n), "a", `{}`)), "ok", false)})
		acts := m.Step(t0, agent.TurnEnded{})
		require.IsType(t, agent.ListTools{}, acts[len(acts)-1])
	}
	st := roundTrip(t, m.Checkpoint())
	require.NotNil(t, st.Progress)
	assert.Equal(t, 0, st.Progress.StartTurns)

	m2 := agent.NewMachine(cfg, nil)
	s := &sim{t: t, m: m2, tools: ts, model: func(n int, req *responses.Request) *responses.Response { return call(3) }}
	fin := s.run(m2.Continue(t0.Add(time.Hour), st))
	require.ErrorIs(t, fin.Err, agent.ErrMaxTurns, "the third turn is the run's last")
	assert.Len(t, s.requests, 1)
	assert.Equal(t, "resp_2", s.requests[0].PreviousResponseID)
	assert.Equal(t, []string{"c2"}, outputKeys(inputOf(t, s.requests[0])))
	assert.Equal(t, 0, countKind(s.events, agent.EventRunStarted), "the run goes on; it does not start again")
}
