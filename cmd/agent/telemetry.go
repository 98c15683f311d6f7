package main

// OpenTelemetry for the command: OTLP (or console) export of the run's
// traces and metrics when the standard environment asks for it, and the
// spans kept in memory for --timeline. The library side (spans, names,
// metrics) is package telemetry; this file only installs an SDK.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/telemetry"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

// exportTimeout bounds one export and the flush at exit: a collector that
// is down never holds the command up for longer.
const exportTimeout = 3 * time.Second

// tracing is the command's OpenTelemetry SDK, or nothing when neither the
// environment nor --timeline asks for spans. Its methods are safe on a nil
// *tracing.
type tracing struct {
	stderr   io.Writer
	getenv   func(string) string
	tp       *sdktrace.TracerProvider // nil: no spans
	mp       *sdkmetric.MeterProvider // nil: no metrics
	kept     *spanKeeper              // for --timeline; nil without it
	timeline string

	warnOnce, closeOnce sync.Once
}

// startTracing installs the SDK the environment asks for:
//
//	OTEL_TRACES_EXPORTER    otlp, console or none; unset means otlp when an
//	                        OTLP endpoint is set, else none
//	OTEL_METRICS_EXPORTER   likewise, for metrics
//	OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_/_METRICS_ENDPOINT)
//	OTEL_EXPORTER_OTLP_PROTOCOL http/protobuf (the default) or grpc
//	OTEL_SERVICE_NAME       the service name; "agent" by default
//	OTEL_RESOURCE_ATTRIBUTES more resource attributes (key=value,...)
//	OTEL_SDK_DISABLED=true  no export
//
// and keeps the spans in memory when timeline names a file. Nothing here
// fails the run: a bad setting or an exporter that cannot start is one
// warning on stderr, and the run goes on without it. It wraps e.exit, so
// that a second Ctrl-C flushes too.
func startTracing(e *env, timeline string) *tracing {
	t := &tracing{stderr: e.stderr, getenv: e.getenv, timeline: timeline}
	if disabled, _ := strconv.ParseBool(t.env("OTEL_SDK_DISABLED")); disabled && timeline == "" {
		return nil
	}
	ctx := context.Background()
	res := t.resource()
	var spanOpts []sdktrace.TracerProviderOption
	if exp := t.spanExporter(ctx); exp != nil {
		spanOpts = append(spanOpts, sdktrace.WithBatcher(exp, sdktrace.WithExportTimeout(exportTimeout), sdktrace.WithBatchTimeout(time.Second)))
	}
	if timeline != "" {
		t.kept = &spanKeeper{}
		spanOpts = append(spanOpts, sdktrace.WithSpanProcessor(t.kept))
	}
	if len(spanOpts) > 0 {
		t.tp = sdktrace.NewTracerProvider(append(spanOpts, sdktrace.WithResource(res))...)
	}
	if exp := t.metricExporter(ctx); exp != nil {
		t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithTimeout(exportTimeout))))
	}
	if t.tp == nil && t.mp == nil {
		return nil
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(t.warn))
	if t.tp != nil {
		otel.SetTracerProvider(t.tp) // for the MCP client's HTTP requests
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	}
	if t.mp != nil {
		otel.SetMeterProvider(t.mp)
	}
	if exit := e.exit; exit != nil {
		e.exit = func(code int) {
			t.shutdown()
			exit(code)
		}
	}
	return t
}

// warn reports the first export problem on stderr; later ones are
// dropped.
func (t *tracing) warn(err error) {
	t.warnOnce.Do(func() {
		fmt.Fprintf(t.stderr, "agent: warning: telemetry: %v (the run goes on; further telemetry errors are not shown)\n", err)
	})
}

func (t *tracing) env(keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(t.getenv(k)); v != "" {
			return v
		}
	}
	return ""
}

