package telemetry

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/agentloop/agentloop/telemetry"

// Options configures an [Instrumentation]. The zero value of every field
// means the documented default.
type Options struct {
	// TracerProvider makes the tracer; nil uses the global one
	// (otel.GetTracerProvider), a no-op until the application installs an
	// SDK.
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter; nil uses the global one.
	MeterProvider metric.MeterProvider

	// Provider is gen_ai.provider.name: "openai", or the name of the
	// compatible server. Empty means "openai".
	Provider string
	// Endpoint is the URL requests go to ([responses.Client.Endpoint]),
	// for server.address and server.port. Empty omits them.
	Endpoint string

	// CaptureContent records prompts, instructions, outputs, tool
	// definitions, tool arguments and tool results in spans (the
	// conventions' opt-in gen_ai.input.messages, gen_ai.output.messages,
	// gen_ai.tool.call.arguments, ...). Off by default: spans then carry
	// names, ids, counts and outcomes, never text of the conversation.
	// What a tool returns is recorded as it returned it, so secrets a
	// tool scrubs (the shell's) stay scrubbed.
	CaptureContent bool
	// StabilityOptIn is the value of OTEL_SEMCONV_STABILITY_OPT_IN. With
	// "gen_ai_latest_experimental" in its comma-separated list only the
	// names of the conventions followed ([SemconvVersion]) are written;
	// otherwise the deprecated gen_ai.system is written too, beside
	// gen_ai.provider.name, for backends that know only the older name.
	StabilityOptIn string

	// ShellSandbox is the sandbox mode of the application's shell tool
	// ("read-only", "workspace-write", "danger-full-access"), recorded on
	// shell spans; empty records none. (The loop's seam does not hand the
	// tool to the middleware, so the application says it.)
	ShellSandbox string
	// MCPTool names the MCP server and the remote tool behind a function
	// tool, for agentloop.mcp.server and agentloop.mcp.tool; ok false
	// means name is not an MCP tool. Nil treats no tool as MCP.
	MCPTool func(name string) (server, tool string, ok bool)
}

