package telemetry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/telemetry"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func TestMain(m *testing.M) {
	// The application's propagator: requests carry traceparent.
	otel.SetTextMapPropagator(propagation.TraceContext{})
	goleak.VerifyTestMain(m)
}

// harness is an Instrumentation on an SDK with an in-memory span recorder
// and a manual metric reader.
type harness struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	ins    *telemetry.Instrumentation
}

func newHarness(t *testing.T, opts telemetry.Options) *harness {
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	opts.TracerProvider, opts.MeterProvider = tp, mp
	h.ins = telemetry.New(&opts)
	return h
}

// ended returns the ended spans.
func (h *harness) ended() []sdktrace.ReadOnlySpan { return h.spans.Ended() }

func named(spans []sdktrace.ReadOnlySpan, prefix string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if strings.HasPrefix(s.Name(), prefix) {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func hasEvent(s sdktrace.ReadOnlySpan, name string) (sdktrace.Event, bool) {
	for _, ev := range s.Events() {
		if ev.Name == name {
			return ev, true
		}
	}
	return sdktrace.Event{}, false
}

func eventAttr(ev sdktrace.Event, key string) attribute.Value {
	for _, kv := range ev.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// fnTool is a function tool that runs fn.
type fnTool struct {
	name string
	fn   func(ctx context.Context, call tools.Call) (string, error)
}

func (f *fnTool) Definition() responses.ToolDefinition {
	return responses.MustToolDefinition(responses.FunctionTool{Type: "function", Name: f.name,
		Parameters: json.RawMessage(`{"type":"object","properties":{"x":{"type":"string"}},"required":["x"],"additionalProperties":false}`), Strict: true})
}

func (f *fnTool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	s, err := f.fn(ctx, call)
	if err != nil {
		return responses.Item{}, err
	}
	return tools.TextOutput(call, s, false), nil
}

type askTool struct{ *fnTool }

func (a askTool) Review(_ context.Context, call tools.Call) (tools.Review, error) {
	return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{Kind: "function", Tool: a.name, CallID: call.CallID, Summary: "run " + a.name}}, nil
}

func client(srv *rt.Server) *responses.Client {
	return responses.NewClient(&responses.ClientOptions{
		Provider: responses.Compatible, BaseURL: srv.URL,
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond,
	})
}

func newAgent(h *harness, srv *rt.Server, opts agent.Options) *agent.Agent {
	opts.Middleware = append([]agent.Middleware{h.ins.Middleware()}, opts.Middleware...)
	if opts.Name == "" {
		opts.Name = "coder"
	}
	return agent.New(client(srv), "gpt-test", &opts)
}

// A run with three parallel calls: one invoke_agent span; a chat span per
// turn and an execute_tool span per call, all children of the run; the
// calls overlap in time; the requests carry the chat span as traceparent.
func TestRunWithParallelCalls(t *testing.T) {
	h := newHarness(t, telemetry.Options{Endpoint: "http://127.0.0.1:8080/v1/responses"})
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_a", "work", `{"x":"a"}`), rt.FunctionCall("call_b", "work", `{"x":"b"}`), rt.FunctionCall("call_c", "work", `{"x":"c"}`)),
		rt.Output(rt.Text("done")))
	var running, most atomic.Int32
	work := &fnTool{name: "work", fn: func(ctx context.Context, call tools.Call) (string, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		return "ok", nil
	}}
	a := newAgent(h, srv, agent.Options{Tools: []tools.Tool{work}})
	res, err := a.Run(t.Context(), "do the work")
	require.NoError(t, err)
	require.Equal(t, "done", res.Text)
	require.EqualValues(t, 3, most.Load(), "the calls ran in parallel")

	spans := h.ended()
	runs := named(spans, "invoke_agent")
	require.Len(t, runs, 1)
	run := runs[0]
	assert.Equal(t, "invoke_agent coder", run.Name())
	assert.Equal(t, trace.SpanKindInternal, run.SpanKind())
	assert.Equal(t, "invoke_agent", attr(run, "gen_ai.operation.name").AsString())
	assert.Equal(t, "openai", attr(run, "gen_ai.provider.name").AsString())
	assert.Equal(t, "coder", attr(run, "gen_ai.agent.name").AsString())
	assert.Equal(t, "gpt-test", attr(run, "gen_ai.request.model").AsString())
	assert.EqualValues(t, 2, attr(run, "agentloop.run.turns").AsInt64())
	assert.Equal(t, "done", attr(run, "agentloop.run.stop_reason").AsString())
	assert.Equal(t, res.ResponseID, attr(run, "gen_ai.response.id").AsString())
	assert.Equal(t, res.Usage.InputTokens, attr(run, "gen_ai.usage.input_tokens").AsInt64())
	assert.Equal(t, "127.0.0.1", attr(run, "server.address").AsString())
	assert.EqualValues(t, 8080, attr(run, "server.port").AsInt64())
	assert.False(t, run.Parent().IsValid(), "the run is the root")

	chats := named(spans, "chat ")
	require.Len(t, chats, 2)
	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	for n, c := range chats {
		assert.Equal(t, "chat gpt-test", c.Name())
		assert.Equal(t, trace.SpanKindClient, c.SpanKind())
		assert.Equal(t, run.SpanContext().SpanID(), c.Parent().SpanID())
		assert.Equal(t, "chat", attr(c, "gen_ai.operation.name").AsString())
		assert.EqualValues(t, n+1, attr(c, "agentloop.turn").AsInt64())
		assert.Equal(t, reqs[n].ResponseID, attr(c, "gen_ai.response.id").AsString())
		assert.Equal(t, []string{"completed"}, attr(c, "gen_ai.response.finish_reasons").AsStringSlice())
		assert.Positive(t, attr(c, "gen_ai.usage.input_tokens").AsInt64())
		assert.Positive(t, attr(c, "gen_ai.response.time_to_first_chunk").AsFloat64())
		assert.True(t, attr(c, "gen_ai.request.stream").AsBool())
		want := fmt.Sprintf("00-%s-%s-01", c.SpanContext().TraceID(), c.SpanContext().SpanID())
		assert.Equal(t, want, reqs[n].Header.Get("traceparent"), "request %d carries its chat span", n+1)
	}

	calls := named(spans, "execute_tool")
	require.Len(t, calls, 3)
	var ids []string
	for _, c := range calls {
		assert.Equal(t, "execute_tool work", c.Name())
		assert.Equal(t, run.SpanContext().SpanID(), c.Parent().SpanID(), "calls are siblings under the run")
		assert.Equal(t, "work", attr(c, "gen_ai.tool.name").AsString())
		assert.Equal(t, "function", attr(c, "gen_ai.tool.type").AsString())
		assert.Equal(t, "ok", attr(c, "agentloop.tool.outcome").AsString())
		assert.Equal(t, codes.Unset, c.Status().Code)
		ids = append(ids, attr(c, "gen_ai.tool.call.id").AsString())
		// Each call overlaps the others.
		for _, o := range calls {
			assert.True(t, c.StartTime().Before(o.EndTime()) && o.StartTime().Before(c.EndTime()))
		}
		// It starts after the first response began and ends before the second request.
		assert.True(t, c.StartTime().After(chats[0].StartTime()))
		assert.True(t, c.EndTime().Before(chats[1].StartTime()))
	}
	slices.Sort(ids)
	assert.Equal(t, []string{"call_a", "call_b", "call_c"}, ids)

	// Metrics.
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(t.Context(), &rm))
	ms := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			ms[m.Name] = m
		}
	}
	usage := ms["gen_ai.client.token.usage"]
	assert.Equal(t, "{token}", usage.Unit)
	pts := usage.Data.(metricdata.Histogram[int64]).DataPoints
	byType := map[string]int64{}
	for _, p := range pts {
		tt, _ := p.Attributes.Value("gen_ai.token.type")
		op, _ := p.Attributes.Value("gen_ai.operation.name")
		assert.Equal(t, "chat", op.AsString())
		assert.EqualValues(t, 2, p.Count)
		assert.Equal(t, []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}, p.Bounds)
		byType[tt.AsString()] = p.Sum
	}
	assert.Equal(t, map[string]int64{"input": res.Usage.InputTokens, "output": res.Usage.OutputTokens}, byType)
	dur := ms["gen_ai.client.operation.duration"].Data.(metricdata.Histogram[float64]).DataPoints
	ops := map[string]uint64{}
	for _, p := range dur {
		op, _ := p.Attributes.Value("gen_ai.operation.name")
		ops[op.AsString()] += p.Count
	}
	assert.Equal(t, map[string]uint64{"chat": 2, "invoke_agent": 1}, ops)
	toolDur := ms["gen_ai.execute_tool.duration"].Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, toolDur, 1)
	assert.EqualValues(t, 3, toolDur[0].Count)
	assert.GreaterOrEqual(t, toolDur[0].Sum, 0.09)
	ttfc := ms["gen_ai.client.operation.time_to_first_chunk"].Data.(metricdata.Histogram[float64]).DataPoints
	require.Len(t, ttfc, 1)
	assert.EqualValues(t, 2, ttfc[0].Count)
}