func (t *tracing) resource() *resource.Resource {
	name := t.env("OTEL_SERVICE_NAME")
	if name == "" {
		name = "agent"
	}
	var attrs []attribute.KeyValue
	// OTEL_RESOURCE_ATTRIBUTES: key=value pairs, comma-separated, values
	// percent-encoded; malformed pairs are skipped.
	for pair := range strings.SplitSeq(t.env("OTEL_RESOURCE_ATTRIBUTES"), ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || k == "service.name" {
			continue
		}
		if u, err := url.PathUnescape(strings.TrimSpace(v)); err == nil {
			attrs = append(attrs, attribute.String(k, u))
		}
	}
	attrs = append(attrs,
		attribute.String("service.name", name),
		attribute.String("service.version", version()),
		attribute.String("telemetry.sdk.language", "go"),
		attribute.String("telemetry.sdk.name", "opentelemetry"),
	)
	return resource.NewSchemaless(attrs...)
}

// exporterKind returns what OTEL_{SIGNAL}_EXPORTER asks for, defaulting to
// otlp when an endpoint is set.
func (t *tracing) exporterKind(signal string) (kind, endpoint, protocol string) {
	endpoint = t.env("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
	protocol = t.env("OTEL_EXPORTER_OTLP_"+signal+"_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
	kind = t.env("OTEL_" + signal + "_EXPORTER")
	if kind == "" {
		kind = "none"
		if endpoint != "" {
			kind = "otlp"
		}
	}
	kind, _, _ = strings.Cut(kind, ",") // one exporter: the first
	return strings.TrimSpace(kind), endpoint, protocol
}

// otlpURL returns the URL an OTLP/HTTP exporter posts path to: a signal's
// own endpoint as it is, the general one with the signal's path.
func (t *tracing) otlpURL(signal, endpoint, path string) string {
	if t.env("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != "" {
		return endpoint
	}
	return strings.TrimRight(endpoint, "/") + path
}

func (t *tracing) spanExporter(ctx context.Context) sdktrace.SpanExporter {
	kind, endpoint, protocol := t.exporterKind("TRACES")
	var exp sdktrace.SpanExporter
	var err error
	switch kind {
	case "none":
		return nil
	case "console":
		exp, err = stdouttrace.New(stdouttrace.WithWriter(t.stderr), stdouttrace.WithPrettyPrint())
	case "otlp":
		switch protocol {
		case "grpc":
			opts := []otlptracegrpc.Option{otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}), otlptracegrpc.WithTimeout(exportTimeout)}
			if endpoint != "" {
				opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
			}
			exp, err = otlptracegrpc.New(ctx, opts...)
		case "", "http/protobuf":
			opts := []otlptracehttp.Option{otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}), otlptracehttp.WithTimeout(exportTimeout)}
			if endpoint != "" {
				opts = append(opts, otlptracehttp.WithEndpointURL(t.otlpURL("TRACES", endpoint, "/v1/traces")))
			}
			exp, err = otlptracehttp.New(ctx, opts...)
		default:
			err = fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported (use http/protobuf or grpc); traces are off", protocol)
		}
	default:
		err = fmt.Errorf("OTEL_TRACES_EXPORTER %q is not supported (use otlp, console or none); traces are off", kind)
	}
	if err != nil {
		t.warn(err)
		return nil
	}
	return exp
}

func (t *tracing) metricExporter(ctx context.Context) sdkmetric.Exporter {
	kind, endpoint, protocol := t.exporterKind("METRICS")
	var exp sdkmetric.Exporter
	var err error
	switch kind {
	case "none":
		return nil
	case "console":
		exp, err = stdoutmetric.New(stdoutmetric.WithWriter(t.stderr), stdoutmetric.WithPrettyPrint())
	case "otlp":
		switch protocol {
		case "grpc":
			opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false}), otlpmetricgrpc.WithTimeout(exportTimeout)}
			if endpoint != "" {
				opts = append(opts, otlpmetricgrpc.WithEndpointURL(endpoint))
			}
			exp, err = otlpmetricgrpc.New(ctx, opts...)
		case "", "http/protobuf":
			opts := []otlpmetrichttp.Option{otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}), otlpmetrichttp.WithTimeout(exportTimeout)}
			if endpoint != "" {
				opts = append(opts, otlpmetrichttp.WithEndpointURL(t.otlpURL("METRICS", endpoint, "/v1/metrics")))
			}
			exp, err = otlpmetrichttp.New(ctx, opts...)
		default:
			err = fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported (use http/protobuf or grpc); metrics are off", protocol)
		}
	default:
		err = fmt.Errorf("OTEL_METRICS_EXPORTER %q is not supported (use otlp, console or none); metrics are off", kind)
	}
	if err != nil {
		t.warn(err)
		return nil
	}
	return exp
}

