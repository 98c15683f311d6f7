package temporal_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	agenttemporal "github.com/agentloop/agentloop/temporal"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
	"github.com/agentloop/agentloop/tools/shell"
)

// The kill tests run the worker in a child process: this test binary
// again, with workerEnv set.
const (
	workerEnv      = "AGENTLOOP_TEMPORAL_TEST_WORKER" // the frontend host:port
	workerQueueEnv = "AGENTLOOP_TEMPORAL_TEST_QUEUE"
	workerModelEnv = "AGENTLOOP_TEMPORAL_TEST_MODEL" // the responsestest URL
	workerLogEnv   = "AGENTLOOP_TEMPORAL_TEST_LOG"   // where tools record executions
	// recordEnv names a directory where the integration tests write the
	// histories of their runs, for the replay test's testdata.
	recordEnv = "AGENTLOOP_TEMPORAL_RECORD"
)

// killHeartbeat is the heartbeat timeout of the kill tests' calls and
// model requests: a dead worker's activity is noticed after it. Long enough
// that a loaded machine does not miss a beat of a live one (they beat every
// third of it).
const killHeartbeat = 5 * time.Second

func TestMain(m *testing.M) {
	shell.RunSandboxHelperIfRequested() // sandboxed commands re-execute this binary
	if addr := os.Getenv(workerEnv); addr != "" {
		if err := runTestWorker(addr); err != nil {
			fmt.Fprintln(os.Stderr, "test worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// blockIn is the input of the kill tests' tools: Block makes the first
// attempt of a call wait until the process is killed.
type blockIn struct {
	Block bool `json:"block"`
}

// recorder appends one line per tool execution event to a file: an
// append-only log that survives the kill.
type recorder struct {
	mu   sync.Mutex
	path string
}

func (r *recorder) record(event, callID string, attempt int, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(f, "%s %s %d %s\n", event, callID, attempt, key)
	f.Close()
}

// testTools are the kill tests' tools: lookup (idempotent) and write (not).
func testTools(rec *recorder) []tools.Tool {
	run := func(name string) func(ctx context.Context, in blockIn) (string, error) {
		return func(ctx context.Context, in blockIn) (string, error) {
			at, _ := tools.AttemptFrom(ctx)
			id := callIDFrom(at.Key)
			rec.record("start", id, at.Number, at.Key)
			if in.Block && at.Number == 1 {
				select { // the test kills the process meanwhile
				case <-ctx.Done():
					return "", ctx.Err()
				case <-time.After(time.Minute):
				}
			}
			rec.record("done", id, at.Number, at.Key)
			return name + " ok", nil
		}
	}
	lookup := function.New("lookup", "looks up", run("lookup"), &function.Options{Timeout: -1})
	write := function.New("write", "writes", run("write"), &function.Options{Timeout: -1})
	return []tools.Tool{idempotent{lookup}, write}
}

func callIDFrom(key string) string {
	if i := strings.LastIndex(key, "/"); i >= 0 {
		return key[i+1:]
	}
	return key
}

func quietLogger() log.Logger { return log.NewStructuredLogger(slog.New(slog.DiscardHandler)) }

func runTestWorker(addr string) error {
	c, err := client.Dial(client.Options{HostPort: addr, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	worker.SetStickyWorkflowCacheSize(0) // every activation replays from history
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: os.Getenv(workerModelEnv)})
	a := agent.New(rc, "m", &agent.Options{Tools: testTools(&recorder{path: os.Getenv(workerLogEnv)})})
	w, err := agenttemporal.NewWorker(c, os.Getenv(workerQueueEnv), a, &agenttemporal.WorkerOptions{
		Client:      rc,
		DefaultTool: agenttemporal.ToolOptions{Heartbeat: killHeartbeat},
	})
	if err != nil {
		return err
	}
	return w.Run(worker.InterruptCh())
}

// devServer starts a Temporal dev server from AGENTLOOP_TEMPORAL_CLI.
func devServer(t *testing.T) *testsuite.DevServer { return benchDevServer(t) }

func benchDevServer(t testing.TB) *testsuite.DevServer {
	t.Helper()
	cli := os.Getenv("AGENTLOOP_TEMPORAL_CLI")
	if cli == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AGENTLOOP_TEMPORAL_CLI is not set: CI must run the Temporal integration tests (build the CLI: go install github.com/temporalio/cli/cmd/temporal@v1.5.1)")
		}
		t.Skip("AGENTLOOP_TEMPORAL_CLI is not set: set it to the temporal CLI binary (go install github.com/temporalio/cli/cmd/temporal@v1.5.1) to run the tests against a real dev server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logPath := filepath.Join(t.TempDir(), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("dev server output:\n%s", b[max(0, len(b)-4096):])
		}
	})
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		Stdout:       logFile,
		Stderr:       logFile,
		ExistingPath: cli,
		DBFilename:   filepath.Join(t.TempDir(), "t.db"),
		LogLevel:     "error",
		ClientOptions: &client.Options{
			HostPort: freeAddr(t), // 127.0.0.1, not every interface of localhost
			Logger:   quietLogger(),
		},
	})
	if err != nil {
		t.Fatalf("start the Temporal dev server (%s): %v", cli, err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Logf("stop dev server: %v", err)
		}
	})
	return srv
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// childWorker is a worker process.
type childWorker struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startWorker(t *testing.T, addr, queue, modelURL, logPath string) *childWorker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		workerEnv+"="+addr, workerQueueEnv+"="+queue, workerModelEnv+"="+modelURL, workerLogEnv+"="+logPath)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &childWorker{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() { w.kill(syscall.SIGTERM) })
	return w
}