// A failing tool: its span has an error status, the outcome and
// error.type; the run goes on (the model reads the failure).
func TestFailingTool(t *testing.T) {
	h := newHarness(t, telemetry.Options{})
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_ok", "work", `{"x":"a"}`), rt.FunctionCall("call_bad", "work", `{"x":"b"}`), rt.FunctionCall("call_slow", "work", `{"x":"slow"}`)),
		rt.Output(rt.Text("recovered")))
	work := &fnTool{name: "work", fn: func(ctx context.Context, call tools.Call) (string, error) {
		switch call.CallID {
		case "call_bad":
			return "", errors.New("disk on fire")
		case "call_slow":
			return "", fmt.Errorf("gave up: %w", tools.ErrTimeout)
		}
		return "fine", nil
	}}
	a := newAgent(h, srv, agent.Options{Tools: []tools.Tool{work}})
	_, err := a.Run(t.Context(), "go")
	require.NoError(t, err)

	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range named(h.ended(), "execute_tool") {
		byID[attr(s, "gen_ai.tool.call.id").AsString()] = s
	}
	require.Len(t, byID, 3)
	assert.Equal(t, codes.Unset, byID["call_ok"].Status().Code)
	bad := byID["call_bad"]
	assert.Equal(t, codes.Error, bad.Status().Code)
	assert.Equal(t, "error", attr(bad, "agentloop.tool.outcome").AsString())
	assert.Equal(t, "error", attr(bad, "error.type").AsString())
	assert.NotContains(t, bad.Status().Description, "disk on fire", "the error text may hold content")
	assert.Equal(t, "timeout", attr(byID["call_slow"], "error.type").AsString())
	run := named(h.ended(), "invoke_agent")[0]
	assert.Equal(t, codes.Unset, run.Status().Code, "a tool failure is not a run failure")
}

