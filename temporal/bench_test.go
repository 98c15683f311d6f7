package temporal_test

import (
	"context"
	"fmt"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	agenttemporal "github.com/agentloop/agentloop/temporal"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// benchTurns is the number of turns of one benchmark run: four with one
// function call each, then the final answer.
const benchTurns = 5

// benchModel calls add until four outputs have come back, then answers.
func benchModel(req *responses.Request) responsestest.Reply {
	n := 0
	for _, it := range req.Input.Items {
		if it.Type == responses.TypeFunctionCallOutput {
			n = len(it.CallID) // call ids are "c", "cc", "ccc", ...
		}
	}
	if n >= benchTurns-1 {
		return responsestest.Output(responsestest.Text("done"))
	}
	id := ""
	for range n + 1 {
		id += "c"
	}
	return responsestest.Output(responsestest.FunctionCall(id, "add", `{"a":1,"b":2}`))
}

func benchAgent(url string) (*agent.Agent, *responses.Client) {
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: url})
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	return agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{add}}), rc
}

// BenchmarkTurn measures turns per second of the same 5-turn run in process
// (Agent.Run) and through Temporal (a dev server on this machine, one
// worker in this process; runs one after the other).
func BenchmarkTurn(b *testing.B) {
	s := responsestest.NewServer(responsestest.Model(benchModel))
	defer s.Close()
	a, rc := benchAgent(s.URL)
	ctx := context.Background()

	b.Run("inprocess", func(b *testing.B) {
		for b.Loop() {
			res, err := a.Run(ctx, "go")
			if err != nil || res.Turns != benchTurns {
				b.Fatalf("run: %v, %+v", err, res)
			}
			s.DiscardRequests()
		}
		b.ReportMetric(float64(benchTurns*b.N)/b.Elapsed().Seconds(), "turns/s")
	})

	b.Run("temporal", func(b *testing.B) {
		srv := benchDevServer(b)
		w, err := agenttemporal.NewWorker(srv.Client(), "bench", a, &agenttemporal.WorkerOptions{Client: rc})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		defer w.Stop()
		i := 0
		for b.Loop() {
			i++
			run, err := agenttemporal.Start(ctx, srv.Client(), client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%d", i), TaskQueue: "bench"},
				agenttemporal.RunInput{Config: a.Config(), Input: agenttemporal.Prompt("go")})
			if err != nil {
				b.Fatal(err)
			}
			res, err := agenttemporal.Result(ctx, run)
			if err != nil || res.Turns != benchTurns {
				b.Fatalf("run: %v, %+v", err, res)
			}
			s.DiscardRequests()
		}
		b.ReportMetric(float64(benchTurns*b.N)/b.Elapsed().Seconds(), "turns/s")
	})
}
