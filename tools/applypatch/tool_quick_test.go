package applypatch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickTool(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "VERSION.txt"), []byte("2.4.0\n"), 0o600))
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	tool, err := NewTool(ws, &ToolOptions{Approval: ApproveAlways})
	require.NoError(t, err)
	item := responses.MustItem(responses.ApplyPatchCall{Type: responses.TypeApplyPatchCall, CallID: "call_1",
		Operation: responses.ApplyPatchOperation{Type: "update_file", Path: "VERSION.txt", Diff: "@@\n-2.4.0\n+2.4.1\n"}})
	call := tools.NewCall(item)
	rv, err := tool.Review(t.Context(), call)
	require.NoError(t, err)
	assert.Equal(t, tools.Ask, rv.Decision)
	t.Log(rv.Request.Diff)
	out, err := tool.Call(t.Context(), call)
	require.NoError(t, err)
	t.Log(string(out.Raw()))
	b, _ := os.ReadFile(filepath.Join(dir, "VERSION.txt"))
	assert.Equal(t, "2.4.1\n", string(b))
	fi, _ := os.Stat(filepath.Join(dir, "VERSION.txt"))
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}
