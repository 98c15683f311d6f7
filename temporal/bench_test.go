package temporal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

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

	// The floor: a workflow doing per turn what a turn does on Temporal
	// (a local activity, an activity, a local activity, an activity), each
	// a no-op, with no model, no tool and no Machine.
	b.Run("temporal-floor", func(b *testing.B) {
		srv := benchDevServer(b)
		w := worker.New(srv.Client(), "floor", worker.Options{})
		w.RegisterWorkflowWithOptions(floorWorkflow, workflow.RegisterOptions{Name: "floor"})
		w.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "noop"})
		if err := w.Start(); err != nil {
			b.Fatal(err)
		}
		defer w.Stop()
		i := 0
		for b.Loop() {
			i++
			run, err := srv.Client().ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("floor-%d", i), TaskQueue: "floor"}, "floor")
			if err != nil {
				b.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(benchTurns*b.N)/b.Elapsed().Seconds(), "turns/s")
	})
}

func floorWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	for range benchTurns {
		for _, local := range []bool{true, false, true, false} {
			var f workflow.Future
			if local {
				f = workflow.ExecuteLocalActivity(ctx, "noop")
			} else {
				f = workflow.ExecuteActivity(ctx, "noop")
			}
			if err := f.Get(ctx, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