// A 429 answered by a retry shows as a span event on the request's span,
// with the status and the delay.
func TestRetried429(t *testing.T) {
	h := newHarness(t, telemetry.Options{})
	srv := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("hi")}, Faults: []rt.Fault{rt.RateLimited(20 * time.Millisecond)}})
	a := newAgent(h, srv, agent.Options{})
	_, err := a.Run(t.Context(), "hello")
	require.NoError(t, err)

	chats := named(h.ended(), "chat ")
	require.Len(t, chats, 1)
	ev, ok := hasEvent(chats[0], "agentloop.retry")
	require.True(t, ok, "a retry event")
	assert.EqualValues(t, 429, eventAttr(ev, "http.response.status_code").AsInt64())
	assert.EqualValues(t, 20, eventAttr(ev, "agentloop.retry.delay_ms").AsInt64())
	assert.EqualValues(t, 1, eventAttr(ev, "agentloop.retry").AsInt64())
	assert.Equal(t, "429", eventAttr(ev, "error.type").AsString())
	assert.Equal(t, codes.Unset, chats[0].Status().Code, "the request succeeded in the end")
	assert.Len(t, srv.Requests(), 2)
}

// Approvals: an approved call's span carries when it was asked and
// decided, and by whom; a declined call gets a span of its own.
func TestApproval(t *testing.T) {
	h := newHarness(t, telemetry.Options{})
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_yes", "deploy", `{"x":"prod"}`), rt.FunctionCall("call_no", "deploy", `{"x":"moon"}`)),
		rt.Output(rt.Text("half deployed")))
	deploy := askTool{&fnTool{name: "deploy", fn: func(context.Context, tools.Call) (string, error) { return "deployed", nil }}}
	approver := agent.ApproverFunc(func(_ context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		time.Sleep(10 * time.Millisecond) // a person thinking
		if req.CallID == "call_yes" {
			return agent.Approve, nil
		}
		return agent.Deny("not the moon"), nil
	})
	a := newAgent(h, srv, agent.Options{Tools: []tools.Tool{deploy}, Approver: h.ins.Approver(approver, func(tools.ApprovalRequest) string { return "user" })})
	_, err := a.Run(t.Context(), "deploy")
	require.NoError(t, err)

	run := named(h.ended(), "invoke_agent")[0]
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range named(h.ended(), "execute_tool") {
		byID[attr(s, "gen_ai.tool.call.id").AsString()] = s
		assert.Equal(t, run.SpanContext().SpanID(), s.Parent().SpanID())
	}
	require.Len(t, byID, 2)

	yes := byID["call_yes"]
	asked, ok := hasEvent(yes, "agentloop.approval.requested")
	require.True(t, ok)
	decided, ok := hasEvent(yes, "agentloop.approval.decided")
	require.True(t, ok)
	assert.True(t, eventAttr(decided, "agentloop.approval.approved").AsBool())
	assert.Equal(t, "user", eventAttr(decided, "agentloop.approval.by").AsString())
	assert.GreaterOrEqual(t, decided.Time.Sub(asked.Time), 10*time.Millisecond, "the wait for the decision")
	assert.False(t, decided.Time.After(yes.StartTime()), "decided before the call ran")
	assert.Equal(t, "ok", attr(yes, "agentloop.tool.outcome").AsString())

	no := byID["call_no"]
	assert.Equal(t, "denied", attr(no, "agentloop.tool.outcome").AsString())
	decided, ok = hasEvent(no, "agentloop.approval.decided")
	require.True(t, ok)
	assert.False(t, eventAttr(decided, "agentloop.approval.approved").AsBool())
	assert.GreaterOrEqual(t, no.EndTime().Sub(no.StartTime()), 10*time.Millisecond, "the declined call's span is its wait")
}

