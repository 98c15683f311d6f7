package telemetry_test

import (
	"context"
	"fmt"
	"slices"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/telemetry"
	"github.com/agentloop/agentloop/tools"
)

func ExampleNew() {
	srv := rt.NewServer(rt.Output(rt.FunctionCall("call_1", "work", `{"x":"a"}`)), rt.Output(rt.Text("done")))
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})

	// An application installs an SDK; here spans go to memory.
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	ins := telemetry.New(&telemetry.Options{TracerProvider: tp, Endpoint: client.Endpoint()})
	work := &fnTool{name: "work", fn: func(context.Context, tools.Call) (string, error) { return "ok", nil }}
	a := agent.New(client, "gpt-5", &agent.Options{
		Name:       "worker",
		Tools:      []tools.Tool{work},
		Middleware: []agent.Middleware{ins.Middleware()},
	})
	if _, err := a.Run(context.Background(), "work"); err != nil {
		fmt.Println(err)
		return
	}
	ended := spans.Ended()
	slices.SortFunc(ended, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })
	for _, s := range ended {
		indent := ""
		if s.Parent().IsValid() {
			indent = "  "
		}
		fmt.Println(indent + s.Name())
	}
	// Output:
	// invoke_agent worker
	//   chat gpt-5
	//   execute_tool work
	//   chat gpt-5
}
