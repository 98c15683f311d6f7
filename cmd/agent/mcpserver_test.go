package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// mcpClient is an MCP client of agent mcp-server, run as a process.
type mcpClient struct {
	t      *testing.T
	c      *client.Client
	cmd    *exec.Cmd
	mu     sync.Mutex
	events []map[string]any // progress notifications' messages, in order
}

func (h *harness) startMCPServer(args ...string) *mcpClient {
	h.t.Helper()
	m := &mcpClient{t: h.t}
	stderr := &limitedBuffer{max: 1 << 20} // safe for concurrent use
	tr := transport.NewStdioWithOptions(agentBin, nil, nil, transport.WithCommandFunc(
		func(ctx context.Context, _ string, _ []string, _ []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, agentBin, append([]string{"--base-url", h.server.URL}, append(args, "mcp-server")...)...)
			cmd.Env = h.env()
			cmd.Dir = h.ws
			cmd.Stderr = stderr
			cmd.WaitDelay = 5 * time.Second
			m.cmd = cmd
			return cmd, nil
		}))
	require.NoError(h.t, tr.Start(h.t.Context()))
	m.c = client.NewClient(tr)
	require.NoError(h.t, m.c.Start(h.t.Context())) // wires the notification handlers
	m.c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		if n.Method != "notifications/progress" {
			return
		}
		msg, _ := n.Params.AdditionalFields["message"].(string)
		var ev map[string]any
		if json.Unmarshal([]byte(msg), &ev) == nil {
			m.mu.Lock()
			m.events = append(m.events, ev)
			m.mu.Unlock()
		}
	})
	h.t.Cleanup(func() { m.c.Close() }) // waits for the process
	ctx, cancel := context.WithTimeout(h.t.Context(), 30*time.Second)
	defer cancel()
	init := mcpgo.InitializeRequest{}
	init.Params.ProtocolVersion = mcpgo.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcpgo.Implementation{Name: "test", Version: "1"}
	_, err := m.c.Initialize(ctx, init)
	require.NoError(h.t, err, "stderr: %s", stderr.String())
	return m
}

// call calls a tool and returns its structured result; a progress token
// asks for the events.
func (m *mcpClient) call(name string, args map[string]any) map[string]any {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), 60*time.Second)
	defer cancel()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	req.Params.Meta = &mcpgo.Meta{ProgressToken: name + "-token"}
	res, err := m.c.CallTool(ctx, req)
	require.NoError(m.t, err)
	require.False(m.t, res.IsError, "%s: %+v", name, res.Content)
	var out map[string]any
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(m.t, err)
	require.NoError(m.t, json.Unmarshal(b, &out))
	return out
}

func (m *mcpClient) kinds() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ks []string
	for _, ev := range m.events {
		k, _ := ev["kind"].(string)
		ks = append(ks, k)
	}
	return ks
}

func TestMCPServerTask(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("call_1", "touch made.txt")),
		rt.Output(rt.Text("I made made.txt.")),
		rt.Output(rt.Text("It is empty.")),
	)
	m := h.startMCPServer()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tl, err := m.c.ListTools(ctx, mcpgo.ListToolsRequest{})
	require.NoError(t, err)
	var names []string
	for _, tool := range tl.Tools {
		names = append(names, tool.Name)
	}
	assert.ElementsMatch(t, []string{"start_task", "reply", "answer_approval", "cancel_task", "task_status"}, names)

	// untrusted: the command needs an approval, which the client gives.
	st := m.call("start_task", map[string]any{"prompt": "make a file", "workspace": h.ws, "approval_policy": "untrusted", "model": "gpt-test"})
	id, _ := st["task_id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, "running", st["status"])

	st = m.call("task_status", map[string]any{"task_id": id, "wait_seconds": 30})
	require.Equal(t, "waiting_approval", st["status"], "%v", st)
	pending := st["pending_approvals"].([]any)
	require.Len(t, pending, 1)
	appr := pending[0].(map[string]any)
	assert.Equal(t, "shell", appr["request"].(map[string]any)["kind"])
	assert.NoFileExists(t, filepath.Join(h.ws, "made.txt"), "nothing ran before the approval")
	m.call("answer_approval", map[string]any{"task_id": id, "approval_id": appr["approval_id"], "decision": "approve"})

	st = m.call("task_status", map[string]any{"task_id": id, "wait_seconds": 30})
	require.Equal(t, "completed", st["status"], "%v", st)
	assert.Equal(t, "I made made.txt.", st["final_answer"])
	assert.FileExists(t, filepath.Join(h.ws, "made.txt"))
	reqs := h.server.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "gpt-test", reqs[0].Params.Model)

	// The events came as progress, in the --json schema.
	require.Eventually(t, func() bool { return len(m.kinds()) > 0 && m.kinds()[len(m.kinds())-1] == "run_completed" }, 10*time.Second, 10*time.Millisecond, "%v", m.kinds())
	kinds := m.kinds()
	assert.Contains(t, kinds, "approval_pending")
	assert.Contains(t, kinds, "tool_started")
	assert.Contains(t, kinds, "tool_finished")
	m.mu.Lock()
	assert.EqualValues(t, 1, m.events[0]["v"], "the event schema's version: %v", m.events[0])
	m.mu.Unlock()

	// A reply continues the session (chained to the last response).
	m.call("reply", map[string]any{"task_id": id, "prompt": "is it empty?"})
	st = m.call("task_status", map[string]any{"task_id": id, "wait_seconds": 30})
	require.Equal(t, "completed", st["status"], "%v", st)
	assert.Equal(t, "It is empty.", st["final_answer"])
	reqs = h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[1].ResponseID, reqs[2].Params.PreviousResponseID)

	// Closing the client ends the server.
	require.NoError(t, m.c.Close())
	require.NotNil(t, m.cmd.ProcessState, "the server process was waited for")
	assert.Equal(t, 0, m.cmd.ProcessState.ExitCode())
}

// runningProcesses returns the processes whose command line holds marker.
func runningProcesses(marker string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), marker) {
			out = append(out, p+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

func TestMCPServerCancel(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("call_1", "touch started; sleep 987 & sleep 986; wait")),
		rt.Output(rt.Text("never")),
	)
	m := h.startMCPServer()
	st := m.call("start_task", map[string]any{"prompt": "wait", "workspace": h.ws})
	id := st["task_id"].(string)
	require.Eventually(t, func() bool { return exists(filepath.Join(h.ws, "started")) }, 30*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return len(runningProcesses("sleep\x00987")) > 0 }, 10*time.Second, 10*time.Millisecond)

	st = m.call("cancel_task", map[string]any{"task_id": id})
	assert.Equal(t, "canceled", st["status"])
	assert.Empty(t, runningProcesses("sleep\x00987"), "cancel_task returned with the command still running")
	assert.Empty(t, runningProcesses("sleep\x00986"))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = "reply"
	req.Params.Arguments = map[string]any{"task_id": id, "prompt": "again"}
	res, err := m.c.CallTool(ctx, req)
	require.NoError(t, err)
	assert.True(t, res.IsError)
	assert.Len(t, h.server.Requests(), 1)
}
