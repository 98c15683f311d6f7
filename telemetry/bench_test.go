package telemetry_test

import (
	"context"
	"slices"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/telemetry"
	"github.com/agentloop/agentloop/tools"
)

// BenchmarkTurnOverhead measures the cost of tracing on the run of
// agent.BenchmarkTurnOverhead (one call: two requests, streamed, against
// the scripted server): the same agent without middleware (the floor),
// with the middleware on the global no-op providers (no SDK installed),
// and with an SDK that records every span into an in-memory exporter (a
// batch processor) and every metric into a manual reader. Runs are
// interleaved, so that drift on a shared machine hits all alike; the
// figures are the ratios to the floor.
func BenchmarkTurnOverhead(b *testing.B) {
	srv := rt.NewServer(rt.Model(func(req *responses.Request) rt.Reply {
		if !slices.ContainsFunc(req.Input.Items, func(it responses.Item) bool { return it.IsOutput() }) {
			return rt.Output(rt.FunctionCall("call_1", "work", `{"x":"a"}`))
		}
		return rt.Output(rt.Text("5"))
	}))
	defer srv.Close()
	work := &fnTool{name: "work", fn: func(context.Context, tools.Call) (string, error) { return "5", nil }}
	newAgent := func(mw ...agent.Middleware) *agent.Agent {
		return agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{work}, Middleware: mw})
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())

	plain := newAgent()
	noop := newAgent(telemetry.New(nil).Middleware())
	traced := newAgent(telemetry.New(&telemetry.Options{TracerProvider: tp, MeterProvider: mp}).Middleware())
	ctx := context.Background()
	run := func(a *agent.Agent) time.Duration {
		t0 := time.Now()
		if _, err := a.Run(ctx, "add"); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	for range 20 { // warm up connections and caches
		run(plain)
		run(noop)
		run(traced)
	}
	srv.DiscardRequests()
	var tPlain, tNoop, tTraced time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		tPlain += run(plain)
		tNoop += run(noop)
		tTraced += run(traced)
		if i%256 == 0 {
			srv.DiscardRequests()
			exp.Reset()
			var rm metricdata.ResourceMetrics
			_ = reader.Collect(ctx, &rm)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "untraced-ns/run")
	b.ReportMetric(float64(tTraced.Nanoseconds())/n, "traced-ns/run")
	b.ReportMetric(float64(tNoop)/float64(tPlain), "x-noop")
	b.ReportMetric(float64(tTraced)/float64(tPlain), "x-traced")
}

// BenchmarkSeamCost measures the middleware alone around trivial handlers
// (no HTTP): a run with one request and one call, on the global no-op
// providers (no SDK) and on an SDK with an in-memory exporter. It is what
// tracing adds to a run, without the noise of the network.
func BenchmarkSeamCost(b *testing.B) {
	call := tools.NewCall(rt.FunctionCall("call_1", "work", `{"x":"a"}`))
	req := &responses.Request{Model: "m"}
	resp := &responses.Response{ID: "resp_1", Status: "completed", Usage: &responses.Usage{InputTokens: 10, OutputTokens: 5}}
	out := tools.TextOutput(call, "ok", false)
	run := func(mw agent.Middleware) {
		model := mw.Model(func(context.Context, *agent.ModelCall) (*responses.Response, error) { return resp, nil })
		tool := mw.Tool(func(context.Context, tools.Call) (responses.Item, error) { return out, nil })
		h := mw.Run(func(ctx context.Context, _ *agent.RunInfo) (*agent.Result, error) {
			if _, err := model(ctx, &agent.ModelCall{Turn: 1, Request: req}); err != nil {
				return nil, err
			}
			if _, err := tool(ctx, call); err != nil {
				return nil, err
			}
			return &agent.Result{Turns: 1}, nil
		})
		if _, err := h(context.Background(), &agent.RunInfo{Agent: "a", Model: "m"}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("noop", func(b *testing.B) {
		mw := telemetry.New(nil).Middleware()
		b.ReportAllocs()
		for b.Loop() {
			run(mw)
		}
	})
	b.Run("sdk", func(b *testing.B) {
		exp := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		defer tp.Shutdown(context.Background())
		defer mp.Shutdown(context.Background())
		mw := telemetry.New(&telemetry.Options{TracerProvider: tp, MeterProvider: mp}).Middleware()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			run(mw)
			if i%1024 == 0 {
				exp.Reset()
			}
		}
	})
}
