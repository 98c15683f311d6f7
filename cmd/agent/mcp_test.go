package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// fakeMCPEnv makes the test binary act as a small stdio MCP server with one
// tool, add(a, b), instead of running the tests.
const fakeMCPEnv = "AGENT_E2E_FAKE_MCP"

// fakeMCPMarkerEnv names a file the fake server creates when it starts, so
// a test can tell whether it was started at all.
const fakeMCPMarkerEnv = "AGENT_E2E_FAKE_MCP_MARKER"

// serveFakeMCP speaks just enough MCP (newline-delimited JSON-RPC) for a
// client: initialize, tools/list, tools/call and ping.
func serveFakeMCP(in io.Reader, out io.Writer) {
	if p := os.Getenv(fakeMCPMarkerEnv); p != "" {
		_ = os.WriteFile(p, []byte("started\n"), 0o644)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(sc.Bytes(), &req) != nil || req.ID == nil {
			continue // a notification
		}
		var result any
		var rpcErr any
		switch req.Method {
		case "initialize":
			var p struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			_ = json.Unmarshal(req.Params, &p)
			result = map[string]any{
				"protocolVersion": p.ProtocolVersion,
				"capabilities":    map[string]any{"tools": map[string]any{}},
				"serverInfo":      map[string]any{"name": "calc", "version": "1.0.0"},
			}
		case "ping":
			result = map[string]any{}
		case "tools/list":
			result = map[string]any{"tools": []any{map[string]any{
				"name": "add", "description": "Add two numbers.",
				"inputSchema": map[string]any{
					"type":       "object",
					"properties": map[string]any{"a": map[string]any{"type": "number"}, "b": map[string]any{"type": "number"}},
					"required":   []string{"a", "b"},
				},
			}}}
		case "tools/call":
			var p struct {
				Name      string                 `json:"name"`
				Arguments struct{ A, B float64 } `json:"arguments"`
			}
			_ = json.Unmarshal(req.Params, &p)
			result = map[string]any{"content": []any{map[string]any{"type": "text", "text": fmt.Sprint(p.Arguments.A + p.Arguments.B)}}}
		default:
			rpcErr = map[string]any{"code": -32601, "message": "method not found"}
		}
		resp := map[string]any{"jsonrpc": "2.0", "id": req.ID}
		if rpcErr != nil {
			resp["error"] = rpcErr
		} else {
			resp["result"] = result
		}
		_ = enc.Encode(resp)
	}
}

func writeMCPConfig(t *testing.T, path, approval string) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cfg := map[string]any{"mcpServers": map[string]any{"calc": map[string]any{
		"command":  exe,
		"env":      map[string]string{fakeMCPEnv: "1"},
		"approval": map[string]any{"mode": approval},
	}}}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func TestMCPTool(t *testing.T) {
	for _, tc := range []struct {
		name, approval string
		want           string // in the output sent to the model
		stderr         string
	}{
		{"runs", "never", "5", "✓ 1 B result"},
		{"asks without a terminal", "ask", "not at a terminal", "✗ declined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil,
				rt.Output(rt.FunctionCall("call_1", "calc__add", `{"a":2,"b":3}`)),
				rt.Output(rt.Text("2 + 3 = 5")),
			)
			writeMCPConfig(t, filepath.Join(h.ws, ".mcp.json"), tc.approval)
			res := h.run("--trust-workspace", "add 2 and 3") // a workspace's .mcp.json needs trust

			require.Equal(t, 0, res.code, res.stderr)

			reqs := h.server.Requests()
			require.Len(t, reqs, 2)
			var names []string
			for _, d := range reqs[0].Params.Tools {
				names = append(names, d.Type+":"+d.Name)
			}
			assert.Contains(t, names, "function:calc__add")
			out, ok := reqs[1].Output("call_1")
			require.True(t, ok)
			assert.Contains(t, string(out.Raw()), tc.want)
			assert.Contains(t, res.stderr, "MCP: calc (1 tools)")
			assert.Contains(t, res.stderr, `mcp calc/add {"a":2,"b":3}`)
			assert.Contains(t, res.stderr, tc.stderr)
		})
	}
}

func TestMCPConfigErrors(t *testing.T) {
	h := newHarness(t, nil)
	res := h.run("--mcp-config", filepath.Join(h.ws, "missing.json"), "x")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--mcp-config")

	bad := filepath.Join(h.ws, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"mcpServers": {"x": {"command": 3}}}`), 0o644))
	res = h.run("--mcp-config", bad, "x")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "MCP config")
}
