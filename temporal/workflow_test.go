package temporal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	agenttemporal "github.com/agentloop/agentloop/temporal"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

type addIn struct {
	A int `json:"a"`
	B int `json:"b"`
}

// idempotent marks a function tool as safe to run twice.
type idempotent struct{ *function.Tool }

func (idempotent) Idempotent() bool { return true }

// env is a test workflow environment running the workflow and activities
// of an agent against a responsestest server, counting activity attempts.
type env struct {
	*testsuite.TestWorkflowEnvironment
	mu     sync.Mutex
	counts map[string]int
}

func newEnv(t *testing.T, s *responsestest.Server, a *agent.Agent, opts agenttemporal.WorkerOptions) *env {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	e := &env{TestWorkflowEnvironment: ts.NewTestWorkflowEnvironment(), counts: map[string]int{}}
	if opts.Client == nil && a.Client() == nil {
		opts.Client = responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	}
	agenttemporal.Register(e, a, opts)
	count := func(info *activity.Info, _ context.Context, _ []any) {
		e.mu.Lock()
		e.counts[info.ActivityType.Name]++
		e.mu.Unlock()
	}
	e.SetOnActivityStartedListener(func(info *activity.Info, ctx context.Context, _ converter.EncodedValues) { count(info, ctx, nil) })
	e.SetOnLocalActivityStartedListener(count)
	return e
}

func (e *env) count(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[name]
}

func input(prompt string) []responses.Item { return []responses.Item{responses.UserMessage(prompt)} }

func result(t *testing.T, e *env) *agent.Result {
	t.Helper()
	if !e.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := e.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var res agent.Result
	if err := e.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return &res
}

