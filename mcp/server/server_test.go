package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/mcp/server"
	"github.com/agentloop/agentloop/tools"
)

// fakeSession reports an event, asks one approval and answers with what
// was decided; a prompt "block" waits for its context.
type fakeSession struct {
	params server.Params
	closed chan struct{}
}

func (f *fakeSession) Run(ctx context.Context, prompt string, r server.Reporter) (string, error) {
	r.Event(json.RawMessage(`{"kind":"started","prompt":` + string(must(json.Marshal(prompt))) + `}`))
	switch prompt {
	case "block":
		<-ctx.Done()
		return "", ctx.Err()
	case "fail":
		return "", errors.New("it broke")
	}
	d, err := r.Approve(ctx, tools.ApprovalRequest{Kind: "shell", Command: []string{"make"}})
	if err != nil {
		return "", err
	}
	if !d.Approve {
		return "denied: " + d.Reason, nil
	}
	return "ran make in " + f.params.Workspace, nil
}

func (f *fakeSession) Close() error { close(f.closed); return nil }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

type harness struct {
	t        *testing.T
	c        *client.Client
	mu       sync.Mutex
	progress []string
	sessions []*fakeSession
}

func start(t *testing.T) *harness {
	h := &harness{t: t}
	srv := server.New(&server.Options{Name: "test", Version: "1", NewSession: func(_ context.Context, p server.Params) (server.Session, error) {
		if p.Workspace == "/bad" {
			return nil, errors.New("/bad: not a directory")
		}
		s := &fakeSession{params: p, closed: make(chan struct{})}
		h.mu.Lock()
		h.sessions = append(h.sessions, s)
		h.mu.Unlock()
		return s, nil
	}})
	cin, sout := io.Pipe()
	sin, cout := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), sin, sout) }()
	h.c = client.NewClient(transport.NewIO(cin, cout, io.NopCloser(nil)))
	require.NoError(t, h.c.Start(t.Context()))
	h.c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		if msg, ok := n.Params.AdditionalFields["message"].(string); ok {
			h.mu.Lock()
			h.progress = append(h.progress, msg)
			h.mu.Unlock()
		}
	})
	init := mcpgo.InitializeRequest{}
	init.Params.ProtocolVersion = mcpgo.LATEST_PROTOCOL_VERSION
	_, err := h.c.Initialize(t.Context(), init)
	require.NoError(t, err)
	t.Cleanup(func() {
		cout.Close()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("ServeStdio did not return")
		}
		sout.Close()
	})
	return h
}

func (h *harness) call(name string, args map[string]any) (map[string]any, bool) {
	h.t.Helper()
	req := mcpgo.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	req.Params.Meta = &mcpgo.Meta{ProgressToken: 1}
	res, err := h.c.CallTool(h.t.Context(), req)
	require.NoError(h.t, err)
	if res.IsError {
		text := ""
		if len(res.Content) > 0 {
			text = res.Content[0].(mcpgo.TextContent).Text
		}
		return map[string]any{"error": text}, false
	}
	var out map[string]any
	require.NoError(h.t, json.Unmarshal(must(json.Marshal(res.StructuredContent)), &out))
	return out, true
}

func TestTaskLifecycle(t *testing.T) {
	h := start(t)
	st, ok := h.call("start_task", map[string]any{"prompt": "build", "workspace": "/ws"})
	require.True(t, ok, "%v", st)
	id := st["task_id"].(string)

	st, _ = h.call("task_status", map[string]any{"task_id": id, "wait_seconds": 10})
	require.Equal(t, "waiting_approval", st["status"])
	appr := st["pending_approvals"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"make"}, appr["request"].(map[string]any)["command"])

	_, ok = h.call("reply", map[string]any{"task_id": id, "prompt": "more"})
	assert.False(t, ok, "no reply while it runs")
	st, ok = h.call("answer_approval", map[string]any{"task_id": id, "approval_id": "nope", "decision": "approve"})
	assert.False(t, ok)
	assert.Contains(t, st["error"], "no pending approval")
	_, ok = h.call("answer_approval", map[string]any{"task_id": id, "approval_id": appr["approval_id"], "decision": "approve"})
	require.True(t, ok)

	st, _ = h.call("task_status", map[string]any{"task_id": id, "wait_seconds": 10})
	assert.Equal(t, "completed", st["status"])
	assert.Equal(t, "ran make in /ws", st["final_answer"])

	// A reply; denied this time, with a reason.
	_, ok = h.call("reply", map[string]any{"task_id": id, "prompt": "again"})
	require.True(t, ok)
	st, _ = h.call("task_status", map[string]any{"task_id": id, "wait_seconds": 10})
	appr = st["pending_approvals"].([]any)[0].(map[string]any)
	h.call("answer_approval", map[string]any{"task_id": id, "approval_id": appr["approval_id"], "decision": "deny", "reason": "not now"})
	st, _ = h.call("task_status", map[string]any{"task_id": id, "wait_seconds": 10})
	assert.Equal(t, "denied: not now", st["final_answer"])
	assert.EqualValues(t, 2, st["prompts"])

	require.Eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.progress) == 4
	}, 5*time.Second, 10*time.Millisecond)
	assert.JSONEq(t, `{"kind":"started","prompt":"build"}`, h.progress[0])
	assert.Contains(t, h.progress[1], `"kind":"approval_pending"`)
}

func TestFailCancelAndErrors(t *testing.T) {
	h := start(t)
	st, ok := h.call("start_task", map[string]any{"prompt": "x", "workspace": "/bad"})
	assert.False(t, ok)
	assert.Contains(t, st["error"], "/bad: not a directory")
	_, ok = h.call("task_status", map[string]any{"task_id": "task_x"})
	assert.False(t, ok)

	st, _ = h.call("start_task", map[string]any{"prompt": "fail"})
	st, _ = h.call("task_status", map[string]any{"task_id": st["task_id"], "wait_seconds": 10})
	assert.Equal(t, "failed", st["status"])
	assert.Equal(t, "it broke", st["error"])

	st, _ = h.call("start_task", map[string]any{"prompt": "block"})
	id := st["task_id"].(string)
	st, _ = h.call("task_status", map[string]any{"task_id": id, "wait_seconds": 0.2})
	assert.Equal(t, "running", st["status"], "waited 0.2s and it still runs")
	st, _ = h.call("cancel_task", map[string]any{"task_id": id})
	assert.Equal(t, "canceled", st["status"])
	h.mu.Lock()
	s := h.sessions[len(h.sessions)-1]
	h.mu.Unlock()
	select {
	case <-s.closed:
	default:
		t.Error("cancel_task did not close the session")
	}
	_, ok = h.call("reply", map[string]any{"task_id": id, "prompt": "again"})
	assert.False(t, ok)
}
