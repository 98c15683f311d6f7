package agent_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

func usage(in, out int64) *responses.Usage {
	return &responses.Usage{InputTokens: in, OutputTokens: out}
}

func reply(u *responses.Usage, items ...responses.Item) rt.Reply {
	r := rt.Output(items...)
	r.Usage = u
	return r
}

// byPath splits recorded requests into creates and compactions.
func byPath(srv *rt.Server) (creates, compacts []rt.Request) {
	for _, r := range srv.Requests() {
		switch {
		case r.StatusCode != 200:
		case strings.HasSuffix(r.Path, "/responses/compact"):
			compacts = append(compacts, r)
		default:
			creates = append(creates, r)
		}
	}
	return creates, compacts
}

func collect(t *testing.T, seq iter.Seq2[agent.Event, error]) (*agent.Result, []agent.Event) {
	t.Helper()
	var evs []agent.Event
	var res *agent.Result
	for ev, err := range seq {
		require.NoError(t, err)
		evs = append(evs, ev)
		if ev.Result != nil {
			res = ev.Result
		}
	}
	return res, evs
}

func TestCompactionEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stateless bool
		used      int64 // context tokens after turn 1
		compacts  bool
	}{
		{name: "chained, at the threshold", used: 800, compacts: true},
		{name: "stateless, above the threshold", used: 950, stateless: true, compacts: true},
		{name: "below the threshold", used: 799},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rt.New(t,
				reply(usage(tc.used-50, 50), rt.FunctionCall("call_1", "echo", `{"text":"one"}`)),
				reply(usage(100, 20), rt.FunctionCall("call_2", "echo", `{"text":"two"}`)),
				reply(usage(150, 10), rt.Text("Done.")),
			)
			a := agent.New(client(srv), "test-model", &agent.Options{
				Tools:      []tools.Tool{echoTool(nil)},
				Stateless:  tc.stateless,
				Compaction: agent.Compaction{ContextWindow: 1000},
			})
			res, evs := collect(t, a.Stream(t.Context(), "Echo twice."))
			assert.Equal(t, "Done.", res.Text)
			assert.Equal(t, 2, res.ToolCalls)

			creates, compacts := byPath(srv)
			require.Len(t, creates, 3)
			if !tc.compacts {
				assert.Empty(t, compacts)
				assert.Equal(t, "resp_1", creates[1].Params.PreviousResponseID)
				return
			}
			require.Len(t, compacts, 1)
			cr := compacts[0]
			assert.Equal(t, "test-model", cr.Params.Model)
			fc1 := string(res.Items[0].Raw())
			if tc.stateless {
				assert.Empty(t, cr.Params.PreviousResponseID)
				assert.Equal(t, []string{userMsg("Echo twice."), fc1, fnOutput("call_1", "one")}, input(t, cr))
			} else {
				assert.Equal(t, "resp_1", cr.Params.PreviousResponseID)
				assert.Equal(t, []string{fnOutput("call_1", "one")}, input(t, cr))
			}

			// The compacted conversation replaces the history.
			var compacted []*agent.Event
			for i := range evs {
				if evs[i].Kind == agent.EventCompacted {
					compacted = append(compacted, &evs[i])
				}
			}
			require.Len(t, compacted, 1)
			item := *compacted[0].Item
			assert.Equal(t, responses.TypeCompaction, item.Type)
			assert.Equal(t, 2, rt.CompactedCount(item), "the call and its output were compacted")
			cmp := string(item.Raw())
			assert.Empty(t, creates[1].Params.PreviousResponseID)
			assert.Equal(t, []string{userMsg("Echo twice."), cmp}, input(t, creates[1]))

			// Later requests carry on from there: the compaction item is
			// resent (stateless) or part of the chain (stored).
			fc2 := string(res.Items[2].Raw())
			if tc.stateless {
				assert.Equal(t, []string{userMsg("Echo twice."), cmp, fc2, fnOutput("call_2", "two")}, input(t, creates[2]))
				assert.Equal(t, []string{userMsg("Echo twice."), cmp, fc2, fnOutput("call_2", "two"), string(res.Items[4].Raw())}, rawAll(res.Transcript))
			} else {
				assert.Equal(t, creates[1].ResponseID, creates[2].Params.PreviousResponseID)
				assert.Equal(t, []string{fnOutput("call_2", "two")}, input(t, creates[2]))
			}
			// The same tools are offered after compaction.
			assert.Equal(t, creates[0].Params.Tools, creates[2].Params.Tools)
			// The compaction's usage counts.
			require.NotNil(t, compacted[0].Usage)
			assert.Equal(t, tc.used+120+160+compacted[0].Usage.InputTokens+compacted[0].Usage.OutputTokens,
				res.Usage.InputTokens+res.Usage.OutputTokens)
		})
	}
}