func TestMultiTurnParallelCalls(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(
			responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`),
			responsestest.FunctionCall("call_2", "add", `{"a":3,"b":4}`),
			responsestest.FunctionCall("call_3", "add", `{"a":5,"b":6}`),
		),
		responsestest.Output(responsestest.FunctionCall("call_4", "note", `{"a":0,"b":0}`)),
		responsestest.Output(responsestest.Text("3, 7, 11")),
	)
	var mu sync.Mutex
	running, peak := 0, 0
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return in.A + in.B, nil
	}, nil)
	var keys []string
	note := function.New("note", "notes", func(ctx context.Context, in addIn) (string, error) {
		at, ok := tools.AttemptFrom(ctx)
		if !ok {
			return "", errors.New("no attempt in the context")
		}
		keys = append(keys, at.Key)
		return "noted", nil
	}, &function.Options{Serial: true})
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{idempotent{add}, note}, MaxParallel: 2})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.SetStartWorkflowOptions(clientStartOptions("run-1"))
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("add")})
	res := result(t, e)
	if res.Text != "3, 7, 11" || res.Turns != 3 || res.ToolCalls != 4 || res.StopReason != "done" {
		t.Fatalf("result: text %q, turns %d, calls %d, stop %q", res.Text, res.Turns, res.ToolCalls, res.StopReason)
	}
	if peak != 2 {
		t.Errorf("peak parallel calls = %d, want 2 (MaxParallel)", peak)
	}
	reqs := s.Requests()
	if got := reqs[1].InputTypes(); strings.Join(got, ",") != "function_call_output,function_call_output,function_call_output" {
		t.Errorf("second request input = %v", got)
	}
	for i, id := range []string{"call_1", "call_2", "call_3"} {
		out, ok := reqs[1].Output(id)
		want := []string{"3", "7", "11"}[i]
		if !ok || !strings.Contains(string(out.Raw()), want) {
			t.Errorf("output of %s = %s, want %s", id, out.Raw(), want)
		}
	}
	if len(keys) != 1 || keys[0] != "run-1/call_4" {
		t.Errorf("idempotency keys = %v, want [run-1/call_4]", keys)
	}
	want := map[string]int{agenttemporal.ListToolsActivity: 3, agenttemporal.ModelActivity: 3, agenttemporal.ReviewActivity: 4, agenttemporal.CallActivity: 4}
	for name, n := range want {
		if got := e.count(name); got != n {
			t.Errorf("%s ran %d times, want %d", name, got, n)
		}
	}
}

func clientStartOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: "test"}
}

func TestApprovalByUpdate(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(
			responsestest.FunctionCall("call_1", "delete", `{"a":1,"b":0}`),
			responsestest.FunctionCall("call_2", "delete", `{"a":2,"b":0}`),
		),
		responsestest.Output(responsestest.Text("deleted 1, kept 2")),
	)
	var ran []int
	del := function.New("delete", "deletes", func(ctx context.Context, in addIn) (string, error) {
		ran = append(ran, in.A)
		return "deleted", nil
	}, &function.Options{NeedsApproval: function.Always})
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{del}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.SetStartWorkflowOptions(clientStartOptions("run-approve"))

	rejected := func(what string) *updateCallback {
		return &updateCallback{t: t, wantErr: true, what: what}
	}
	accepted := func(what string) *updateCallback { return &updateCallback{t: t, what: what} }
	e.RegisterDelayedCallback(func() {
		v := queryState(t, e)
		if len(v.Pending) != 1 || v.Pending[0].CallID != "call_1" {
			t.Errorf("pending = %+v, want call_1", v.Pending)
		}
		e.UpdateWorkflow(agenttemporal.ApproveUpdate, "u1", rejected("unknown id"), agenttemporal.ApprovalAnswer{CallID: "nope", Approval: agent.Approve})
		e.UpdateWorkflow(agenttemporal.ApproveUpdate, "u2", accepted("call_1"), agenttemporal.ApprovalAnswer{CallID: "call_1", Approval: agent.Approve})
	}, time.Hour)
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(agenttemporal.ApproveUpdate, "u3", rejected("second answer"), agenttemporal.ApprovalAnswer{CallID: "call_1", Approval: agent.Approve})
		e.UpdateWorkflow(agenttemporal.ApproveUpdate, "u4", accepted("call_2"), agenttemporal.ApprovalAnswer{CallID: "call_2", Approval: agent.Deny("keep it")})
	}, 2*time.Hour)
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("delete")})
	res := result(t, e)
	if res.Text != "deleted 1, kept 2" || len(ran) != 1 || ran[0] != 1 {
		t.Fatalf("text %q, ran %v", res.Text, ran)
	}
	out, _ := s.Requests()[1].Output("call_2")
	if !strings.Contains(string(out.Raw()), "keep it") {
		t.Errorf("declined output = %s", out.Raw())
	}
	if got := e.count(agenttemporal.ReviewActivity); got != 2 {
		t.Errorf("reviews = %d, want 2", got)
	}
	if got := e.count(agenttemporal.CallActivity); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}
}

func TestApprovalTimeoutDenies(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "delete", `{"a":1,"b":0}`)),
		responsestest.Output(responsestest.Text("nothing deleted")),
	)
	del := function.New("delete", "deletes", func(ctx context.Context, in addIn) (string, error) {
		t.Error("the call ran without approval")
		return "", nil
	}, &function.Options{NeedsApproval: function.Always})
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{del}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("delete"),
		Options: agenttemporal.RunOptions{ApprovalTimeout: time.Hour}})
	res := result(t, e)
	out, _ := s.Requests()[1].Output("call_1")
	if res.Text != "nothing deleted" || !strings.Contains(string(out.Raw()), "no answer came within 1h0m0s") {
		t.Fatalf("text %q, output %s", res.Text, out.Raw())
	}
}

type updateCallback struct {
	t       *testing.T
	what    string
	wantErr bool
}

func (u *updateCallback) Accept()             {}
func (u *updateCallback) Complete(any, error) {}
func (u *updateCallback) Reject(err error) {
	if !u.wantErr {
		u.t.Errorf("update %s rejected: %v", u.what, err)
	}
}

func queryState(t *testing.T, e *env) agenttemporal.StateView {
	t.Helper()
	v, err := e.QueryWorkflow(agenttemporal.StateQuery)
	if err != nil {
		t.Fatal(err)
	}
	var sv agenttemporal.StateView
	if err := v.Get(&sv); err != nil {
		t.Fatal(err)
	}
	return sv
}

func TestCancel(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "wait", `{"a":1,"b":0}`)),
	)
	var e *env
	started := make(chan struct{})
	wait := function.New("wait", "waits", func(ctx context.Context, in addIn) (string, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	}, &function.Options{Timeout: -1})
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{wait}})
	e = newEnv(t, s, a, agenttemporal.WorkerOptions{DefaultTool: agenttemporal.ToolOptions{Heartbeat: time.Second}})
	go func() {
		<-started
		e.CancelWorkflow()
	}()
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("wait")})
	err := e.GetWorkflowError()
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want canceled", err)
	}
	var res *agent.Result
	if err := ce.Details(&res); err != nil {
		t.Fatal(err)
	}
	if res.State == nil || len(res.State.Input) != 1 || !strings.Contains(string(res.State.Input[0].Raw()), "Canceled") {
		t.Fatalf("state after cancel: %+v", res.State)
	}
}

func TestContinueAsNew(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
		responsestest.Output(responsestest.FunctionCall("call_2", "add", `{"a":3,"b":4}`)),
		responsestest.Output(responsestest.Text("3 then 7")),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}, MaxTurns: 3})
	in := agenttemporal.RunInput{Config: a.Config(), Input: input("add"), Options: agenttemporal.RunOptions{ContinueAsNewAfter: 1}}
	var res *agent.Result
	for exec := 1; ; exec++ {
		e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
		e.ExecuteWorkflow(agenttemporal.WorkflowName, in)
		err := e.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(err, &can) {
			if exec > 3 {
				t.Fatal("too many executions")
			}
			var next agenttemporal.RunInput
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				t.Fatal(err)
			}
			if next.Continued == nil || next.State == nil || len(next.State.Input) != 1 {
				t.Fatalf("continue-as-new input: %+v", next)
			}
			// The run's bookkeeping travels in the checkpoint.
			if p := next.State.Progress; p == nil || p.StartTurns != 0 || p.Started.IsZero() || len(p.Input) != 1 {
				t.Fatalf("continue-as-new progress: %+v", next.State.Progress)
			}
			in = next
			continue
		}
		res = result(t, e)
		if exec != 3 {
			t.Errorf("executions = %d, want 3", exec)
		}
		break
	}
	if res.Text != "3 then 7" || res.Turns != 3 || res.ToolCalls != 2 || len(res.Items) != 5 {
		t.Fatalf("text %q turns %d calls %d items %d", res.Text, res.Turns, res.ToolCalls, len(res.Items))
	}
	if got := s.Requests()[2].Params.PreviousResponseID; got != "resp_2" {
		t.Errorf("third request chains to %q, want resp_2", got)
	}
}

func TestContinueAsNewKeepsMaxTurns(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
		responsestest.Output(responsestest.FunctionCall("call_2", "add", `{"a":3,"b":4}`)),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}, MaxTurns: 2})
	in := agenttemporal.RunInput{Config: a.Config(), Input: input("add"), Options: agenttemporal.RunOptions{ContinueAsNewAfter: 1}}
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, in)
	var can *workflow.ContinueAsNewError
	if !errors.As(e.GetWorkflowError(), &can) {
		t.Fatalf("error = %v, want continue-as-new", e.GetWorkflowError())
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, in)
	err := e.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "maximum number of turns") {
		t.Fatalf("error = %v, want max turns after 2 turns in all", err)
	}
}

func TestLargeOutputIsCut(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "dump", `{"a":1,"b":0}`)),
		responsestest.Output(responsestest.Text("got it")),
	)
	big := "HEAD" + strings.Repeat("x", 3<<20) + "TAIL"
	dump := function.New("dump", "dumps", func(ctx context.Context, in addIn) (string, error) { return big, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{dump}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("dump")})
	res := result(t, e)
	out, ok := s.Requests()[1].Output("call_1")
	raw := string(out.Raw())
	if !ok || res.Text != "got it" {
		t.Fatalf("text %q, output found %v", res.Text, ok)
	}
	if len(raw) > 512<<10 || !strings.Contains(raw, "HEAD") || !strings.Contains(raw, "TAIL") || !strings.Contains(raw, "bytes left out") {
		t.Fatalf("output of %d bytes, head %v tail %v", len(raw), strings.Contains(raw, "HEAD"), strings.Contains(raw, "TAIL"))
	}
}

func TestModelRetries(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Reply{Output: []responses.Item{responsestest.Text("hello")},
			Faults: []responsestest.Fault{responsestest.RateLimited(3 * time.Second), responsestest.ServerError(503)}},
	)
	a := agent.New(nil, "m", nil)
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("hi")})
	res := result(t, e)
	if res.Text != "hello" {
		t.Fatalf("text %q", res.Text)
	}
	if got := e.count(agenttemporal.ModelActivity); got != 3 {
		t.Errorf("model attempts = %d, want 3 (the client's own retries are off)", got)
	}
	if got := len(s.Requests()); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

func TestModelNonRetryable(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Reply{Output: []responses.Item{responsestest.Text("never")}, Faults: []responsestest.Fault{responsestest.Unauthorized()}},
	)
	a := agent.New(nil, "m", nil)
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("hi")})
	err := e.GetWorkflowError()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != agenttemporal.ErrTypeRun || !strings.Contains(err.Error(), "401") {
		t.Fatalf("error = %v, want a run error for the 401", err)
	}
	var res *agent.Result
	if err := app.Details(&res); err != nil || res == nil || res.State == nil {
		t.Fatalf("details: %v %+v", err, res)
	}
	if got := e.count(agenttemporal.ModelActivity); got != 1 {
		t.Errorf("model attempts = %d, want 1", got)
	}
}

func TestPreviousResponseNotFoundFallsBack(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
		responsestest.Reply{Output: []responses.Item{responsestest.Text("3")}, Faults: []responsestest.Fault{
			responsestest.HTTPError(400, "invalid_request_error", "previous_response_not_found", "Previous response with id 'resp_1' not found."),
		}},
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("add")})
	res := result(t, e)
	if res.Text != "3" {
		t.Fatalf("text %q", res.Text)
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	last := reqs[2]
	if last.Params.PreviousResponseID != "" || strings.Join(last.InputTypes(), ",") != "message,function_call,function_call_output" {
		t.Errorf("fall-back request: previous %q, input %v", last.Params.PreviousResponseID, last.InputTypes())
	}
}

func TestStateless(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.Reasoning("think", "enc"), responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
		responsestest.Output(responsestest.Text("3")),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}, Stateless: true})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("add")})
	res := result(t, e)
	if res.Text != "3" || len(res.Transcript) != 5 {
		t.Fatalf("text %q, transcript of %d items", res.Text, len(res.Transcript))
	}
	second := s.Requests()[1]
	if second.Params.PreviousResponseID != "" || strings.Join(second.InputTypes(), ",") != "message,reasoning,function_call,function_call_output" {
		t.Errorf("stateless request: previous %q, input %v", second.Params.PreviousResponseID, second.InputTypes())
	}
}

func TestUnknownToolIsAnOutput(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "nope", `{}`)),
		responsestest.Output(responsestest.Text("sorry")),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("call nope")})
	res := result(t, e)
	out, _ := s.Requests()[1].Output("call_1")
	if res.Text != "sorry" || !strings.Contains(string(out.Raw()), `unknown tool \"nope\"`) {
		t.Fatalf("text %q, output %s", res.Text, out.Raw())
	}
	if got := e.count(agenttemporal.CallActivity); got != 0 {
		t.Errorf("call activities = %d, want 0", got)
	}
}

