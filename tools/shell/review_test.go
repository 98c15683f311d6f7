package shell_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

func TestToolReview(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	p, err := shell.NewPolicy(&shell.PolicyOptions{Deny: []string{"git push"}})
	require.NoError(t, err)
	tool := &shell.Tool{Executor: x, Policy: p}

	r, err := tool.Review(t.Context(), callOf(t, `{"type":"shell_call","call_id":"c1","action":{"commands":["ls","git status"]}}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Allow, r.Decision)

	r, err = tool.Review(t.Context(), callOf(t, `{"type":"shell_call","call_id":"c2","action":{"commands":["go test ./...","git commit -am wip"]}}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Ask, r.Decision)
	req := r.Request
	assert.Equal(t, "shell", req.Kind)
	assert.Equal(t, "shell", req.Tool)
	assert.Equal(t, "c2", req.CallID)
	assert.Equal(t, []string{"go test ./...", "git commit -am wip"}, req.Command)
	assert.Equal(t, x.Root, req.Dir)
	assert.Equal(t, "workspace-write", req.Sandbox)
	assert.Equal(t, "shell:git commit && go test", req.Key)
	assert.Contains(t, req.Summary, "go test ./...")

	r, err = tool.Review(t.Context(), callOf(t, `{"type":"shell_call","call_id":"c3","action":{"commands":["git add .","git push"]}}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Deny, r.Decision)
	assert.Contains(t, r.Reason, "git push")
	assert.ErrorIs(t, r.Err, tools.ErrSandboxDenied, "the command policy's refusal is sandbox_denied")
	assert.Equal(t, tools.OutcomeSandboxDenied, tools.OutcomeOf(r.Err))
}

// TestToolOutcomes: the error beside the output gives the call its outcome.
func TestToolOutcomes(t *testing.T) {
	tool := &shell.Tool{Executor: sandboxed(t, shell.WorkspaceWrite)}
	for _, tc := range []struct {
		name     string
		commands string
		want     tools.Outcome
	}{
		{"ok", `["true","echo hi"]`, tools.OutcomeOK},
		{"exit", `["false","true"]`, tools.OutcomeError},
		{"write outside the workspace", `["touch ../x"]`, tools.OutcomeSandboxDenied},
		{"denial wins over a failure", `["exit 2","echo x > /etc/agentloop-x"]`, tools.OutcomeSandboxDenied},
		{"failure inside the workspace is no denial", `["mkdir d && chmod 0 d && ls d/x"]`, tools.OutcomeError},
		{"network", `["echo > /dev/tcp/127.0.0.1/9"]`, tools.OutcomeSandboxDenied},
		{"timeout", `["sleep 5"]`, tools.OutcomeTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := callOf(t, `{"type":"shell_call","call_id":"c","action":{"commands":`+tc.commands+`,"timeout_ms":1000}}`)
			out, err := tool.Call(t.Context(), call)
			assert.Equal(t, tc.want, tools.OutcomeOf(err), "%v", err)
			assert.Equal(t, "shell_call_output", out.Type, "the model gets its output whatever the outcome")
		})
	}
	local := &shell.LocalTool{Executor: tool.Executor}
	_, err := local.Call(t.Context(), callOf(t, `{"type":"local_shell_call","call_id":"l","action":{"type":"exec","command":["touch","/etc/agentloop-x"]}}`))
	var exit *shell.ExitError
	require.ErrorAs(t, err, &exit)
	assert.True(t, exit.SandboxDenied)
	assert.Equal(t, tools.OutcomeSandboxDenied, tools.OutcomeOf(err))
}

func TestLocalToolReview(t *testing.T) {
	x := sandboxed(t, shell.ReadOnly)
	tool := &shell.LocalTool{Executor: x}
	r, err := tool.Review(t.Context(), callOf(t, `{"type":"local_shell_call","call_id":"l1","action":{"type":"exec","command":["ls","-la"]}}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Allow, r.Decision)

	r, err = tool.Review(t.Context(), callOf(t, `{"type":"local_shell_call","call_id":"l2","action":{"type":"exec","command":["npm","install","left pad"],"working_directory":"."}}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Ask, r.Decision)
	assert.Equal(t, "shell", r.Request.Kind)
	assert.Equal(t, "local_shell", r.Request.Tool)
	assert.Equal(t, []string{"npm", "install", "left pad"}, r.Request.Command)
	assert.Equal(t, "run npm install 'left pad'", r.Request.Summary)
	assert.Equal(t, x.Root, r.Request.Dir)
	assert.Equal(t, "read-only", r.Request.Sandbox)
	assert.Equal(t, "shell:npm install", r.Request.Key)

	r, err = tool.Review(t.Context(), callOf(t, `{"type":"local_shell_call","call_id":"l3","action":{"type":"exec","command":["ls"],"working_directory":"/etc"}}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Deny, r.Decision)
	assert.Contains(t, r.Reason, "outside the workspace")
	assert.ErrorIs(t, r.Err, tools.ErrSandboxDenied)
}