func (w *childWorker) kill(sig syscall.Signal) {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(sig)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

// executions reads the tools' log: per call id, the attempts started and
// done.
type execution struct{ started, done []int }

func executions(t *testing.T, path string) map[string]*execution {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*execution{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]*execution{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev, id, key string
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "%s %s %d %s", &ev, &id, &n, &key); err != nil {
			t.Fatalf("tool log line %q: %v", sc.Text(), err)
		}
		e := m[id]
		if e == nil {
			e = &execution{}
			m[id] = e
		}
		if ev == "start" {
			e.started = append(e.started, n)
		} else {
			e.done = append(e.done, n)
		}
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scriptModel answers by the last call output of the input, so a request
// asked again (after a crash) gets the same answer: next maps the call id
// whose output came last ("" for the user's prompt) to the reply.
func scriptModel(next map[string]responsestest.Reply, slow map[string]func() time.Duration) responsestest.Model {
	return func(req *responses.Request) responsestest.Reply {
		key := ""
		for _, it := range req.Input.Items {
			if it.CallID != "" {
				key = it.CallID
			}
		}
		r, ok := next[key]
		if !ok {
			return responsestest.Reply{Status: "failed"}
		}
		if f := slow[key]; f != nil {
			r.Delay = f()
		}
		return r
	}
}

func fc(id, name string, block bool) responses.Item {
	return responsestest.FunctionCall(id, name, fmt.Sprintf(`{"block":%v}`, block))
}

// activityCounts counts a history's activities: scheduled, completed,
// failed or timed out, and retried (started on an attempt after the first).
type activityCounts struct {
	Scheduled, Completed, Failed, TimedOut, Retried int
	Local                                           int // local activities (markers): tool listings and reviews
	ByType                                          map[string]int
}

func countActivities(t *testing.T, c client.Client, id string) (activityCounts, *historypb.History) {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	n := activityCounts{ByType: map[string]int{}}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			n.Scheduled++
			n.ByType[ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()]++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if ev.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
				n.Retried++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			n.Completed++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			n.Local++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			n.Failed++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			n.TimedOut++
		}
	}
	return n, h
}

// saveHistory writes h under $AGENTLOOP_TEMPORAL_RECORD/name.json when set.
func saveHistory(t *testing.T, name string, h *historypb.History) {
	dir := os.Getenv(recordEnv)
	if dir == "" {
		return
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func startRun(t *testing.T, c client.Client, id, queue string, in agenttemporal.RunInput) client.WorkflowRun {
	t.Helper()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: id, TaskQueue: queue, WorkflowExecutionTimeout: 5 * time.Minute,
	}, agenttemporal.WorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func getResult(t *testing.T, run client.WorkflowRun) *agent.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var res agent.Result
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("run %s: %v", run.GetID(), err)
	}
	return &res
}