func TestDialUnreachable(t *testing.T) {
	addr := freeAddr(t) // nothing listens there
	start := time.Now()
	_, err := agenttemporal.Dial(context.Background(), client.Options{HostPort: addr, Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Temporal server at "+addr) {
		t.Fatalf("error = %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestDeferThenResume: an answer that defers ends the run with the call
// pending; a new run resumes its state with the decision.
func TestDeferThenResume(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "delete", `{"a":1,"b":0}`)),
		responsestest.Output(responsestest.Text("deleted")),
	)
	ran := 0
	del := function.New("delete", "deletes", func(ctx context.Context, in addIn) (string, error) {
		ran++
		return "deleted", nil
	}, &function.Options{NeedsApproval: function.Always})
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{del}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.RegisterDelayedCallback(func() {
		e.UpdateWorkflow(agenttemporal.ApproveUpdate, "u1", &updateCallback{t: t, what: "defer"}, agenttemporal.ApprovalAnswer{CallID: "call_1", Approval: agent.Defer})
	}, time.Minute)
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("delete")})
	res := result(t, e)
	if res.StopReason != "pending_approval" || len(res.Pending) != 1 || ran != 0 {
		t.Fatalf("first run: stop %q, pending %v, ran %d", res.StopReason, res.Pending, ran)
	}
	e = newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), State: res.State, Resume: true,
		Decisions: []agent.Decision{{CallID: "call_1", Approval: agent.Approve}}})
	res = result(t, e)
	if res.Text != "deleted" || ran != 1 || res.Turns != 2 {
		t.Fatalf("resumed run: text %q, ran %d, turns %d", res.Text, ran, res.Turns)
	}
}