// A stream the user cancels: the request's span and the run's end with
// error.type canceled; the time to the first chunk is still recorded.
func TestStreamCancelledByUser(t *testing.T) {
	h := newHarness(t, telemetry.Options{})
	srv := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("a long long long long answer")}, EventDelay: 20 * time.Millisecond})
	a := newAgent(h, srv, agent.Options{})
	var deltas int
	for ev, err := range a.Stream(t.Context(), "tell me") {
		require.NoError(t, err)
		if ev.Kind == agent.EventTextDelta {
			deltas++
			break // the user pressed Ctrl-C
		}
	}
	require.Equal(t, 1, deltas)

	chats := named(h.ended(), "chat ")
	require.Len(t, chats, 1)
	c := chats[0]
	assert.Equal(t, codes.Error, c.Status().Code)
	assert.Equal(t, "canceled", attr(c, "error.type").AsString())
	assert.Positive(t, attr(c, "gen_ai.response.time_to_first_chunk").AsFloat64())
	run := named(h.ended(), "invoke_agent")[0]
	assert.Equal(t, "canceled", attr(run, "error.type").AsString())
	assert.Equal(t, codes.Error, run.Status().Code)
}

// secrets are texts of a conversation that must not reach a span unless
// content capture is on.
var secrets = []string{"PROMPT-7f3a", "INSTRUCTIONS-91bc", "ARGUMENT-c0de", "RESULT-5eed", "ANSWER-d00d"}

