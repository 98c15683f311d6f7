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