// TestCompaction: past the threshold the Machine asks to compact before the
// next request; the compact activity calls the endpoint and the next request
// starts from the compacted items.
func TestCompaction(t *testing.T) {
	withUsage := func(in int64, items ...responses.Item) responsestest.Reply {
		r := responsestest.Output(items...)
		r.Usage = &responses.Usage{InputTokens: in, OutputTokens: 50}
		return r
	}
	s := responsestest.New(t,
		withUsage(850, responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
		withUsage(100, responsestest.Text("3")),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}, Compaction: agent.Compaction{ContextWindow: 1000}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("add")})
	res := result(t, e)
	if res.Text != "3" || e.count(agenttemporal.CompactActivity) != 1 {
		t.Fatalf("text %q, compactions %d", res.Text, e.count(agenttemporal.CompactActivity))
	}
	var creates []responsestest.Request
	for _, r := range s.Requests() {
		if !strings.HasSuffix(r.Path, "/compact") {
			creates = append(creates, r)
		}
	}
	last := creates[len(creates)-1]
	if last.Params.PreviousResponseID != "" || len(last.Input()) == 0 || responsestest.CompactedCount(last.Input()[len(last.Input())-1]) == 0 {
		t.Errorf("request after compaction: previous %q, input %v", last.Params.PreviousResponseID, last.InputTypes())
	}
}