func contentRun(t *testing.T, capture bool) []sdktrace.ReadOnlySpan {
	h := newHarness(t, telemetry.Options{CaptureContent: capture})
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "lookup", `{"x":"ARGUMENT-c0de"}`)),
		rt.Output(rt.Text("ANSWER-d00d")))
	lookup := &fnTool{name: "lookup", fn: func(context.Context, tools.Call) (string, error) { return "RESULT-5eed", nil }}
	a := newAgent(h, srv, agent.Options{Tools: []tools.Tool{lookup}, Instructions: "INSTRUCTIONS-91bc"})
	_, err := a.Run(t.Context(), "PROMPT-7f3a")
	require.NoError(t, err)
	return h.ended()
}

// spanText returns every string in a span: name, attributes, events and
// status.
func spanText(s sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	b.WriteString(s.Name() + "\n" + s.Status().Description + "\n")
	for _, kv := range s.Attributes() {
		b.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
	}
	for _, ev := range s.Events() {
		b.WriteString(ev.Name + "\n")
		for _, kv := range ev.Attributes {
			b.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
		}
	}
	return b.String()
}

// No prompt, instruction, argument, result or answer text is in any span
// unless content capture is on; with it on, each is where the conventions
// put it.
func TestContentOffByDefault(t *testing.T) {
	spans := contentRun(t, false)
	require.NotEmpty(t, spans)
	for _, s := range spans {
		text := spanText(s)
		for _, secret := range secrets {
			assert.NotContains(t, text, secret, "span %s", s.Name())
		}
	}

	spans = contentRun(t, true)
	var all strings.Builder
	for _, s := range spans {
		all.WriteString(spanText(s))
	}
	for _, secret := range secrets {
		assert.Contains(t, all.String(), secret)
	}
	chat := named(spans, "chat ")[0]
	assert.Contains(t, attr(chat, "gen_ai.input.messages").AsString(), "PROMPT-7f3a")
	assert.Equal(t, "INSTRUCTIONS-91bc", attr(chat, "gen_ai.system_instructions").AsString())
	tool := named(spans, "execute_tool")[0]
	assert.JSONEq(t, `{"x":"ARGUMENT-c0de"}`, attr(tool, "gen_ai.tool.call.arguments").AsString())
	assert.Contains(t, attr(tool, "gen_ai.tool.call.result").AsString(), "RESULT-5eed")
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true", "OTEL_SEMCONV_STABILITY_OPT_IN": "http,gen_ai_latest_experimental"}
	o := telemetry.OptionsFromEnv(func(k string) string { return env[k] })
	assert.True(t, o.CaptureContent)
	assert.Equal(t, "http,gen_ai_latest_experimental", o.StabilityOptIn)
	assert.False(t, telemetry.OptionsFromEnv(func(string) string { return "" }).CaptureContent)
	assert.False(t, telemetry.OptionsFromEnv(func(string) string { return "yes please" }).CaptureContent)
}

// OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental drops the
// deprecated gen_ai.system.
func TestStabilityOptIn(t *testing.T) {
	for _, tc := range []struct {
		optIn      string
		wantSystem bool
	}{{"", true}, {"gen_ai_latest_experimental", false}, {"database, gen_ai_latest_experimental", false}} {
		h := newHarness(t, telemetry.Options{StabilityOptIn: tc.optIn, Provider: "acme"})
		srv := rt.New(t, rt.Output(rt.Text("hi")))
		_, err := newAgent(h, srv, agent.Options{}).Run(t.Context(), "hello")
		require.NoError(t, err)
		run := named(h.ended(), "invoke_agent")[0]
		assert.Equal(t, "acme", attr(run, "gen_ai.provider.name").AsString())
		assert.Equal(t, tc.wantSystem, attr(run, "gen_ai.system").AsString() == "acme", "opt-in %q", tc.optIn)
	}
}

