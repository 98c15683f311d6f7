package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// writeUserConfig writes config.toml in the harness's config directory.
func (h *harness) writeUserConfig(toml string) {
	h.t.Helper()
	dir := filepath.Join(h.home, "config")
	require.NoError(h.t, os.MkdirAll(dir, 0o755))
	require.NoError(h.t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(toml), 0o644))
}

// hookLog reads the events a logging hook appended to path, one JSON
// document a line.
func hookLog(t *testing.T, path string) []hookEvent {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var evs []hookEvent
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var ev hookEvent
		require.NoError(t, json.Unmarshal([]byte(l), &ev), "%s", l)
		evs = append(evs, ev)
	}
	return evs
}

// logCmd is a hook command line that appends its event to log (one line).
func logCmd(log string) string { return fmt.Sprintf(`(cat; echo) >> %s`, shellQuote(log)) }

func callOutput(t *testing.T, req rt.Request, callID string) string {
	t.Helper()
	it, ok := req.Output(callID)
	require.True(t, ok, "request %d has no output for %s", req.N, callID)
	return string(it.Raw())
}

func TestPreToolUseHookBlocksWithExitCode2(t *testing.T) {
	h := newHarness(t, map[string]string{"keep.txt": "precious\n"},
		rt.Output(rt.ShellCall("call_1", "rm keep.txt")),
		rt.Output(rt.Text("ok, I will not")),
	)
	log := filepath.Join(h.home, "pre.log")
	h.writeUserConfig(fmt.Sprintf(`
[[hooks.pre_tool_use]]
matcher = "shell"
command = %q
`, logCmd(log)+`; echo "no rm in this repository" >&2; exit 2`))
	res := h.run("clean up")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "precious\n", h.file("keep.txt"), "the blocked command did not run")

	reqs := h.server.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, callOutput(t, reqs[1], "call_1"), "blocked by a pre_tool_use hook: no rm in this repository")
	assert.Contains(t, res.stderr, "✗ declined")

	evs := hookLog(t, log)
	require.Len(t, evs, 1)
	assert.Equal(t, "pre_tool_use", evs[0].Event)
	assert.Equal(t, "shell", evs[0].ToolName)
	assert.Equal(t, "call_1", evs[0].CallID)
	assert.Contains(t, string(evs[0].ToolInput), `"rm keep.txt"`)
	wantDir, err := filepath.EvalSymlinks(h.ws)
	require.NoError(t, err)
	gotDir, err := filepath.EvalSymlinks(evs[0].Cwd)
	require.NoError(t, err)
	assert.Equal(t, wantDir, gotDir)
}

// A JSON decision blocks a patch; updatedInput rewrites a command; the
// matcher picks the tool.
func TestPreToolUseHookDecisionAndUpdatedInput(t *testing.T) {
	h := newHarness(t, map[string]string{"a.txt": "one\n"},
		rt.Output(rt.ApplyPatchCall("call_1", "update_file", "a.txt", "@@\n-one\n+two\n")),
		rt.Output(rt.ShellCall("call_2", "echo original")),
		rt.Output(rt.Text("done")),
	)
	h.writeUserConfig(`
[[hooks.pre_tool_use]]
matcher = "apply_patch"
command = '''echo '{"decision": "block", "reason": "patches are frozen today"}' '''

[[hooks.pre_tool_use]]
matcher = "sh*"
command = '''echo '{"hookSpecificOutput": {"permissionDecision": "allow", "updatedInput": {"commands": ["echo rewritten"]}}}' '''
`)
	res := h.run("change it")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "one\n", h.file("a.txt"))
	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Contains(t, callOutput(t, reqs[1], "call_1"), "patches are frozen today")
	assert.Equal(t, "rewritten\n", shellOutput(t, reqs[2], "call_2").Stdout)
}

// A pre_tool_use hook's "allow" answers the approval question: a command
// the policy would ask about (and, with no terminal to ask, decline) runs,
// and the hook runs once for it. Its "deny" declines a call the same way,
// with the hook's reason for the model.
func TestPreToolUseHookAllowAnswersApproval(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("call_1", "echo allowed > made.txt")),
		rt.Output(rt.ShellCall("call_2", "echo asked > asked.txt")),
		rt.Output(rt.ShellCall("call_3", "echo denied > denied.txt")),
		rt.Output(rt.Text("done")),
	)
	log := filepath.Join(h.home, "pre.log")
	h.writeUserConfig(fmt.Sprintf(`
[[hooks.pre_tool_use]]
matcher = "shell"
command = %q
`, logCmd(log)+`; case "$(tail -n 1 `+shellQuote(log)+`)" in
  *allowed*) echo '{"hookSpecificOutput": {"permissionDecision": "allow"}}' ;;
  *denied*) echo '{"decision": "deny", "reason": "not that file"}' ;;
esac`))
	res := h.run("--ask-for-approval", "untrusted", "make files")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "allowed\n", h.file("made.txt"), "the hook's allow answered the question")
	assert.NoFileExists(t, filepath.Join(h.ws, "asked.txt"), "no hook answer: asked, and with no terminal declined")
	assert.NoFileExists(t, filepath.Join(h.ws, "denied.txt"))
	reqs := h.server.Requests()
	require.Len(t, reqs, 4)
	assert.Contains(t, callOutput(t, reqs[2], "call_2"), "not at a terminal")
	assert.Contains(t, callOutput(t, reqs[3], "call_3"), "blocked by a pre_tool_use hook: not that file")
	assert.Len(t, hookLog(t, log), 3, "one hook run a call")
}