func TestCallTimeout(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "slow", `{"a":0,"b":0}`)),
		responsestest.Output(responsestest.Text("too slow")),
	)
	slow := function.New("slow", "is slow", func(ctx context.Context, in addIn) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}, &function.Options{Timeout: -1})
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{slow}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{Tools: map[string]agenttemporal.ToolOptions{"slow": {StartToClose: 300 * time.Millisecond}}})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("slow")})
	res := result(t, e)
	out, _ := s.Requests()[1].Output("call_1")
	if res.Text != "too slow" || !strings.Contains(string(out.Raw()), "ran out of its time (300ms)") {
		t.Fatalf("text %q, output %s", res.Text, out.Raw())
	}
	if got := e.count(agenttemporal.CallActivity); got != 1 {
		t.Errorf("call attempts = %d, want 1 (not idempotent)", got)
	}
}

func TestContinueAsNewUnboundedTurns(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)),
		responsestest.Output(responsestest.Text("3")),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}, MaxTurns: -1})
	in := agenttemporal.RunInput{Config: a.Config(), Input: input("add"), Options: agenttemporal.RunOptions{ContinueAsNewAfter: 1}}
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, in)
	var can *workflow.ContinueAsNewError
	if !errors.As(e.GetWorkflowError(), &can) {
		t.Fatalf("error = %v, want continue-as-new", e.GetWorkflowError())
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	e = newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, in)
	if res := result(t, e); res.Text != "3" || res.Turns != 2 {
		t.Fatalf("text %q turns %d", res.Text, res.Turns)
	}
}

