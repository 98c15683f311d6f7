// Package server serves an agent as an MCP server, so that another agent or
// an IDE can delegate tasks to it: start a task (it returns an id at once),
// follow it through progress notifications, answer its approvals, reply in
// its session, cancel it, and read or await its status.
//
// The package knows nothing of how a task runs: a [Session] runs prompts
// and reports events (as JSON, in the caller's own event schema) and
// approval requests through a [Reporter]. The agent command's mcp-server
// is one user of it:
//
//	srv := server.New(&server.Options{Name: "agent", Version: v, NewSession: newSession})
//	err := srv.ServeStdio(ctx, os.Stdin, os.Stdout)
//
// The tools it serves:
//
//	start_task       prompt, workspace, sandbox, approval_policy, model → task_id
//	reply            task_id, prompt: the next prompt of the task's session
//	answer_approval  task_id, approval_id, decision (approve, approve_always, deny), reason
//	cancel_task      task_id: stop it; it ends once nothing it started runs
//	task_status      task_id, wait_seconds: status, final answer, pending approvals
//
// While a prompt runs, every event it reports is sent as a
// notifications/progress to the progress token of the start_task or reply
// call that started it (if the call had one), after that call's result:
// progress counts the events, message is the event's JSON. A pending
// approval is announced the same way, by an event of kind
// "approval_pending".
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"sync"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"

	"github.com/agentloop/agentloop/tools"
)

// Params are a start_task call's settings. Empty fields mean the server's
// defaults.
type Params struct {
	Prompt         string `json:"prompt"`
	Workspace      string `json:"workspace,omitempty"`
	Sandbox        string `json:"sandbox,omitempty"`
	ApprovalPolicy string `json:"approval_policy,omitempty"`
	Model          string `json:"model,omitempty"`
}

// Session runs the prompts of one task, one at a time.
type Session interface {
	// Run runs one prompt to its end and returns the final answer. It
	// reports events and asks approvals through r, and returns promptly,
	// with nothing it started still running, when ctx is done.
	Run(ctx context.Context, prompt string, r Reporter) (string, error)
	// Close releases the session; it is called once, after its last Run.
	Close() error
}

// Reporter is how a running prompt talks to the task's client.
type Reporter interface {
	// Event reports one event, a JSON object.
	Event(ev json.RawMessage)
	// Approve waits for the client's answer to req (answer_approval), or
	// for ctx to end.
	Approve(ctx context.Context, req tools.ApprovalRequest) (Decision, error)
}

// Decision is a client's answer to an approval request.
type Decision struct {
	Approve bool
	Always  bool   // approve this and the like for the rest of the session
	Reason  string // why it was denied, for the model
}

// Options configure a Server.
type Options struct {
	Name, Version string
	Instructions  string // for the client's model; optional
	// NewSession makes the session of a start_task call. Its error is
	// the call's error, shown to the client (a bad workspace, an unknown
	// sandbox).
	NewSession func(ctx context.Context, p Params) (Session, error)
	// ErrorLog receives the transport's errors; nil discards them.
	ErrorLog *log.Logger
}

// Task statuses.
const (
	StatusRunning         = "running"
	StatusWaitingApproval = "waiting_approval"
	StatusCompleted       = "completed" // the last prompt is done; reply may follow
	StatusFailed          = "failed"    // the last prompt failed; reply may follow
	StatusCanceled        = "canceled"  // ended by cancel_task or the server's end
)

// Server is an MCP server of tasks.
type Server struct {
	opts Options
	mcp  *mcpserver.MCPServer

	mu    sync.Mutex
	tasks map[string]*task
	wg    sync.WaitGroup // running prompts
	base  context.Context
	stop  context.CancelFunc
}

// New returns a Server; opts.NewSession is required.
func New(opts *Options) *Server {
	if opts == nil || opts.NewSession == nil {
		panic("server.New: Options.NewSession is required")
	}
	s := &Server{opts: *opts, tasks: map[string]*task{}}
	s.base, s.stop = context.WithCancel(context.Background())
	var mo []mcpserver.ServerOption
	mo = append(mo, mcpserver.WithToolCapabilities(false))
	if opts.Instructions != "" {
		mo = append(mo, mcpserver.WithInstructions(opts.Instructions))
	}
	s.mcp = mcpserver.NewMCPServer(opts.Name, opts.Version, mo...)
	s.addTools()
	return s
}

