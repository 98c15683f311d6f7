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
}