// TestHandoff: the model hands the run to another agent; the next request
// carries that agent's instructions and tools, and its tool runs on the
// worker, found through the worker's agent's handoffs (no
// WorkerOptions.Agents).
func TestHandoff(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.FunctionCall("call_1", "transfer_to_billing", `{}`)),
		responsestest.Output(responsestest.FunctionCall("call_2", "refund", `{"a":5,"b":0}`)),
		responsestest.Output(responsestest.Text("refunded 5")),
	)
	refunded := 0
	refund := function.New("refund", "refunds", func(ctx context.Context, in addIn) (string, error) {
		refunded += in.A
		return "ok", nil
	}, nil)
	billing := agent.New(nil, "m", &agent.Options{Name: "billing", Instructions: "You do billing.", Tools: []tools.Tool{refund}})
	triage := agent.New(nil, "m", &agent.Options{Name: "triage", Instructions: "You route.", Handoffs: []agent.Handoff{{Agent: billing}}})
	e := newEnv(t, s, triage, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: triage.Config(), Input: input("refund me")})
	res := result(t, e)
	if res.Text != "refunded 5" || refunded != 5 || res.State.Agent != "billing" {
		t.Fatalf("text %q, refunded %d, agent %q", res.Text, refunded, res.State.Agent)
	}
	second := s.Requests()[1]
	if second.Params.Instructions != "You do billing." || len(second.Params.Tools) != 1 || second.Params.PreviousResponseID != "resp_1" {
		t.Errorf("request after the handoff: instructions %q, %d tools, previous %q", second.Params.Instructions, len(second.Params.Tools), second.Params.PreviousResponseID)
	}
	if got := e.count(agenttemporal.HandOffActivity); got != 1 {
		t.Errorf("handoffs = %d, want 1", got)
	}
}

// TestHandoffCallbackAndFilter: the handoff's OnHandoff runs on the worker
// with the call's arguments, and its filter decides what the target's
// first request sends in place of the chain, as in process.
func TestHandoffCallbackAndFilter(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(responsestest.Text("let me see"), responsestest.FunctionCall("call_1", "transfer_to_billing", `{"reason":"money"}`)),
		responsestest.Output(responsestest.Text("billing here")),
	)
	var reason string
	billing := agent.New(nil, "m", &agent.Options{Name: "billing", Instructions: "You do billing."})
	triage := agent.New(nil, "m", &agent.Options{Name: "triage", Handoffs: []agent.Handoff{{
		Agent:  billing,
		Filter: agent.HandoffFilter{DropTools: true},
		OnHandoff: func(ctx context.Context, args json.RawMessage) error {
			var v struct{ Reason string }
			if err := json.Unmarshal(args, &v); err != nil {
				return err
			}
			reason = v.Reason
			return nil
		},
	}}})
	e := newEnv(t, s, triage, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: triage.Config(), Input: input("refund me")})
	res := result(t, e)
	if res.Text != "billing here" || reason != "money" {
		t.Fatalf("text %q, OnHandoff saw reason %q", res.Text, reason)
	}
	second := s.Requests()[1]
	if second.Params.PreviousResponseID != "" {
		t.Errorf("a filtered handoff chained to %q", second.Params.PreviousResponseID)
	}
	if got := strings.Join(second.InputTypes(), ","); got != "message,message" {
		t.Errorf("the target's first input = %s, want the user's message and the reply, without the handoff call", got)
	}
}

