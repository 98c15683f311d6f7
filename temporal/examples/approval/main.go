// Command approval runs an agent on Temporal, offline: the worker plays a
// scripted model (responsestest) and has one tool, delete_file, whose calls
// wait for a person's approval. The run survives the worker: stop it, start
// it again, and the run goes on where it was.
//
//	temporal server start-dev --ip 127.0.0.1 --headless    # terminal 1
//	go run ./examples/approval worker                      # terminal 2
//	go run ./examples/approval start -id demo-1 "clean up /tmp/demo"   # terminal 3: waits
//	go run ./examples/approval pending -id demo-1          # terminal 4
//	go run ./examples/approval approve -id demo-1 -call call_1
//
// Flags: -address (default 127.0.0.1:7233), -queue (default agentloop-demo).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	agenttemporal "github.com/agentloop/agentloop/temporal"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "approval:", err)
		os.Exit(1)
	}
}

const usage = `usage: approval [-address host:port] [-queue name] COMMAND
  worker                              run the worker (and its offline model)
  start -id ID [-wait=false] PROMPT   start a run
  pending -id ID                      show the run's state and pending approvals
  approve -id ID -call CALL_ID [-deny REASON]   answer a pending approval`

func run(args []string) error {
	fs := flag.NewFlagSet("approval", flag.ContinueOnError)
	addr := fs.String("address", "127.0.0.1:7233", "Temporal frontend")
	queue := fs.String("queue", "agentloop-demo", "task queue")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New(usage)
	}
	c, err := agenttemporal.Dial(context.Background(), client.Options{HostPort: *addr,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		return err
	}
	defer c.Close()
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "worker":
		return runWorker(c, *queue)
	case "start":
		return start(c, *queue, rest)
	case "pending":
		return pending(c, rest)
	case "approve":
		return approve(c, rest)
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

type deleteIn struct {
	Path string `json:"path"`
}

// newAgent is the demo agent: the same in the worker and in the starter
// (which only reads its Config).
func newAgent(client agent.Client) *agent.Agent {
	del := function.New("delete_file", "Deletes a file.", func(ctx context.Context, in deleteIn) (string, error) {
		at, _ := tools.AttemptFrom(ctx)
		fmt.Printf("delete_file %s (idempotency key %s, attempt %d)\n", in.Path, at.Key, at.Number)
		return "deleted " + in.Path, nil
	}, &function.Options{NeedsApproval: function.Always})
	return agent.New(client, "demo-model", &agent.Options{Name: "demo", Tools: []tools.Tool{del}})
}

// model is the scripted model: it asks to delete two files, then reports
// what the tool said.
func model(req *responses.Request) responsestest.Reply {
	var outputs []string
	for _, it := range req.Input.Items {
		if it.Type == responses.TypeFunctionCallOutput {
			var o struct {
				Output string `json:"output"`
			}
			_ = it.Decode(&o)
			outputs = append(outputs, it.CallID+": "+o.Output)
		}
	}
	if len(outputs) == 0 {
		return responsestest.Output(
			responsestest.FunctionCall("call_1", "delete_file", `{"path":"/tmp/demo/a.log"}`),
			responsestest.FunctionCall("call_2", "delete_file", `{"path":"/tmp/demo/b.log"}`),
		)
	}
	return responsestest.Output(responsestest.Text("Done. " + strings.Join(outputs, "; ")))
}

func runWorker(c client.Client, queue string) error {
	srv := responsestest.NewServer(responsestest.Model(model))
	defer srv.Close()
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	w, err := agenttemporal.NewWorker(c, queue, newAgent(rc), &agenttemporal.WorkerOptions{Client: rc})
	if err != nil {
		return err
	}
	fmt.Println("worker polling task queue", queue, "(Ctrl-C to stop)")
	return w.Run(worker.InterruptCh())
}

func start(c client.Client, queue string, args []string) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	id := fs.String("id", "", "workflow id of the run (required)")
	wait := fs.Bool("wait", true, "wait for the run's result")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" || fs.NArg() == 0 {
		return errors.New("start: need -id and a prompt")
	}
	ctx := context.Background()
	run, err := agenttemporal.Start(ctx, c, client.StartWorkflowOptions{ID: *id, TaskQueue: queue},
		agenttemporal.RunInput{
			Config:  newAgent(nil).Config(),
			Input:   agenttemporal.Prompt(strings.Join(fs.Args(), " ")),
			Options: agenttemporal.RunOptions{ApprovalTimeout: time.Hour},
		})
	if err != nil {
		return err
	}
	fmt.Println("started run", run.GetID())
	if !*wait {
		return nil
	}
	res, err := agenttemporal.Result(ctx, run)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n(turns %d, tool calls %d, stop %s)\n", res.Text, res.Turns, res.ToolCalls, res.StopReason)
	return nil
}

func pending(c client.Client, args []string) error {
	fs := flag.NewFlagSet("pending", flag.ContinueOnError)
	id := fs.String("id", "", "workflow id of the run (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, err := agenttemporal.Pending(context.Background(), c, *id)
	if err != nil {
		return err
	}
	if len(v.Pending) == 0 {
		fmt.Println("no approval pending")
	}
	for _, p := range v.Pending {
		args, _ := json.Marshal(p.Request.Arguments)
		fmt.Printf("%s  %s %s\n", p.CallID, p.Request.Tool, args)
	}
	if v.State != nil {
		fmt.Printf("turns %d, tool calls %d\n", v.State.Turns, v.State.ToolCalls)
	}
	return nil
}

func approve(c client.Client, args []string) error {
	fs := flag.NewFlagSet("approve", flag.ContinueOnError)
	id := fs.String("id", "", "workflow id of the run (required)")
	call := fs.String("call", "", "call id to answer (required)")
	deny := fs.String("deny", "", "deny the call with this reason")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == "" || *call == "" {
		return errors.New("approve: need -id and -call")
	}
	ap := agent.Approve
	if *deny != "" {
		ap = agent.Deny(*deny)
	}
	if err := agenttemporal.Approve(context.Background(), c, *id, *call, ap); err != nil {
		return err
	}
	fmt.Println("answered", *call)
	return nil
}