// Hooks see every kind of tool: an MCP server's tool is mcp__server__tool.
func TestToolHooksForMCPTools(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.FunctionCall("call_1", "calc__add", `{"a":2,"b":3}`)),
		rt.Output(rt.Text("5")),
	)
	cfg := filepath.Join(h.home, "mcp.json")
	writeMCPConfig(t, cfg, "never")
	pre, post := filepath.Join(h.home, "pre.log"), filepath.Join(h.home, "post.log")
	h.writeUserConfig(fmt.Sprintf(`
[[hooks.pre_tool_use]]
matcher = "mcp__calc__*"
command = %q

[[hooks.post_tool_use]]
command = %q
`, logCmd(pre)+`; echo '{"updatedInput": {"a": 40, "b": 2}}'`, logCmd(post)))
	res := h.run("--mcp-config", cfg, "add")
	require.Equal(t, 0, res.code, res.stderr)
	reqs := h.server.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, callOutput(t, reqs[1], "call_1"), "42", "the hook's arguments were used")

	evs := hookLog(t, pre)
	require.Len(t, evs, 1)
	assert.Equal(t, "mcp__calc__add", evs[0].ToolName)
	assert.Equal(t, "mcp", evs[0].ToolType)
	assert.JSONEq(t, `{"a":2,"b":3}`, string(evs[0].ToolInput))

	evs = hookLog(t, post)
	require.Len(t, evs, 1)
	assert.Equal(t, "post_tool_use", evs[0].Event)
	assert.JSONEq(t, `{"a":40,"b":2}`, string(evs[0].ToolInput))
	assert.Equal(t, "ok", evs[0].Outcome)
	assert.Contains(t, string(evs[0].ToolResponse), "42")
}

// A hook that hangs is killed with what it started after its timeout, and
// the call runs.
func TestHungHookIsKilled(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("call_1", "echo ran")),
		rt.Output(rt.Text("done")),
	)
	pidFile := filepath.Join(h.home, "child.pid")
	h.writeUserConfig(fmt.Sprintf(`
[[hooks.pre_tool_use]]
command = %q
timeout = "500ms"
`, fmt.Sprintf("sleep 60 & echo $! > %s; wait", shellQuote(pidFile))))
	start := time.Now()
	res := h.run("go")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Contains(t, res.stderr, `pre_tool_use hook "sleep 60 & echo`)
	assert.Contains(t, res.stderr, "was stopped after 500ms; the task goes on")
	reqs := h.server.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "ran\n", shellOutput(t, reqs[1], "call_1").Stdout)

	data, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	assert.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 5*time.Second, 20*time.Millisecond,
		"the hook's child %d is still running", pid)
}

func TestUserPromptSubmitHook(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("hi")))
	log := filepath.Join(h.home, "prompt.log")
	h.writeUserConfig(fmt.Sprintf(`
[[hooks.user_prompt_submit]]
command = %q
`, `ev=$(cat); echo "$ev" >> `+shellQuote(log)+`; if echo "$ev" | grep -q secret; then echo "no secrets in prompts" >&2; exit 2; fi; echo "The user prefers tabs."`))

	// Blocked: no request, exit status 1, the reason shown.
	res := h.run("my secret is 1234")
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Contains(t, res.stderr, "the prompt was blocked by a user_prompt_submit hook: no secrets in prompts")
	assert.Empty(t, h.server.Requests())
	assert.NotContains(t, res.stderr, "agent resume", "no session is saved")

	// Allowed: its output is context for the model.
	res = h.run("hello")
	require.Equal(t, 0, res.code, res.stderr)
	reqs := h.server.Requests()
	require.Len(t, reqs, 1)
	var dev []string
	for _, it := range reqs[0].Input() {
		if it.Type == responses.TypeMessage || it.Type == "" {
			var m struct {
				Role string `json:"role"`
			}
			_ = it.Decode(&m)
			if m.Role == "developer" {
				dev = append(dev, it.Text())
			}
		}
	}
	assert.Contains(t, strings.Join(dev, "\n"), "The user prefers tabs.")
	evs := hookLog(t, log)
	require.Len(t, evs, 2)
	assert.Equal(t, "user_prompt_submit", evs[1].Event)
	assert.Equal(t, "hello", evs[1].Prompt)
}

// A stop hook that blocks sends the agent on with its reason; the second
// time (stop_hook_active) it lets the task end.
func TestStopHook(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.Text("done")),
		rt.Output(rt.Text("tests pass now")),
	)
	log := filepath.Join(h.home, "stop.log")
	h.writeUserConfig(fmt.Sprintf(`
[[hooks.stop]]
command = %q
`, logCmd(log)+`; if [ ! -e `+shellQuote(log+".seen")+` ]; then touch `+shellQuote(log+".seen")+`; echo '{"decision": "block", "reason": "run the tests first"}'; fi`))
	res := h.run("fix it")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "done\ntests pass now\n", res.stdout)
	reqs := h.server.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "run the tests first", reqs[1].InputText())
	assert.Contains(t, res.stderr, "stop hook: run the tests first (the agent goes on)")
	evs := hookLog(t, log)
	require.Len(t, evs, 2)
	assert.Equal(t, "done", evs[0].LastMessage)
	require.NotNil(t, evs[1].StopHookActive)
	assert.True(t, *evs[1].StopHookActive)
}

func TestHookConfigErrors(t *testing.T) {
	h := newHarness(t, nil)
	h.writeUserConfig("[[hooks.pre_tool_use]]\nmatcher = \"shell\"\n")
	res := h.run("x")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "config.toml:1: hooks.pre_tool_use: hook 1 has no command")
}
