package temporal_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/telemetry"
	agenttemporal "github.com/agentloop/agentloop/temporal"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// TestTracingNoDuplicatesOnReplay runs a traced agent on a real server
// with a workflow cache of 0, so that every workflow task replays the
// run's history from its start: the chat and execute_tool spans, made by
// the telemetry middleware inside the activities, are each recorded once.
func TestTracingNoDuplicatesOnReplay(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	s := responsestest.New(t,
		responsestest.Output(
			responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`),
			responsestest.FunctionCall("call_2", "add", `{"a":3,"b":4}`),
		),
		responsestest.Output(responsestest.FunctionCall("call_3", "add", `{"a":5,"b":6}`)),
		responsestest.Output(responsestest.Text("3, 7, 11")),
	)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ins := telemetry.New(&telemetry.Options{TracerProvider: tp})
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	a := agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{add}, Middleware: []agent.Middleware{ins.Middleware()}})
	inProcessWorker(t, c, "traced", a, rc, agenttemporal.WorkerOptions{})
	res := getResult(t, startRun(t, c, "traced-1", "traced", agenttemporal.RunInput{Config: a.Config(), Input: input("add")}))
	if res.Text != "3, 7, 11" {
		t.Fatalf("text %q", res.Text)
	}
	var got []string
	for _, sp := range exp.GetSpans() {
		name := sp.Name
		for _, kv := range sp.Attributes {
			switch kv.Key {
			case "gen_ai.tool.call.id", "agentloop.turn":
				name += " " + kv.Value.String()
			}
		}
		got = append(got, name)
	}
	sort.Strings(got)
	want := []string{"chat m 1", "chat m 2", "chat m 3", "execute_tool add call_1", "execute_tool add call_2", "execute_tool add call_3"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("spans:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n, _ := countActivities(t, c, "traced-1"); n.Scheduled != 6 {
		t.Errorf("activities %+v, want 6 (3 model requests, 3 calls)", n)
	}
}