func rawAll(items []responses.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it.Raw())
	}
	return out
}

// onlyCreate is a transport without the compact endpoint: its Compact
// answers 404 as such a server does.
type onlyCreate struct{ c *responses.Client }

func (o onlyCreate) Compact(context.Context, *responses.CompactRequest) (*responses.Compaction, error) {
	return nil, &responses.APIError{StatusCode: 404, Message: "no compact endpoint"}
}

func (o onlyCreate) Create(ctx context.Context, req *responses.Request) (*responses.Response, error) {
	return o.c.Create(ctx, req)
}

func (o onlyCreate) Stream(ctx context.Context, req *responses.Request) (*responses.Stream, error) {
	return o.c.Stream(ctx, req)
}

func TestCompactionSummary(t *testing.T) {
	sgp := func(srv *rt.Server) agent.Client { // no compact endpoint under /v5
		return responses.NewClient(&responses.ClientOptions{Provider: responses.SGP, BaseURL: srv.URL, APIKey: "k"})
	}
	for _, tc := range []struct {
		name       string
		client     func(*rt.Server) agent.Client
		summarize  bool
		stateless  bool
		triedFirst bool // the compact endpoint was tried and missing
	}{
		{name: "server without the endpoint", client: sgp, triedFirst: true},
		{name: "server without the endpoint, stateless", client: sgp, stateless: true, triedFirst: true},
		{name: "client without Compact", client: func(s *rt.Server) agent.Client { return onlyCreate{client(s)} }},
		{name: "summaries asked for", client: func(s *rt.Server) agent.Client { return client(s) }, summarize: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rt.New(t,
				reply(usage(900, 50), rt.FunctionCall("call_1", "echo", `{"text":"one"}`)),
				reply(usage(950, 40), rt.Text("The user asked to echo; echo returned one.")), // the summary
				reply(usage(100, 10), rt.Text("Done.")),
			)
			a := agent.New(tc.client(srv), "test-model", &agent.Options{
				Tools:      []tools.Tool{echoTool(nil)},
				Stateless:  tc.stateless,
				Request:    responses.Request{Text: &responses.TextConfig{Verbosity: "low"}},
				Compaction: agent.Compaction{ContextWindow: 1000, Threshold: 0.9, Summarize: tc.summarize},
			})
			res, evs := collect(t, a.Stream(t.Context(), "Echo once."))
			assert.Equal(t, "Done.", res.Text)

			var creates []rt.Request
			var missing int
			for _, r := range srv.Requests() {
				if strings.HasSuffix(r.Path, "/compact") {
					missing++
					assert.Contains(t, []int{404, 405}, r.StatusCode)
				} else {
					creates = append(creates, r)
				}
			}
			assert.Equal(t, tc.triedFirst, missing == 1)
			require.Len(t, creates, 3)
			sum := creates[1]
			assert.Equal(t, "none", sum.Params.ToolChoice.Mode)
			require.NotNil(t, sum.Params.Store)
			assert.False(t, *sum.Params.Store)
			assert.Nil(t, sum.Params.Text, "the summary is plain text")
			in := input(t, sum)
			assert.Equal(t, userMsg(agent.DefaultSummaryPrompt), in[len(in)-1])
			if tc.stateless {
				assert.Equal(t, fnOutput("call_1", "one"), in[len(in)-2])
				assert.Len(t, in, 4)
			} else {
				assert.Equal(t, "resp_1", sum.Params.PreviousResponseID)
				assert.Equal(t, []string{fnOutput("call_1", "one"), userMsg(agent.DefaultSummaryPrompt)}, in)
			}

			next := creates[2]
			assert.Empty(t, next.Params.PreviousResponseID)
			summary := "Summary of the earlier part of this conversation, which was compacted:\n\nThe user asked to echo; echo returned one."
			assert.Equal(t, []string{userMsg("Echo once."), userMsg(summary)}, input(t, next))
			assert.Equal(t, "low", next.Params.Text.Verbosity, "the run's parameters carry on")

			var compacted int
			for _, ev := range evs {
				if ev.Kind == agent.EventCompacted {
					compacted++
					assert.Equal(t, string(responses.UserMessage(summary).Raw()), string(ev.Item.Raw()))
				}
			}
			assert.Equal(t, 1, compacted)
			assert.Equal(t, int64(900+50+950+40+100+10), res.Usage.InputTokens+res.Usage.OutputTokens)
		})
	}
}