func testConfig() agent.Config {
	return agent.New(nil, "m", &agent.Options{Tools: testTools(&recorder{})}).Config()
}

// TestKillWorkerDuringTools kills the worker process with SIGKILL while two
// calls run: write (not idempotent) is reported to the model as
// interrupted and never runs again; lookup (idempotent) runs again with the
// same idempotency key. Every call that had completed ran exactly once.
func TestKillWorkerDuringTools(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	s := responsestest.New(t, scriptModel(map[string]responsestest.Reply{
		"":       responsestest.Output(fc("call_1", "lookup", false), fc("call_2", "write", false)),
		"call_2": responsestest.Output(fc("call_3", "write", true), fc("call_4", "lookup", true)),
		"call_4": responsestest.Output(fc("call_5", "lookup", false)),
		"call_5": responsestest.Output(fc("call_6", "write", false)),
		"call_6": responsestest.Output(responsestest.Text("all done")),
	}, nil))
	logPath := filepath.Join(t.TempDir(), "tools.log")
	queue := "kill-tools"
	w1 := startWorker(t, srv.FrontendHostPort(), queue, s.URL, logPath)
	run := startRun(t, c, "kill-tools", queue, agenttemporal.RunInput{Config: testConfig(), Input: input("go")})

	waitFor(t, "calls 3 and 4 to start", func() bool {
		m := executions(t, logPath)
		return m["call_3"] != nil && m["call_4"] != nil
	})
	w1.kill(syscall.SIGKILL)
	startWorker(t, srv.FrontendHostPort(), queue, s.URL, logPath)

	res := getResult(t, run)
	if res.Text != "all done" || res.Turns != 5 || res.ToolCalls != 6 {
		t.Fatalf("result: text %q, turns %d, calls %d", res.Text, res.Turns, res.ToolCalls)
	}
	ex := executions(t, logPath)
	for _, id := range []string{"call_1", "call_2", "call_5", "call_6"} {
		if e := ex[id]; e == nil || len(e.started) != 1 || len(e.done) != 1 {
			t.Errorf("%s: executions %+v, want exactly one", id, e)
		}
	}
	if e := ex["call_3"]; e == nil || len(e.started) != 1 || len(e.done) != 0 {
		t.Errorf("call_3 (write, not idempotent): %+v, want one start and no retry", e)
	}
	if e := ex["call_4"]; e == nil || fmt.Sprint(e.started) != "[1 2]" || fmt.Sprint(e.done) != "[2]" {
		t.Errorf("call_4 (lookup, idempotent): %+v, want attempts 1 and 2, done on 2", e)
	}
	var req3 *responsestest.Request
	for _, r := range s.Requests() {
		if _, ok := r.Output("call_3"); ok {
			req3 = &r
		}
	}
	if req3 == nil {
		t.Fatal("no request carried call_3's output")
	}
	out3, _ := req3.Output("call_3")
	out4, _ := req3.Output("call_4")
	if !strings.Contains(string(out3.Raw()), "interrupted") || !strings.Contains(string(out4.Raw()), "lookup ok") {
		t.Errorf("outputs after the kill: call_3 %s, call_4 %s", out3.Raw(), out4.Raw())
	}

	n, h := countActivities(t, c, "kill-tools")
	t.Logf("activities: %+v", n)
	// 5 turns: 5 Model activities and 5 ListTools local activities; 6
	// calls: 6 Call activities and 6 Review local activities. call_3 timed
	// out (its worker died; not retried), call_4 was retried once.
	want := activityCounts{Scheduled: 11, Completed: 10, TimedOut: 1, Retried: 1, Local: 11}
	if n.Scheduled != want.Scheduled || n.Completed != want.Completed || n.TimedOut != want.TimedOut || n.Retried != want.Retried || n.Failed != 0 || n.Local != want.Local {
		t.Errorf("activities %+v, want %+v", n, want)
	}
	saveHistory(t, "kill-tools", h)
}

