package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

// Each outcome a program can act on is in --json, and the activity lines
// tell them apart: a write outside the workspace is blocked by the sandbox,
// a command over its time limit timed out, a failing command failed, and a
// command the config denies is blocked by the command policy without
// running, and the user's keys and the agent's own state directory are
// unreadable (deny-read).
func TestOutcomesShown(t *testing.T) {
	h := newHarness(t, map[string]string{"a.txt": "a\n"},
		rt.Output(rt.ShellCall("c_sandbox", "touch ../outside.txt")),
		rt.Output(rt.Raw(`{"type":"shell_call","id":"sh_t","status":"completed","call_id":"c_timeout",
			"action":{"commands":["sleep 5"],"timeout_ms":300,"max_output_length":null},"environment":{"type":"local"}}`)),
		rt.Output(rt.ShellCall("c_error", "echo broken >&2; false")),
		rt.Output(rt.ShellCall("c_policy", "rm a.txt")),
		rt.Output(rt.ShellCall("c_secret", "cat ~/.ssh/id_ed25519")),
		rt.Output(rt.ShellCall("c_state", "ls $AGENTLOOP_STATE_DIR/sessions")),
		rt.Output(rt.Text("done")),
	)
	require.NoError(t, os.MkdirAll(filepath.Join(h.home, ".ssh"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(h.home, ".ssh", "id_ed25519"), []byte("SECRET KEY\n"), 0o600))
	// Sessions of earlier tasks (this one's is saved once it has an answer).
	require.NoError(t, os.MkdirAll(filepath.Join(h.home, "state", "sessions"), 0o700))
	cfgDir := filepath.Join(h.home, "config")
	require.NoError(t, os.MkdirAll(cfgDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"shell": {"deny": ["rm"]}}`), 0o644))
	res := h.run("--json", "go")
	require.Equal(t, 0, res.code, res.stderr)

	finished := map[string]string{}
	for _, ev := range parseJSONLines(t, res.stdout) {
		if ev.Kind == "tool_finished" {
			finished[ev.Tool.CallID] = ev.Tool.Outcome
		}
	}
	assert.Equal(t, map[string]string{
		"c_sandbox": "sandbox_denied", "c_timeout": "timeout", "c_error": "error", "c_policy": "sandbox_denied",
		"c_secret": "sandbox_denied", "c_state": "sandbox_denied",
	}, finished)
	secret := shellOutput(t, h.server.Requests()[5], "c_secret")
	assert.NotContains(t, secret.Stdout, "SECRET KEY")
	assert.Contains(t, secret.Stderr, "deny-read rule", "the rule is named")
	state := shellOutput(t, h.server.Requests()[6], "c_state")
	assert.Empty(t, state.Stdout, "the agent's sessions are not listed")

	for _, want := range []string{
		`(?m)^  ✗ blocked by sandbox · exit 1 · \S+ · \d+ B\n    touch: .*outside\.txt.*\n    \[sandbox: this command ran in workspace-write mode.*$`,
		`(?m)^  ✗ timed out · \d+ms · 0 B$`,
		`(?m)^  ✗ exit 1 · \S+ · 7 B\n    broken$`,
		`(?m)^▸ \$ rm a\.txt\n  ✗ blocked by the command policy: This call was refused by policy: .*"rm"$`,
	} {
		assert.Regexp(t, regexp.MustCompile(want), res.stderr)
	}
	assert.Equal(t, "a\n", h.file("a.txt"))
}

func TestToolResultLines(t *testing.T) {
	code := func(n int) *int { return &n }
	shellOut := func(outs ...responses.ShellCommandOutput) *responses.Item {
		it := responses.MustItem(responses.ShellCallOutput{Type: responses.TypeShellCallOutput, CallID: "c", Output: outs})
		return &it
	}
	note := "\n[sandbox: a note for the model]\n"
	patchOut := func(status, text string) *responses.Item {
		it := responses.MustItem(responses.ApplyPatchCallOutput{Type: responses.TypeApplyPatchCallOutput, CallID: "c", Status: status, Output: text})
		return &it
	}
	for _, tc := range []struct {
		name string
		ev   agent.ToolEvent
		ran  bool
		want string
	}{
		{"ok", agent.ToolEvent{Type: responses.TypeShellCall, Outcome: agent.OutcomeOK, Duration: 15 * time.Millisecond,
			Output: shellOut(responses.ShellCommandOutput{Stdout: "hi\n", Outcome: responses.ShellOutcome{Type: "exit", ExitCode: code(0)}})},
			true, "✓ exit 0 · 15ms · 3 B"},
		{"error", agent.ToolEvent{Type: responses.TypeShellCall, Outcome: agent.OutcomeError, Err: &shell.ExitError{Command: 1, Code: 2}, Duration: 15 * time.Millisecond,
			Output: shellOut(responses.ShellCommandOutput{Stderr: "first\nlast\n", Outcome: responses.ShellOutcome{Type: "exit", ExitCode: code(2)}})},
			true, "✗ exit 2 · 15ms · 11 B\n    last"},
		{"sandbox blocked the second command", agent.ToolEvent{Type: responses.TypeShellCall, Outcome: agent.OutcomeSandboxDenied,
			Err: &shell.ExitError{Command: 2, Code: 1, SandboxDenied: true}, Duration: time.Second,
			Output: shellOut(
				responses.ShellCommandOutput{Outcome: responses.ShellOutcome{Type: "exit", ExitCode: code(0)}},
				responses.ShellCommandOutput{Stderr: "touch: Read-only file system" + note, Outcome: responses.ShellOutcome{Type: "exit", ExitCode: code(1)}})},
			true, "✗ blocked by sandbox · exit 0, exit 1 · 1.0s · 61 B\n    touch: Read-only file system\n    [sandbox: a note for the model]"},
		{"deny-read rule", agent.ToolEvent{Type: responses.TypeShellCall, Outcome: agent.OutcomeSandboxDenied,
			Err: &shell.ExitError{Command: 1, Code: 1, SandboxDenied: true}, Duration: time.Second,
			Output: shellOut(responses.ShellCommandOutput{Stderr: "cat: id: Permission denied" + note + "[sandbox: reading id is denied by the rule ~/.ssh]\n",
				Outcome: responses.ShellOutcome{Type: "exit", ExitCode: code(1)}})},
			true, "✗ blocked by sandbox · exit 1 · 1.0s · 110 B\n    cat: id: Permission denied\n    [sandbox: reading id is denied by the rule ~/.ssh]"},
		{"timeout", agent.ToolEvent{Type: responses.TypeShellCall, Outcome: agent.OutcomeTimeout, Err: fmt.Errorf("x: %w", tools.ErrTimeout), Duration: 300 * time.Millisecond,
			Output: shellOut(responses.ShellCommandOutput{Outcome: responses.ShellOutcome{Type: "timeout"}})},
			true, "✗ timed out · 300ms · 0 B"},
		{"command policy", agent.ToolEvent{Type: responses.TypeShellCall, Outcome: agent.OutcomeSandboxDenied, Error: `refused: "rm" is denied`},
			false, `✗ blocked by the command policy: refused: "rm" is denied`},
		{"patch blocked", agent.ToolEvent{Type: responses.TypeApplyPatchCall, Outcome: agent.OutcomeSandboxDenied, Output: patchOut("failed", "~/.ssh/id: denied by rule ~/.ssh")},
			true, "✗ blocked by sandbox: ~/.ssh/id: denied by rule ~/.ssh"},
		{"function timeout", agent.ToolEvent{Type: responses.TypeFunctionCall, Outcome: agent.OutcomeTimeout, Error: "mcp: no answer within 30s", Duration: 30 * time.Second},
			true, "✗ timed out: mcp: no answer within 30s · 30.0s"},
		{"sandbox unavailable", agent.ToolEvent{Type: responses.TypeFunctionCall, Outcome: agent.OutcomeError,
			Err: fmt.Errorf("shell: %w: no Landlock", shell.ErrSandboxUnavailable), Error: "shell: sandbox unavailable: no Landlock"},
			true, "✗ shell: sandbox unavailable: no Landlock\n    the kernel sandbox is not available here; --sandbox danger-full-access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &ui{}
			got := u.toolResult(&tc.ev, tc.ran)
			if strings.HasSuffix(tc.want, "danger-full-access") {
				assert.True(t, strings.HasPrefix(got, tc.want), got)
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