// TestHandoffCallbackFails: an error of OnHandoff ends the run.
func TestHandoffCallbackFails(t *testing.T) {
	s := responsestest.New(t, responsestest.Output(responsestest.FunctionCall("call_1", "transfer_to_billing", `{}`)))
	billing := agent.New(nil, "m", &agent.Options{Name: "billing"})
	triage := agent.New(nil, "m", &agent.Options{Name: "triage", Handoffs: []agent.Handoff{{
		Agent:     billing,
		OnHandoff: func(context.Context, json.RawMessage) error { return errors.New("billing is closed") },
	}}})
	e := newEnv(t, s, triage, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: triage.Config(), Input: input("refund me")})
	if err := e.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "billing is closed") {
		t.Fatalf("error = %v, want the OnHandoff error", err)
	}
}

// TestMiddlewareInActivities: the agent's Model and Tool middleware and
// its tool guardrails run inside the activities; the model activity sends
// through the agent's own client when WorkerOptions.Client is not set.
func TestMiddlewareInActivities(t *testing.T) {
	s := responsestest.New(t,
		responsestest.Output(
			responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`),
			responsestest.FunctionCall("call_2", "add", `{"a":666,"b":0}`),
		),
		responsestest.Output(responsestest.Text("3")),
	)
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { return in.A + in.B, nil }, nil)
	var mu sync.Mutex
	var seen []string
	see := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	mw := agent.Middleware{
		Model: func(next agent.ModelHandler) agent.ModelHandler {
			return func(ctx context.Context, call *agent.ModelCall) (*responses.Response, error) {
				resp, err := next(ctx, call)
				if err == nil {
					see(fmt.Sprintf("model turn %d: %s", call.Turn, resp.ID))
				}
				return resp, err
			}
		},
		Tool: func(next agent.ToolHandler) agent.ToolHandler {
			return func(ctx context.Context, call tools.Call) (responses.Item, error) {
				see("tool " + call.CallID)
				return next(ctx, call)
			}
		},
	}
	evil := agent.ToolGuardrail{Name: "no-evil", Before: func(ctx context.Context, call tools.Call) (agent.ToolCheck, error) {
		if strings.Contains(string(call.Item.Raw()), "666") {
			return agent.ToolCheck{Verdict: agent.ToolReject, Message: "not that number"}, nil
		}
		return agent.ToolCheck{}, nil
	}}
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: s.URL})
	a := agent.New(rc, "m", &agent.Options{Tools: []tools.Tool{add}, Middleware: []agent.Middleware{mw}, ToolGuardrails: []agent.ToolGuardrail{evil}, MaxParallel: 1})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("add")})
	if res := result(t, e); res.Text != "3" {
		t.Fatalf("text %q", res.Text)
	}
	if got := strings.Join(seen, "; "); got != "model turn 1: resp_1; tool call_1; tool call_2; model turn 2: resp_2" {
		t.Errorf("middleware saw %q", got)
	}
	out, _ := s.Requests()[1].Output("call_2")
	if !strings.Contains(string(out.Raw()), "not that number") {
		t.Errorf("output of the refused call = %s", out.Raw())
	}
}

// TestToolGuardrailEndsRun: a tool guardrail's tripwire, raised in the
// call activity, ends the run as in process.
func TestToolGuardrailEndsRun(t *testing.T) {
	s := responsestest.New(t, responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":1,"b":2}`)))
	ran := false
	add := function.New("add", "adds", func(ctx context.Context, in addIn) (int, error) { ran = true; return 3, nil }, nil)
	stop := agent.ToolGuardrail{Name: "stop", Before: func(ctx context.Context, call tools.Call) (agent.ToolCheck, error) {
		return agent.ToolCheck{Verdict: agent.ToolEndRun, Message: "no adding today"}, nil
	}}
	a := agent.New(nil, "m", &agent.Options{Tools: []tools.Tool{add}, ToolGuardrails: []agent.ToolGuardrail{stop}})
	e := newEnv(t, s, a, agenttemporal.WorkerOptions{})
	e.ExecuteWorkflow(agenttemporal.WorkflowName, agenttemporal.RunInput{Config: a.Config(), Input: input("add")})
	err := e.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "no adding today") || ran {
		t.Fatalf("error = %v, tool ran %v; want the tripwire and no call", err, ran)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (the run ends)", n)
	}
}
