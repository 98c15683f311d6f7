package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"slices"
	"strings"
	"sync"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/mcp/server"
	"github.com/agentloop/agentloop/tools"
)

// runMCPServer is agent mcp-server: the coding agent as an MCP server on
// stdin and stdout. Each start_task is a session built as a one-shot run
// of the command is, from the server's flags and config with the call's
// settings on top: the same workspace trust (nothing is asked: an
// untrusted folder's configuration is skipped), the same sandbox and
// approval policy, whose questions go to the MCP client.
func runMCPServer(ctx context.Context, e *env, f *flags) int {
	if len(f.args) > 0 {
		fmt.Fprintf(e.stderr, "agent: mcp-server: unexpected argument %q (the tasks come from the MCP client)\n", f.args[0])
		return exitUsage
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if e.interrupts != nil {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			select {
			case <-e.interrupts:
				cancel()
			case <-stop:
			}
		})
		defer func() { close(stop); wg.Wait() }()
	}
	srv := server.New(&server.Options{
		Name:         "agent",
		Version:      version(),
		Instructions: "A coding agent. start_task gives it a task in a workspace and returns a task_id at once; task_status with wait_seconds awaits it; answer pending approvals with answer_approval.",
		NewSession: func(ctx context.Context, p server.Params) (server.Session, error) {
			return newMCPSession(ctx, e, f, p)
		},
		ErrorLog: log.New(e.stderr, "agent: mcp-server: ", 0),
	})
	if err := srv.ServeStdio(ctx, e.stdin, e.stdout); err != nil {
		fmt.Fprintf(e.stderr, "agent: mcp-server: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// mcpSession is one task of the MCP server: an app whose events go to the
// client and whose approvals the client answers.
type mcpSession struct {
	a  *app
	mu sync.Mutex
	r  server.Reporter // of the running prompt
}

func newMCPSession(ctx context.Context, e *env, f *flags, p server.Params) (*mcpSession, error) {
	ff := *f
	ff.mcpServer, ff.exec, ff.json = false, false, true
	ff.args = []string{p.Prompt}
	ff.lastMessage, ff.outputSchema = "", ""
	if p.Workspace != "" {
		ff.dir = p.Workspace
	}
	set := func(dst **string, v, key string, allowed []string) error {
		if v == "" {
			return nil
		}
		if allowed != nil && !slices.Contains(allowed, v) {
			return fmt.Errorf("%s %q: choose %s", key, v, strings.Join(allowed, ", "))
		}
		*dst = &v
		return nil
	}
	for _, err := range []error{
		set(&ff.set.Sandbox, p.Sandbox, "sandbox", sandboxes),
		set(&ff.set.AskForApproval, p.ApprovalPolicy, "approval_policy", policies),
		set(&ff.set.Model, p.Model, "model", nil),
	} {
		if err != nil {
			return nil, err
		}
	}
	s := &mcpSession{}
	se := *e
	se.stdin = strings.NewReader("") // never a terminal: nothing is asked there
	se.stdout = &lineWriter{emit: s.event}
	se.stderr = struct{ io.Writer }{e.stderr} // not a terminal either, so no /dev/tty
	se.interrupts, se.exit, se.tracing = nil, nil, nil
	a, err := newApp(ctx, &se, &ff)
	if err != nil {
		return nil, err
	}
	a.approver.remote = s.approve
	s.a = a
	return s, nil
}

func (s *mcpSession) reporter() server.Reporter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r
}

func (s *mcpSession) event(line []byte) {
	if r := s.reporter(); r != nil && json.Valid(line) {
		r.Event(json.RawMessage(bytes.Clone(line)))
	}
}

func (s *mcpSession) approve(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
	r := s.reporter()
	if r == nil {
		return agent.Deny("nobody can answer"), nil
	}
	d, err := r.Approve(ctx, req)
	if err != nil {
		return agent.Approval{}, err
	}
	if !d.Approve {
		reason := "the user declined it"
		if d.Reason != "" {
			reason += ": " + d.Reason
		}
		return agent.Deny(reason), nil
	}
	return agent.Approval{Approved: true, Always: d.Always}, nil
}

// Run runs one prompt of the task; a budget's stop is an error that says
// how to go on.
func (s *mcpSession) Run(ctx context.Context, prompt string, r server.Reporter) (string, error) {
	s.mu.Lock()
	s.r = r
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.r = nil
		s.mu.Unlock()
	}()
	res, err := s.a.task(ctx, prompt)
	if stop := s.a.budgetStop(res, err); stop != "" {
		return res.Text, fmt.Errorf("%s", stop)
	}
	if err != nil {
		return res.Text, fmt.Errorf("%s", s.a.runFailure(err))
	}
	return res.Text, nil
}

func (s *mcpSession) Close() error {
	s.a.close()
	return nil
}

// lineWriter calls emit with each complete line written to it.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}