// ServeStdio serves one client on in and out until in ends or ctx is
// done; then every task is canceled and closed, and ServeStdio returns
// once nothing they started runs.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	st := mcpserver.NewStdioServer(s.mcp)
	el := s.opts.ErrorLog
	if el == nil {
		el = log.New(io.Discard, "", 0)
	}
	st.SetErrorLogger(el)
	err := st.Listen(ctx, in, out)
	s.Close()
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// Close cancels every task, waits for their prompts to end and closes
// their sessions. It is idempotent.
func (s *Server) Close() {
	s.stop()
	s.wg.Wait()
	s.mu.Lock()
	ts := make([]*task, 0, len(s.tasks))
	for _, t := range s.tasks {
		ts = append(ts, t)
	}
	s.mu.Unlock()
	for _, t := range ts {
		t.close(StatusCanceled)
	}
}

// task is one task: a session and the state of its current prompt.
type task struct {
	id   string
	sess Session

	mu       sync.Mutex
	status   string
	final    string
	err      string
	events   int
	prompts  int
	pending  []*approval
	cancel   context.CancelFunc
	done     chan struct{} // closed when the current prompt ends
	changed  chan struct{} // closed and replaced on every change
	closed   bool
	progress func(ev json.RawMessage, n int) // to the current prompt's token
}

type approval struct {
	id     string
	req    tools.ApprovalRequest
	answer chan Decision
}

func (t *task) changedLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// close ends the task for good with status.
func (t *task) close(status string) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	if t.cancel != nil {
		t.cancel()
	}
	done := t.done
	t.mu.Unlock()
	if done != nil {
		<-done
	}
	t.mu.Lock()
	t.status = status
	t.changedLocked()
	t.mu.Unlock()
	_ = t.sess.Close()
}

func newID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// run starts prompt on t; the caller holds no lock and t runs nothing.
func (s *Server) run(t *task, prompt string, progress func(json.RawMessage, int)) {
	ctx, cancel := context.WithCancel(s.base)
	t.mu.Lock()
	t.status, t.final, t.err = StatusRunning, "", ""
	t.cancel, t.done, t.progress = cancel, make(chan struct{}), progress
	t.prompts++
	t.changedLocked()
	done := t.done
	t.mu.Unlock()
	s.wg.Go(func() {
		defer close(done)
		defer cancel()
		final, err := t.sess.Run(ctx, prompt, &reporter{t: t})
		t.mu.Lock()
		defer t.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			t.status = StatusCanceled
		case err != nil:
			t.status, t.err = StatusFailed, err.Error()
		default:
			t.status = StatusCompleted
		}
		t.final = final
		t.pending = nil
		t.changedLocked()
	})
}

type reporter struct{ t *task }

func (r *reporter) Event(ev json.RawMessage) {
	t := r.t
	t.mu.Lock()
	t.events++
	n, p := t.events, t.progress
	t.mu.Unlock()
	if p != nil {
		p(ev, n)
	}
}

func (r *reporter) Approve(ctx context.Context, req tools.ApprovalRequest) (Decision, error) {
	t := r.t
	a := &approval{id: newID("appr_"), req: req, answer: make(chan Decision, 1)}
	t.mu.Lock()
	t.pending = append(t.pending, a)
	t.status = StatusWaitingApproval
	t.changedLocked()
	t.mu.Unlock()
	ev, _ := json.Marshal(map[string]any{"kind": "approval_pending", "task_id": t.id, "approval_id": a.id, "request": req})
	r.Event(ev)
	defer func() {
		t.mu.Lock()
		t.pending = slices.DeleteFunc(t.pending, func(p *approval) bool { return p == a })
		if len(t.pending) == 0 && t.status == StatusWaitingApproval {
			t.status = StatusRunning
		}
		t.changedLocked()
		t.mu.Unlock()
	}()
	select {
	case d := <-a.answer:
		return d, nil
	case <-ctx.Done():
		return Decision{}, ctx.Err()
	}
}