// OptionsFromEnv returns the options the standard environment asks for,
// read through getenv (pass [os.Getenv]; the package itself never reads the
// environment): CaptureContent from
// OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true and
// StabilityOptIn from OTEL_SEMCONV_STABILITY_OPT_IN.
func OptionsFromEnv(getenv func(string) string) *Options {
	capture, _ := strconv.ParseBool(strings.TrimSpace(getenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")))
	return &Options{CaptureContent: capture, StabilityOptIn: getenv("OTEL_SEMCONV_STABILITY_OPT_IN")}
}

// Instrumentation traces and measures agent runs in the OpenTelemetry GenAI
// conventions. Install its [Instrumentation.Middleware] in
// [agent.Options.Middleware] and wrap the agent's approver with
// [Instrumentation.Approver]:
//
//   - a run is an "invoke_agent {agent}" span (INTERNAL), and so is each
//     agent a handoff puts in charge, as a child of the run's span;
//   - each model request a "chat {model}" span (CLIENT), child of the span
//     of the agent in charge, whose context carries the trace to the server
//     (traceparent);
//   - each tool call an "execute_tool {tool}" span (INTERNAL), child of the
//     same span: the calls of one response are siblings, side by side in
//     time when they run in parallel.
//
// It is safe for concurrent use; one Instrumentation serves any number of
// agents and runs.
type Instrumentation struct {
	opts   Options
	tracer trace.Tracer

	base       []attribute.KeyValue // provider (and system)
	server     []attribute.KeyValue // server.address, server.port
	tokenUsage metric.Int64Histogram
	opDuration metric.Float64Histogram
	ttfc       metric.Float64Histogram
	toolDur    metric.Float64Histogram
}

// New returns an Instrumentation configured by opts; nil opts uses the
// defaults. Instruments the meter provider refuses are replaced by no-ops.
func New(opts *Options) *Instrumentation {
	i := &Instrumentation{}
	if opts != nil {
		i.opts = *opts
	}
	o := &i.opts
	tp, mp := o.TracerProvider, o.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	i.tracer = tp.Tracer(ScopeName, trace.WithSchemaURL(SchemaURL))
	meter := mp.Meter(ScopeName, metric.WithSchemaURL(SchemaURL))
	if o.Provider == "" {
		o.Provider = "openai"
	}
	i.base = []attribute.KeyValue{keyProvider.String(o.Provider)}
	if !optedIn(o.StabilityOptIn) {
		i.base = append(i.base, keySystem.String(o.Provider))
	}
	if host, port := hostPort(o.Endpoint); host != "" {
		i.server = append(i.server, keyServerAddress.String(host))
		if port > 0 {
			i.server = append(i.server, keyServerPort.Int(port))
		}
	}
	i.tokenUsage, _ = meter.Int64Histogram(metricTokenUsage, metric.WithUnit("{token}"),
		metric.WithDescription("Number of input and output tokens used."), metric.WithExplicitBucketBoundaries(tokenBuckets...))
	i.opDuration, _ = meter.Float64Histogram(metricOpDuration, metric.WithUnit("s"),
		metric.WithDescription("GenAI operation duration."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	i.ttfc, _ = meter.Float64Histogram(metricTTFC, metric.WithUnit("s"),
		metric.WithDescription("Time to receive the first chunk of a streamed response."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	i.toolDur, _ = meter.Float64Histogram(metricToolDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of tool executions."), metric.WithExplicitBucketBoundaries(durationBuckets...))
	return i
}

func optedIn(v string) bool {
	for s := range strings.SplitSeq(v, ",") {
		if strings.TrimSpace(s) == stabilityOptIn {
			return true
		}
	}
	return false
}

// hostPort splits a URL into host and port (the scheme's default port when
// it names none).
func hostPort(endpoint string) (string, int) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", 0
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		switch u.Scheme {
		case "https":
			port = 443
		case "http":
			port = 80
		}
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	return host, port
}

// Middleware returns the middleware that traces runs, model requests and
// tool calls. Put it first in [agent.Options.Middleware], so that its spans
// include the time of the other middleware.
func (i *Instrumentation) Middleware() agent.Middleware {
	return agent.Middleware{Run: i.wrapRun, Model: i.wrapModel, Tool: i.wrapTool, Event: i.event}
}

// event records on the run's span what has no call of its own: a handoff
// and the agents it joins. A handoff also starts an "invoke_agent {agent}"
// span for the agent now in charge, a child of the run's, which the
// following requests and calls are children of; it ends at the next
// handoff or with the run.
func (i *Instrumentation) event(ctx context.Context, ev *agent.Event) {
	rs := runOf(ctx)
	if rs == nil {
		return
	}
	if ev.Kind == agent.EventHandoff && ev.Handoff != nil {
		h := ev.Handoff
		rs.span.AddEvent(eventHandoff, trace.WithAttributes(
			attribute.String("agentloop.handoff.from", h.From),
			attribute.String("agentloop.handoff.to", h.To),
			attribute.String("gen_ai.tool.call.id", h.CallID),
		))
		if !rs.span.IsRecording() {
			return
		}
		name := opInvokeAgent
		attrs := make([]attribute.KeyValue, 0, 8)
		attrs = append(attrs, keyOperation.String(opInvokeAgent))
		attrs = append(attrs, i.base...)
		if h.To != "" {
			name += " " + h.To
			attrs = append(attrs, keyAgentName.String(h.To))
		}
		attrs = append(attrs, i.server...)
		attrs = append(attrs, attribute.String("agentloop.handoff.from", h.From), attribute.String("gen_ai.tool.call.id", h.CallID))
		now := time.Now()
		_, span := i.tracer.Start(trace.ContextWithSpan(ctx, rs.span), name,
			trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...), trace.WithTimestamp(now))
		rs.mu.Lock()
		prev := rs.agent
		rs.agent = span
		rs.mu.Unlock()
		if prev != nil {
			prev.End(trace.WithTimestamp(now))
		}
	}
}

// runState is what the spans of one run share, found in its context.
type runState struct {
	span trace.Span

	mu        sync.Mutex
	agent     trace.Span          // the span of the agent a handoff put in charge; nil before one
	approvals map[string]approval // approved calls not yet started, by call id
	convID    string
}

// parent returns ctx with the span that a new request or call span belongs
// under: the span of the agent in charge.
func (rs *runState) parent(ctx context.Context) context.Context {
	rs.mu.Lock()
	sp := rs.agent
	rs.mu.Unlock()
	if sp == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, sp)
}

// parentOf is runState.parent for the run of ctx, if it has one.
func parentOf(ctx context.Context) context.Context {
	if rs := runOf(ctx); rs != nil {
		return rs.parent(ctx)
	}
	return ctx
}

type runKey struct{}

func runOf(ctx context.Context) *runState {
	rs, _ := ctx.Value(runKey{}).(*runState)
	return rs
}

func (i *Instrumentation) wrapRun(next agent.RunHandler) agent.RunHandler {
	return func(ctx context.Context, info *agent.RunInfo) (*agent.Result, error) {
		name := opInvokeAgent
		if info.Agent != "" {
			name += " " + info.Agent
		}
		attrs := make([]attribute.KeyValue, 0, 8)
		attrs = append(attrs, keyOperation.String(opInvokeAgent))
		attrs = append(attrs, i.base...)
		if info.Agent != "" {
			attrs = append(attrs, keyAgentName.String(info.Agent))
		}
		attrs = append(attrs, keyRequestModel.String(info.Model))
		attrs = append(attrs, i.server...)
		if info.Resumed {
			attrs = append(attrs, keyResumed.Bool(true))
		}
		start := time.Now()
		ctx, span := i.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...), trace.WithTimestamp(start))
		rs := &runState{span: span}
		res, err := next(context.WithValue(ctx, runKey{}, rs), info)
		end := time.Now()
		errType := ""
		if err != nil {
			errType = errorType(err)
		}
		if span.IsRecording() {
			if res != nil {
				span.SetAttributes(keyTurns.Int(res.Turns), keyToolCalls.Int(res.ToolCalls))
				if res.StopReason != "" {
					span.SetAttributes(keyStopReason.String(res.StopReason))
				}
				if res.ResponseID != "" {
					span.SetAttributes(keyResponseID.String(res.ResponseID))
				}
				span.SetAttributes(usageAttrs(&res.Usage)...)
			}
			rs.mu.Lock()
			if rs.convID != "" {
				span.SetAttributes(keyConversationID.String(rs.convID))
			}
			last := rs.agent
			rs.mu.Unlock()
			if last != nil {
				if res != nil {
					last.SetAttributes(keyTurns.Int(res.Turns), keyToolCalls.Int(res.ToolCalls))
				}
				endSpan(last, err, errType, end)
			}
			endSpan(span, err, errType, end)
		}
		if i.opDuration.Enabled(ctx) {
			mattrs := append(append([]attribute.KeyValue{keyOperation.String(opInvokeAgent), keyRequestModel.String(info.Model)}, i.base...), i.server...)
			if errType != "" {
				mattrs = append(mattrs, keyErrorType.String(errType))
			}
			i.opDuration.Record(ctx, end.Sub(start).Seconds(), metric.WithAttributes(mattrs...))
		}
		return res, err
	}
}

// endSpan ends span at end, with an error status when err is not nil.
func endSpan(span trace.Span, err error, errType string, end time.Time) {
	if err != nil {
		span.SetAttributes(keyErrorType.String(errType))
		span.SetStatus(codes.Error, statusMessage(err))
	}
	span.End(trace.WithTimestamp(end))
}

// statusMessage describes err for a span status without quoting content:
// the error's kind, not its text, which may hold a prompt or an argument.
func statusMessage(err error) string {
	var apiErr *responses.APIError
	switch {
	case errors.As(err, &apiErr):
		msg := "API error"
		if apiErr.StatusCode != 0 {
			msg += " " + strconv.Itoa(apiErr.StatusCode)
		}
		if apiErr.Code != "" {
			msg += " (" + apiErr.Code + ")"
		}
		return msg
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	}
	return errorType(err)
}

// errorType is error.type of a failed run or request: the HTTP status of
// an API error, "stream_broken", "canceled", "timeout", or "_OTHER".
func errorType(err error) string {
	var apiErr *responses.APIError
	var streamErr *responses.StreamError
	var ctErr *responses.ContentTypeError
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &apiErr):
		if apiErr.StatusCode != 0 {
			return strconv.Itoa(apiErr.StatusCode)
		}
		if apiErr.Code != "" {
			return apiErr.Code
		}
		return "api_error"
	case errors.As(err, &streamErr):
		return "stream_broken"
	case errors.As(err, &ctErr):
		return "content_type"
	case errors.Is(err, agent.ErrMaxTurns):
		return "max_turns"
	}
	var respErr *agent.ResponseError
	if errors.As(err, &respErr) {
		return "response_" + respErr.Status
	}
	return "_OTHER"
}

// usageAttrs returns the usage attributes of u.
func usageAttrs(u *responses.Usage) []attribute.KeyValue {
	return []attribute.KeyValue{
		keyInputTokens.Int64(u.InputTokens),
		keyOutputTokens.Int64(u.OutputTokens),
		keyCachedTokens.Int64(u.InputTokensDetails.CachedTokens),
		keyReasoningTokens.Int64(u.OutputTokensDetails.ReasoningTokens),
	}
}