// TestKillWorkerDuringModelCall kills the worker while the model request
// is in flight: the request is sent again by the next worker, and the run
// goes on.
func TestKillWorkerDuringModelCall(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	var mu sync.Mutex
	asked := 0
	s := responsestest.New(t, scriptModel(map[string]responsestest.Reply{
		"":       responsestest.Output(fc("call_1", "lookup", false)),
		"call_1": responsestest.Output(responsestest.Text("looked up")),
	}, map[string]func() time.Duration{"call_1": func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		if asked++; asked == 1 {
			return time.Minute // the first attempt hangs until its worker dies
		}
		return 0
	}}))
	logPath := filepath.Join(t.TempDir(), "tools.log")
	queue := "kill-model"
	w1 := startWorker(t, srv.FrontendHostPort(), queue, s.URL, logPath)
	run := startRun(t, c, "kill-model", queue, agenttemporal.RunInput{Config: testConfig(), Input: input("go"),
		Options: agenttemporal.RunOptions{ModelHeartbeat: killHeartbeat}})
	waitFor(t, "the second model request", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return asked == 1
	})
	w1.kill(syscall.SIGKILL)
	startWorker(t, srv.FrontendHostPort(), queue, s.URL, logPath)
	res := getResult(t, run)
	if res.Text != "looked up" || res.Turns != 2 {
		t.Fatalf("result: %q after %d turns", res.Text, res.Turns)
	}
	if e := executions(t, logPath)["call_1"]; e == nil || len(e.started) != 1 || len(e.done) != 1 {
		t.Errorf("call_1 ran %+v, want once", e)
	}
	if asked != 2 {
		t.Errorf("model asked %d times for turn 2, want 2", asked)
	}
	n, h := countActivities(t, c, "kill-model")
	t.Logf("activities: %+v", n)
	// 2 turns: 2 Model activities, 2 ListTools local activities; 1 call:
	// 1 Call activity, 1 Review local activity. The model call of turn 2
	// ran twice: one retry, no failure recorded.
	want := activityCounts{Scheduled: 3, Completed: 3, Retried: 1, Local: 3}
	if n.Scheduled != want.Scheduled || n.Completed != want.Completed || n.Retried != want.Retried || n.Failed != 0 || n.TimedOut != 0 || n.Local != want.Local {
		t.Errorf("activities %+v, want %+v", n, want)
	}
	saveHistory(t, "kill-model", h)
}

// TestApprovalFromAnotherClient runs on a real server: a call waits for
// approval; a second client answers through the Update; a bad answer is
// rejected.
func TestApprovalFromAnotherClient(t *testing.T) {
	srv := devServer(t)
	c := srv.Client()
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "delete", `{"a":1,"b":0}`)),
		responsestest.Output(responsestest.Text("deleted")),
	)
	del := function.New("delete", "deletes", func(ctx context.Context, in addIn) (string, error) { return "deleted", nil },
		&function.Options{NeedsApproval: function.Always})
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	a := agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{del}})
	worker.SetStickyWorkflowCacheSize(0)
	w, err := agenttemporal.NewWorker(c, "approve", a, &agenttemporal.WorkerOptions{Client: rc})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run := startRun(t, c, "approve-1", "approve", agenttemporal.RunInput{Config: a.Config(), Input: input("delete")})

	other, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	waitFor(t, "the pending approval", func() bool {
		v, err := agenttemporal.Pending(ctx, other, "approve-1")
		return err == nil && len(v.Pending) == 1
	})
	if err := agenttemporal.Approve(ctx, other, "approve-1", "call_9", agent.Approve); err == nil || !strings.Contains(err.Error(), "no approval is pending") {
		t.Errorf("approving an unknown call: %v", err)
	}
	if err := agenttemporal.Approve(ctx, other, "approve-1", "call_1", agent.Approve); err != nil {
		t.Fatal(err)
	}
	if err := agenttemporal.Approve(ctx, other, "approve-1", "call_1", agent.Approve); err == nil {
		t.Error("a second answer was accepted")
	}
	if res := getResult(t, run); res.Text != "deleted" {
		t.Fatalf("text %q", res.Text)
	}
	_, h := countActivities(t, c, "approve-1")
	saveHistory(t, "approve-1", h)
}