// A long run: a model that calls a tool forty times with large arguments
// grows the context until it passes the threshold, again and again; each
// time the run compacts and goes on, and no request outgrows the window.
func TestCompactionLongRun(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(fmt.Sprintf("stateless=%v", stateless), func(t *testing.T) {
			const calls, window = 40, 4000
			var n atomic.Int32
			big := strings.Repeat("lorem ipsum ", 40) // ~120 tokens each way
			srv := rt.New(t, rt.Model(func(req *responses.Request) rt.Reply {
				i := int(n.Add(1))
				if i > calls {
					return rt.Output(rt.Text(fmt.Sprintf("Echoed %d times.", calls)))
				}
				return rt.Output(rt.FunctionCall(fmt.Sprintf("call_%d", i), "echo", `{"text":"`+big+`"}`))
			}))
			a := agent.New(client(srv), "test-model", &agent.Options{
				Tools:      []tools.Tool{echoTool(nil)},
				Stateless:  stateless,
				MaxTurns:   calls + 1,
				Compaction: agent.Compaction{ContextWindow: window, Threshold: 0.5},
			})
			res, evs := collect(t, a.Stream(t.Context(), "Echo a lot."))
			assert.Equal(t, fmt.Sprintf("Echoed %d times.", calls), res.Text)
			assert.Equal(t, calls, res.ToolCalls)

			var compactions int
			for _, ev := range evs {
				switch ev.Kind {
				case agent.EventCompacted:
					compactions++
				case agent.EventTurnCompleted:
					used := ev.Usage.InputTokens + ev.Usage.OutputTokens
					assert.Less(t, used, int64(window), "turn %d", ev.Turn)
				}
			}
			t.Logf("%d compactions over %d turns", compactions, res.Turns)
			assert.GreaterOrEqual(t, compactions, 3)
			_, compacts := byPath(srv)
			assert.Len(t, compacts, compactions)
			if stateless {
				// The transcript starts from the last compaction.
				require.NotEmpty(t, res.Transcript)
				var kinds []string
				for _, it := range res.Transcript[:2] {
					kinds = append(kinds, it.Type)
				}
				assert.Equal(t, []string{responses.TypeMessage, responses.TypeCompaction}, kinds)
			}
		})
	}
}

// A compaction that fails leaves the run going on, uncompacted.
func TestCompactionFailureIsSkipped(t *testing.T) {
	failed := rt.Reply{Status: responses.StatusFailed, Usage: usage(900, 0)}
	srv := rt.New(t,
		reply(usage(900, 50), rt.FunctionCall("call_1", "echo", `{"text":"one"}`)),
		failed, // the summarising turn
		reply(usage(100, 10), rt.Text("Done.")),
	)
	a := agent.New(onlyCreate{client(srv)}, "test-model", &agent.Options{
		Tools:      []tools.Tool{echoTool(nil)},
		Compaction: agent.Compaction{ContextWindow: 1000},
	})
	res, evs := collect(t, a.Stream(t.Context(), "Echo once."))
	assert.Equal(t, "Done.", res.Text)
	for _, ev := range evs {
		assert.NotEqual(t, agent.EventCompacted, ev.Kind)
	}
	creates := served(srv)
	require.Len(t, creates, 3)
	assert.Equal(t, "resp_1", creates[2].Params.PreviousResponseID, "the run goes on from where it was")
	assert.Equal(t, []string{fnOutput("call_1", "one")}, input(t, creates[2]))
	assert.Equal(t, int64(900+50+900+100+10), res.Usage.InputTokens+res.Usage.OutputTokens, "the failed attempt is billed")
}