// Status is what task_status (and the other tools) return.
type Status struct {
	TaskID           string            `json:"task_id"`
	Status           string            `json:"status"`
	FinalAnswer      string            `json:"final_answer,omitempty"`
	Error            string            `json:"error,omitempty"`
	Events           int               `json:"events"`
	Prompts          int               `json:"prompts"`
	PendingApprovals []PendingApproval `json:"pending_approvals,omitempty"`
}

// PendingApproval is an approval request waiting for answer_approval.
type PendingApproval struct {
	ApprovalID string                `json:"approval_id"`
	Request    tools.ApprovalRequest `json:"request"`
}

func (t *task) statusLocked() Status {
	st := Status{TaskID: t.id, Status: t.status, FinalAnswer: t.final, Error: t.err, Events: t.events, Prompts: t.prompts}
	for _, a := range t.pending {
		st.PendingApprovals = append(st.PendingApprovals, PendingApproval{ApprovalID: a.id, Request: a.req})
	}
	return st
}

func (s *Server) task(id string) (*task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return nil, fmt.Errorf("no task %q (start_task returns the ids)", id)
	}
	return t, nil
}

func result(st Status) *mcpgo.CallToolResult {
	b, _ := json.Marshal(st)
	return mcpgo.NewToolResultStructured(st, string(b))
}

// progressTo returns the function that sends a prompt's events to the
// progress token of the call that started it, or nil without a token.
func (s *Server) progressTo(ctx context.Context, req mcpgo.CallToolRequest) func(json.RawMessage, int) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return nil
	}
	token := req.Params.Meta.ProgressToken
	sess := mcpserver.ClientSessionFromContext(ctx)
	if sess == nil {
		return nil
	}
	// The call's context ends with its result; the session outlives it.
	nctx := s.mcp.WithContext(context.WithoutCancel(ctx), sess)
	var mu sync.Mutex // notifications in order
	return func(ev json.RawMessage, n int) {
		mu.Lock()
		defer mu.Unlock()
		_ = s.mcp.SendNotificationToClient(nctx, "notifications/progress", map[string]any{
			"progressToken": token, "progress": n, "message": string(ev),
		})
	}
}

func (s *Server) addTools() {
	str := func(name, desc string, opts ...mcpgo.PropertyOption) mcpgo.ToolOption {
		return mcpgo.WithString(name, append([]mcpgo.PropertyOption{mcpgo.Description(desc)}, opts...)...)
	}
	s.mcp.AddTool(mcpgo.NewTool("start_task",
		mcpgo.WithDescription("Start a coding task in a workspace. Returns its task_id at once; follow it with progress notifications or task_status (wait_seconds awaits it)."),
		str("prompt", "the task", mcpgo.Required()),
		str("workspace", "the workspace directory (absolute); default: the server's"),
		str("sandbox", "read-only, workspace-write or danger-full-access; default: the server's"),
		str("approval_policy", "untrusted, on-request or never; default: the server's"),
		str("model", "the model; default: the server's"),
	), s.startTask)
	s.mcp.AddTool(mcpgo.NewTool("reply",
		mcpgo.WithDescription("Send the next prompt of a task's session, once its last prompt is done. Returns at once."),
		str("task_id", "the task", mcpgo.Required()),
		str("prompt", "the next prompt", mcpgo.Required()),
	), s.reply)
	s.mcp.AddTool(mcpgo.NewTool("answer_approval",
		mcpgo.WithDescription("Answer a task's pending approval request (see task_status)."),
		str("task_id", "the task", mcpgo.Required()),
		str("approval_id", "the request's approval_id", mcpgo.Required()),
		str("decision", "approve, approve_always (this and the like for the rest of the session) or deny", mcpgo.Required(), mcpgo.Enum("approve", "approve_always", "deny")),
		str("reason", "why it is denied, for the agent"),
	), s.answerApproval)
	s.mcp.AddTool(mcpgo.NewTool("cancel_task",
		mcpgo.WithDescription("Cancel a task: what it runs is stopped; it returns once nothing of it runs. A canceled task takes no reply."),
		str("task_id", "the task", mcpgo.Required()),
	), s.cancelTask)
	s.mcp.AddTool(mcpgo.NewTool("task_status",
		mcpgo.WithDescription("A task's status (running, waiting_approval, completed, failed, canceled), final answer and pending approvals."),
		str("task_id", "the task", mcpgo.Required()),
		mcpgo.WithNumber("wait_seconds", mcpgo.Description("wait up to this long (at most 600) for the task to stop running: done, or waiting for an approval")),
	), s.taskStatus)
}