// Shell and apply_patch calls and MCP tools carry what identifies them:
// the sandbox mode and exit code, the file touched, the server and its
// tool.
func TestToolDetails(t *testing.T) {
	h := newHarness(t, telemetry.Options{ShellSandbox: "workspace-write", MCPTool: func(name string) (string, string, bool) {
		server, tool, ok := strings.Cut(name, "__")
		return server, tool, ok
	}})
	srv := rt.New(t,
		rt.Output(rt.ShellCall("call_sh", "exit 3"), rt.ApplyPatchCall("call_ap", "create_file", "docs/a.md", "+hi\n"), rt.FunctionCall("call_mcp", "files__read", `{"x":"y"}`)),
		rt.Output(rt.Text("ok")))
	shell := &fakeTool{def: responses.MustToolDefinition(map[string]any{"type": "shell"}), out: func(call tools.Call) responses.Item {
		code := 3
		return responses.MustItem(responses.ShellCallOutput{Type: responses.TypeShellCallOutput, CallID: call.CallID,
			Output: []responses.ShellCommandOutput{{Outcome: responses.ShellOutcome{Type: "exit", ExitCode: &code}}}})
	}}
	patch := &fakeTool{def: responses.MustToolDefinition(map[string]any{"type": "apply_patch"}), out: func(call tools.Call) responses.Item {
		return tools.TextOutput(call, "done", false)
	}}
	mcpTool := &fnTool{name: "files__read", fn: func(context.Context, tools.Call) (string, error) { return "text", nil }}
	_, err := newAgent(h, srv, agent.Options{Tools: []tools.Tool{shell, patch, mcpTool}}).Run(t.Context(), "go")
	require.NoError(t, err)

	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range named(h.ended(), "execute_tool") {
		byID[attr(s, "gen_ai.tool.call.id").AsString()] = s
	}
	sh := byID["call_sh"]
	require.NotNil(t, sh)
	assert.Equal(t, "execute_tool shell", sh.Name())
	assert.EqualValues(t, 3, attr(sh, "process.exit.code").AsInt64())
	assert.Equal(t, "workspace-write", attr(sh, "agentloop.shell.sandbox").AsString())
	assert.True(t, attr(sh, "agentloop.shell.sandboxed").AsBool())
	assert.NotContains(t, spanText(sh), "exit 3", "the command is content")
	ap := byID["call_ap"]
	assert.Equal(t, "execute_tool apply_patch", ap.Name())
	assert.Equal(t, []string{"docs/a.md"}, attr(ap, "agentloop.apply_patch.files").AsStringSlice())
	assert.Equal(t, "create_file", attr(ap, "agentloop.apply_patch.operation").AsString())
	m := byID["call_mcp"]
	assert.Equal(t, "extension", attr(m, "gen_ai.tool.type").AsString())
	assert.Equal(t, "files", attr(m, "agentloop.mcp.server").AsString())
	assert.Equal(t, "read", attr(m, "agentloop.mcp.tool").AsString())
}

type fakeTool struct {
	def responses.ToolDefinition
	out func(tools.Call) responses.Item
}

func (f *fakeTool) Definition() responses.ToolDefinition { return f.def }
func (f *fakeTool) Call(_ context.Context, call tools.Call) (responses.Item, error) {
	return f.out(call), nil
}

// With no SDK installed (the global no-op providers) the middleware adds
// nothing to the requests and the run works as without it.
func TestNoSDK(t *testing.T) {
	ins := telemetry.New(nil)
	srv := rt.New(t, rt.Output(rt.Text("hi")))
	a := agent.New(client(srv), "m", &agent.Options{Middleware: []agent.Middleware{ins.Middleware()}})
	res, err := a.Run(t.Context(), "hello")
	require.NoError(t, err)
	assert.Equal(t, "hi", res.Text)
	assert.Empty(t, srv.Requests()[0].Header.Get("traceparent"))
}

// Calls the server ran (hosted tools) are events of their request's span:
// a hosted MCP call with its server label and remote tool.
func TestHostedToolEvents(t *testing.T) {
	h := newHarness(t, telemetry.Options{})
	srv := rt.New(t, rt.Output(rt.MCPCall("deepwiki", "ask_question", `{"q":"ARGUMENT-c0de"}`, "RESULT-5eed"), rt.Text("answer")))
	_, err := newAgent(h, srv, agent.Options{}).Run(t.Context(), "ask")
	require.NoError(t, err)
	chat := named(h.ended(), "chat ")[0]
	ev, ok := hasEvent(chat, "agentloop.hosted_tool")
	require.True(t, ok)
	assert.Equal(t, "deepwiki", eventAttr(ev, "agentloop.mcp.server").AsString())
	assert.Equal(t, "ask_question", eventAttr(ev, "agentloop.mcp.tool").AsString())
	assert.Equal(t, "extension", eventAttr(ev, "gen_ai.tool.type").AsString())
	assert.Equal(t, "completed", eventAttr(ev, "agentloop.item.status").AsString())
	assert.NotContains(t, spanText(chat), "ARGUMENT-c0de")
	assert.NotContains(t, spanText(chat), "RESULT-5eed")
}