// Server-side compaction: the compaction item the server puts in the output
// is kept and resent unchanged in stateless mode.
func TestServerSideCompaction(t *testing.T) {
	cmp := `{"type":"compaction","id":"cmp_srv","encrypted_content":"gAAAA-server","created_by":"server"}`
	srv := rt.New(t,
		rt.Output(rt.Raw(cmp), rt.FunctionCall("call_1", "echo", `{"text":"one"}`)),
		rt.Output(rt.Text("Done.")),
	)
	a := agent.New(client(srv), "test-model", &agent.Options{
		Tools:     []tools.Tool{echoTool(nil)},
		Stateless: true,
		Request:   responses.Request{ContextManagement: responses.ContextCompaction(200000)},
	})
	res, err := a.Run(t.Context(), "Echo once.")
	require.NoError(t, err)
	assert.Equal(t, "Done.", res.Text)
	reqs := served(srv)
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.JSONEq(t, `[{"type":"compaction","compact_threshold":200000}]`, string(r.Params.ContextManagement))
	}
	in := input(t, reqs[1])
	require.Len(t, in, 4)
	assert.Equal(t, cmp, in[1])
}

// Compaction requests go through the Model middleware too, marked by Kind,
// and the Tool middleware finds the tool in its context.
func TestCompactionThroughMiddleware(t *testing.T) {
	for _, summarize := range []bool{false, true} {
		srv := rt.New(t,
			reply(usage(850, 50), rt.FunctionCall("call_1", "echo", `{"text":"one"}`)),
			reply(usage(100, 10), rt.Text("summary")),
			reply(usage(100, 10), rt.Text("Done.")),
		)
		var mu sync.Mutex
		var kinds []string
		var toolName string
		a := agent.New(client(srv), "test-model", &agent.Options{
			Tools:      []tools.Tool{echoTool(nil)},
			Compaction: agent.Compaction{ContextWindow: 1000, Summarize: summarize},
			Middleware: []agent.Middleware{{
				Model: func(next agent.ModelHandler) agent.ModelHandler {
					return func(ctx context.Context, call *agent.ModelCall) (*responses.Response, error) {
						mu.Lock()
						kinds = append(kinds, call.Kind)
						mu.Unlock()
						return next(ctx, call)
					}
				},
				Tool: func(next agent.ToolHandler) agent.ToolHandler {
					return func(ctx context.Context, call tools.Call) (responses.Item, error) {
						if tool, ok := agent.ToolOf(ctx); ok {
							toolName = tool.Definition().Name
						}
						return next(ctx, call)
					}
				},
			}},
		})
		_, err := a.Run(t.Context(), "go")
		require.NoError(t, err)
		want := []string{"", "compact", ""}
		if summarize {
			want = []string{"", "summary", ""}
		}
		assert.Equal(t, want, kinds)
		assert.Equal(t, "echo", toolName)
	}
}

// A run that continues a conversation whose context is already past the
// threshold compacts before its first request: the state carries the last
// response's usage.
func TestCompactionAcrossRuns(t *testing.T) {
	srv := rt.New(t,
		reply(usage(880, 20), rt.Text("A long answer.")),
		reply(usage(120, 10), rt.Text("Short now.")),
		reply(usage(140, 5), rt.Text("You are welcome.")),
	)
	a := agent.New(client(srv), "test-model", &agent.Options{Compaction: agent.Compaction{ContextWindow: 1000}})
	first, err := a.Run(t.Context(), "Tell me everything.")
	require.NoError(t, err)
	require.NotNil(t, first.State.LastUsage)
	assert.Equal(t, int64(880), first.State.LastUsage.InputTokens)
	_, compacts := byPath(srv)
	assert.Empty(t, compacts, "nothing to compact within the first run")

	second, err := a.Run(t.Context(), "And now?", agent.WithState(first.State))
	require.NoError(t, err)
	assert.Equal(t, "Short now.", second.Text)
	creates, compacts := byPath(srv)
	require.Len(t, compacts, 1, "compacted before the second run's first request")
	assert.Equal(t, first.ResponseID, compacts[0].Params.PreviousResponseID)
	require.Len(t, creates, 2)
	assert.Empty(t, creates[1].Params.PreviousResponseID, "the compacted context replaces the chain")
	assert.Equal(t, int64(120), second.State.LastUsage.InputTokens)

	// Below the threshold, nothing is compacted.
	third, err := a.Run(t.Context(), "Thanks.", agent.WithState(second.State))
	require.NoError(t, err)
	assert.Equal(t, "You are welcome.", third.Text)
	creates, compacts = byPath(srv)
	assert.Len(t, compacts, 1)
	require.Len(t, creates, 3)
	assert.Equal(t, second.ResponseID, creates[2].Params.PreviousResponseID)
}