// middleware returns the agent's tracing middleware; none when tracing is
// off, so that the loop does no extra work.
func (t *tracing) middleware(provider, endpoint string, sandbox shell.SandboxMode, m *mcpServers) []agent.Middleware {
	if t == nil {
		return nil
	}
	return []agent.Middleware{t.instrumentation(provider, endpoint, sandbox, m).Middleware()}
}

// approver wraps the command's approver so that approvals show in the
// trace, decided by "policy" or by "user" (the person at the terminal).
func (t *tracing) approver(next agent.Approver, provider, endpoint string, m *mcpServers) agent.Approver {
	a, ok := next.(*approver)
	if t == nil || !ok {
		return next
	}
	return t.instrumentation(provider, endpoint, a.sandbox, m).Approver(a, func(req tools.ApprovalRequest) string {
		if a.in != nil && judge(a.policy, a.sandbox, req) == askPerson {
			return "user"
		}
		return "policy"
	})
}

func (t *tracing) instrumentation(provider, endpoint string, sandbox shell.SandboxMode, m *mcpServers) *telemetry.Instrumentation {
	opts := telemetry.OptionsFromEnv(t.getenv)
	opts.Provider, opts.Endpoint, opts.ShellSandbox = provider, endpoint, string(sandbox)
	if t.tp != nil {
		opts.TracerProvider = t.tp
	}
	if t.mp != nil {
		opts.MeterProvider = t.mp
	}
	if m != nil && m.set != nil {
		opts.MCPTool = func(name string) (string, string, bool) {
			for _, s := range m.set.Servers() {
				if tool, ok := strings.CutPrefix(name, s.Name+"__"); ok {
					return s.Name, tool, true
				}
			}
			return "", "", false
		}
	}
	return telemetry.New(opts)
}

// shutdown flushes what is buffered (bounded by exportTimeout) and writes
// the timeline. It runs once; later calls do nothing.
func (t *tracing) shutdown() {
	if t == nil {
		return
	}
	t.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), exportTimeout)
		defer cancel()
		if t.tp != nil {
			if err := t.tp.Shutdown(ctx); err != nil {
				t.warn(err)
			}
		}
		if t.mp != nil {
			if err := t.mp.Shutdown(ctx); err != nil && !errors.Is(err, sdkmetric.ErrReaderShutdown) {
				t.warn(err)
			}
		}
		if t.kept != nil {
			if err := writeTimelineFile(t.timeline, t.kept.spans()); err != nil {
				fmt.Fprintf(t.stderr, "agent: --timeline: %v\n", err)
			}
		}
	})
}

// spanKeeper keeps every ended span, for the timeline.
type spanKeeper struct {
	mu    sync.Mutex
	ended []sdktrace.ReadOnlySpan
}

func (k *spanKeeper) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (k *spanKeeper) OnEnd(s sdktrace.ReadOnlySpan) {
	k.mu.Lock()
	k.ended = append(k.ended, s)
	k.mu.Unlock()
}
func (k *spanKeeper) Shutdown(context.Context) error   { return nil }
func (k *spanKeeper) ForceFlush(context.Context) error { return nil }

func (k *spanKeeper) spans() []sdktrace.ReadOnlySpan {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), k.ended...)
}

// writeTimelineFile writes the timeline of spans to path.
func writeTimelineFile(path string, spans []sdktrace.ReadOnlySpan) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeTimeline(f, spans); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