func (s *Server) startTask(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	var p Params
	if err := req.BindArguments(&p); err != nil {
		return mcpgo.NewToolResultErrorf("start_task: %v", err), nil
	}
	if p.Prompt == "" {
		return mcpgo.NewToolResultError("start_task: prompt is empty"), nil
	}
	if s.base.Err() != nil {
		return mcpgo.NewToolResultError("start_task: the server is shutting down"), nil
	}
	sess, err := s.opts.NewSession(ctx, p)
	if err != nil {
		return mcpgo.NewToolResultErrorf("start_task: %v", err), nil
	}
	t := &task{id: newID("task_"), sess: sess, changed: make(chan struct{})}
	s.mu.Lock()
	s.tasks[t.id] = t
	s.mu.Unlock()
	s.run(t, p.Prompt, s.progressTo(ctx, req))
	t.mu.Lock()
	defer t.mu.Unlock()
	return result(t.statusLocked()), nil
}

func (s *Server) reply(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	t, err := s.task(req.GetString("task_id", ""))
	if err != nil {
		return mcpgo.NewToolResultError("reply: " + err.Error()), nil
	}
	prompt := req.GetString("prompt", "")
	if prompt == "" {
		return mcpgo.NewToolResultError("reply: prompt is empty"), nil
	}
	t.mu.Lock()
	switch {
	case t.closed || t.status == StatusCanceled:
		t.mu.Unlock()
		return mcpgo.NewToolResultError("reply: task " + t.id + " was canceled; start a new one"), nil
	case t.status == StatusRunning || t.status == StatusWaitingApproval:
		t.mu.Unlock()
		return mcpgo.NewToolResultError("reply: task " + t.id + " is still running; await it with task_status (wait_seconds) first"), nil
	}
	t.mu.Unlock()
	s.run(t, prompt, s.progressTo(ctx, req))
	t.mu.Lock()
	defer t.mu.Unlock()
	return result(t.statusLocked()), nil
}

func (s *Server) answerApproval(_ context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	t, err := s.task(req.GetString("task_id", ""))
	if err != nil {
		return mcpgo.NewToolResultError("answer_approval: " + err.Error()), nil
	}
	id := req.GetString("approval_id", "")
	var d Decision
	switch req.GetString("decision", "") {
	case "approve":
		d.Approve = true
	case "approve_always":
		d.Approve, d.Always = true, true
	case "deny":
		d.Reason = req.GetString("reason", "")
	default:
		return mcpgo.NewToolResultError(`answer_approval: decision must be "approve", "approve_always" or "deny"`), nil
	}
	t.mu.Lock()
	i := slices.IndexFunc(t.pending, func(a *approval) bool { return a.id == id })
	if i < 0 {
		t.mu.Unlock()
		return mcpgo.NewToolResultErrorf("answer_approval: task %s has no pending approval %q (task_status lists them)", t.id, id), nil
	}
	a := t.pending[i]
	t.pending = slices.Delete(t.pending, i, i+1)
	t.mu.Unlock()
	a.answer <- d
	t.mu.Lock()
	defer t.mu.Unlock()
	return result(t.statusLocked()), nil
}

func (s *Server) cancelTask(_ context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	t, err := s.task(req.GetString("task_id", ""))
	if err != nil {
		return mcpgo.NewToolResultError("cancel_task: " + err.Error()), nil
	}
	t.close(StatusCanceled)
	t.mu.Lock()
	defer t.mu.Unlock()
	return result(t.statusLocked()), nil
}

func (s *Server) taskStatus(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
	t, err := s.task(req.GetString("task_id", ""))
	if err != nil {
		return mcpgo.NewToolResultError("task_status: " + err.Error()), nil
	}
	wait := time.Duration(min(req.GetFloat("wait_seconds", 0), 600) * float64(time.Second))
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		if wait <= 0 || t.status != StatusRunning {
			defer t.mu.Unlock()
			return result(t.statusLocked()), nil
		}
		changed := t.changed
		t.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			wait = 0
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
