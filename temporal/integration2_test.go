package temporal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	agenttemporal "github.com/agentloop/agentloop/temporal"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
	"github.com/agentloop/agentloop/tools/shell"
)

// inProcessWorker runs a worker for a in this process, with a workflow
// cache of 0, until the test ends.
func inProcessWorker(t *testing.T, c client.Client, queue string, a *agent.Agent, rc agent.Client, opts agenttemporal.WorkerOptions) {
	t.Helper()
	worker.SetStickyWorkflowCacheSize(0)
	opts.Client = rc
	w, err := agenttemporal.NewWorker(c, queue, a, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
}

// TestCancelStopsRunningCall cancels a run on a real server while a call
// runs: the call's context is canceled, and the run ends canceled with its
// partial result.
func TestCancelStopsRunningCall(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	s := responsestest.New(t, responsestest.Output(responsestest.FunctionCall("call_1", "wait", `{"a":0,"b":0}`)))
	started, stopped := make(chan struct{}), make(chan error, 1)
	wait := function.New("wait", "waits", func(ctx context.Context, in addIn) (string, error) {
		close(started)
		select {
		case <-ctx.Done():
			stopped <- ctx.Err()
			return "", ctx.Err()
		case <-time.After(time.Minute):
			stopped <- nil
			return "waited", nil
		}
	}, &function.Options{Timeout: -1})
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	a := agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{wait}})
	inProcessWorker(t, c, "cancel", a, rc, agenttemporal.WorkerOptions{DefaultTool: agenttemporal.ToolOptions{Heartbeat: time.Second}})
	run := startRun(t, c, "cancel-1", "cancel", agenttemporal.RunInput{Config: a.Config(), Input: input("wait")})
	<-started
	if err := c.CancelWorkflow(context.Background(), "cancel-1", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the call ended with %v, want canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the running call was not canceled")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := agenttemporal.Result(ctx, run)
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want canceled", err)
	}
	if res == nil || res.State == nil || len(res.State.Input) != 1 || !strings.Contains(string(res.State.Input[0].Raw()), "Canceled") {
		t.Fatalf("partial result: %+v", res)
	}
	_, h := countActivities(t, c, "cancel-1")
	saveHistory(t, "cancel-1", h)
}

// TestLargeOutputOnServer: a 3 MiB output (over Temporal's 2 MiB payload
// limit) is cut in the activity, and the run completes on a real server.
func TestLargeOutputOnServer(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "dump", `{"a":0,"b":0}`)),
		responsestest.Output(responsestest.Text("got it")),
	)
	big := "HEAD" + strings.Repeat("y", 3<<20) + "TAIL"
	dump := function.New("dump", "dumps", func(ctx context.Context, in addIn) (string, error) { return big, nil }, nil)
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	a := agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{dump}})
	inProcessWorker(t, c, "large", a, rc, agenttemporal.WorkerOptions{})
	res := getResult(t, startRun(t, c, "large-1", "large", agenttemporal.RunInput{Config: a.Config(), Input: input("dump")}))
	out, _ := s.Requests()[1].Output("call_1")
	if res.Text != "got it" || len(out.Raw()) > 512<<10 || !strings.Contains(string(out.Raw()), "TAIL") {
		t.Fatalf("text %q, output of %d bytes", res.Text, len(out.Raw()))
	}
}

// TestContinueAsNewOnServer: a 5-turn run that continues as new every two
// turns, on a real server, ends with the whole run's result.
func TestContinueAsNewOnServer(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	s := responsestest.New(t, responsestest.Model(benchModel))
	a, rc := benchAgent(s.URL)
	inProcessWorker(t, c, "can", a, rc, agenttemporal.WorkerOptions{})
	run := startRun(t, c, "can-1", "can", agenttemporal.RunInput{Config: a.Config(), Input: input("go"),
		Options: agenttemporal.RunOptions{ContinueAsNewAfter: 2}})
	res := getResult(t, run)
	if res.Text != "done" || res.Turns != benchTurns || res.ToolCalls != benchTurns-1 || len(res.Items) != 2*(benchTurns-1)+1 {
		t.Fatalf("result: text %q, turns %d, calls %d, items %d", res.Text, res.Turns, res.ToolCalls, len(res.Items))
	}
	// Three executions: turns 1-2, 3-4, 5.
	v, err := agenttemporal.Pending(context.Background(), c, "can-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Executions != 3 {
		t.Errorf("executions = %d, want 3", v.Executions)
	}
	_, h := countActivities(t, c, "can-1") // the last execution's
	saveHistory(t, "can-1", h)
	reqs := s.Requests()
	for i, r := range reqs[1:] {
		if r.Params.PreviousResponseID == "" {
			t.Errorf("request %d did not chain", i+2)
		}
	}
}

// TestCancelKillsShellCommand: a shell call approved through the Update
// runs a real command; canceling the run on a real server kills it (the
// shell tool's process group).
func TestCancelKillsShellCommand(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	dir := t.TempDir()
	// Unsandboxed, so that $$ is a pid of this machine, not of a sandbox's
	// pid namespace.
	s := responsestest.New(t, responsestest.Output(responsestest.ShellCall("call_sh", "echo $$ > cmd.pid && exec sleep 60")))
	policy, err := shell.NewPolicy(&shell.PolicyOptions{Allow: []string{"echo", "sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	sh := &shell.Tool{Executor: &shell.Executor{Root: dir, Sandbox: shell.DangerFullAccess, KillGrace: 300 * time.Millisecond}, Policy: policy}
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	a := agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{sh}})
	inProcessWorker(t, c, "shell", a, rc, agenttemporal.WorkerOptions{DefaultTool: agenttemporal.ToolOptions{Heartbeat: time.Second}})
	run := startRun(t, c, "shell-1", "shell", agenttemporal.RunInput{Config: a.Config(), Input: input("sleep")})

	var pid int
	defer func() {
		if t.Failed() {
			v, err := agenttemporal.Pending(context.Background(), c, "shell-1")
			t.Logf("state: %+v %v", v, err)
			if v != nil && v.State != nil {
				for _, it := range v.State.Items {
					t.Logf("item %s", it.Raw())
				}
			}
		}
	}()
	// The policy asks about a command line with $$ and a redirection: the
	// approval comes through the Update.
	waitFor(t, "the approval request", func() bool {
		v, err := agenttemporal.Pending(context.Background(), c, "shell-1")
		return err == nil && len(v.Pending) == 1
	})
	if err := agenttemporal.Approve(context.Background(), c, "shell-1", "call_sh", agent.Approve); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the command to start", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "cmd.pid"))
		if err != nil {
			return false
		}
		_, err = fmt.Sscan(string(b), &pid)
		return err == nil && pid > 0
	})
	if err := c.CancelWorkflow(context.Background(), "shell-1", ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = agenttemporal.Result(ctx, run)
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want canceled", err)
	}
	waitFor(t, "the command to be killed", func() bool {
		return syscall.Kill(pid, 0) != nil
	})
}