// A handoff is an event of the run's span naming both agents, and starts
// an invoke_agent span for each agent put in charge, a child of the run's:
// the requests and calls that agent makes are its children.
func TestHandoffEvent(t *testing.T) {
	h := newHarness(t, telemetry.Options{})
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("h1", "transfer_to_billing", `{"reason":"refund"}`)),
		rt.Output(rt.FunctionCall("c1", "lookup", `{}`)),
		rt.Output(rt.FunctionCall("h2", "transfer_to_refunds", `{}`)),
		rt.Output(rt.Text("refunded")))
	lookup := function.New("lookup", "Looks up.", func(context.Context, struct{}) (string, error) { return "ok", nil }, nil)
	refunds := agent.New(client(srv), "gpt-test", &agent.Options{Name: "refunds"})
	billing := agent.New(client(srv), "gpt-test", &agent.Options{Name: "billing", Tools: []tools.Tool{lookup}, Handoffs: []agent.Handoff{{Agent: refunds}}})
	a := newAgent(h, srv, agent.Options{Name: "triage", Handoffs: []agent.Handoff{{Agent: billing}}})
	res, err := a.Run(t.Context(), "refund")
	require.NoError(t, err)
	require.Equal(t, "refunds", res.Agent)

	spans := h.ended()
	run := named(spans, "invoke_agent triage")
	require.Len(t, run, 1)
	ev, ok := hasEvent(run[0], "agentloop.handoff")
	require.True(t, ok, "the run's span records the handoff")
	assert.Equal(t, "triage", eventAttr(ev, "agentloop.handoff.from").AsString())
	assert.Equal(t, "billing", eventAttr(ev, "agentloop.handoff.to").AsString())

	billingSpans, refundSpans := named(spans, "invoke_agent billing"), named(spans, "invoke_agent refunds")
	require.Len(t, billingSpans, 1)
	require.Len(t, refundSpans, 1)
	runID := run[0].SpanContext().SpanID()
	for _, s := range []sdktrace.ReadOnlySpan{billingSpans[0], refundSpans[0]} {
		assert.Equal(t, runID, s.Parent().SpanID(), "%s is a child of the run", s.Name())
		assert.Equal(t, "invoke_agent", attr(s, "gen_ai.operation.name").AsString())
		assert.False(t, s.EndTime().After(run[0].EndTime()), "%s ends with the run at the latest", s.Name())
	}
	assert.False(t, billingSpans[0].EndTime().After(refundSpans[0].StartTime()), "billing's span ends at the next handoff")
	assert.Equal(t, "billing", attr(refundSpans[0], "agentloop.handoff.from").AsString())

	// Each request and call is under the agent in charge when it ran.
	parents := map[string]string{}
	byID := map[trace.SpanID]string{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID()] = s.Name()
	}
	chats := named(spans, "chat")
	require.Len(t, chats, 4)
	slices.SortFunc(chats, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	for i, c := range chats {
		parents[fmt.Sprintf("chat %d", i+1)] = byID[c.Parent().SpanID()]
	}
	for _, s := range named(spans, "execute_tool") {
		parents[s.Name()] = byID[s.Parent().SpanID()]
	}
	// (A handoff call is the loop's, not a tool's: it has no execute_tool
	// span; the handoff event and the new agent's span stand for it.)
	assert.Equal(t, map[string]string{
		"chat 1": "invoke_agent triage",
		"chat 2": "invoke_agent billing", "execute_tool lookup": "invoke_agent billing",
		"chat 3": "invoke_agent billing",
		"chat 4": "invoke_agent refunds",
	}, parents)
}
