package applypatch

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestTool(t *testing.T, opts *ToolOptions, files map[string]string) (*Tool, string) {
	t.Helper()
	dir := t.TempDir()
	for name, c := range files {
		write(t, filepath.Join(dir, name), c)
	}
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	tool, err := NewTool(ws, opts)
	require.NoError(t, err)
	return tool, dir
}

func patchCall(callID, typ, path, diff string) tools.Call {
	return tools.NewCall(responses.MustItem(responses.ApplyPatchCall{Type: responses.TypeApplyPatchCall, CallID: callID,
		Operation: responses.ApplyPatchOperation{Type: typ, Path: path, Diff: diff}}))
}

func TestToolDefinitions(t *testing.T) {
	for _, tc := range []struct {
		form          Form
		name          string
		typ, wantName string
	}{
		{Native, "", "apply_patch", ""},
		{Function, "", "function", "apply_patch"},
		{Custom, "edit", "custom", "edit"},
	} {
		tool, _ := newTestTool(t, &ToolOptions{Form: tc.form, Name: tc.name}, nil)
		def := tool.Definition()
		assert.Equal(t, tc.typ, def.Type)
		assert.Equal(t, tc.wantName, def.Name)
		var m map[string]any
		require.NoError(t, json.Unmarshal(def.Raw(), &m))
		switch tc.form {
		case Native:
			assert.Equal(t, map[string]any{"type": "apply_patch"}, m)
		case Function:
			assert.Equal(t, true, m["strict"])
			params := m["parameters"].(map[string]any)
			assert.Equal(t, []any{"input"}, params["required"])
			assert.Equal(t, false, params["additionalProperties"])
			assert.Contains(t, m["description"], "*** Begin Patch")
		case Custom:
			format := m["format"].(map[string]any)
			assert.Equal(t, "grammar", format["type"])
			assert.Equal(t, "lark", format["syntax"])
			assert.Equal(t, Grammar, format["definition"])
		}
		assert.False(t, tool.ParallelSafe())
	}
}

func TestNewToolErrors(t *testing.T) {
	ws, err := NewWorkspace(t.TempDir(), nil)
	require.NoError(t, err)
	_, err = NewTool(nil, nil)
	assert.ErrorContains(t, err, "needs a workspace")
	_, err = NewTool(ws, &ToolOptions{Trusted: []string{"[x"}})
	assert.ErrorContains(t, err, "invalid path pattern")
	_, err = NewTool(ws, &ToolOptions{Form: Form(9)})
	assert.ErrorContains(t, err, "unknown tool form")
}

const envelope = "*** Begin Patch\n*** Update File: a.txt\n@@\n-a\n+A\n*** End Patch\n"

func TestToolCallForms(t *testing.T) {
	for _, tc := range []struct {
		name    string
		item    any
		wantOut map[string]any
	}{
		{"native", responses.ApplyPatchCall{Type: responses.TypeApplyPatchCall, CallID: "c1", Caller: json.RawMessage(`{"type":"direct"}`),
			Operation: responses.ApplyPatchOperation{Type: "update_file", Path: "a.txt", Diff: "@@\n-a\n+A\n"}},
			map[string]any{"type": "apply_patch_call_output", "call_id": "c1", "status": "completed",
				"output": "Success. Updated the following files:\nM a.txt (+1 -1)\n", "caller": map[string]any{"type": "direct"}}},
		{"function", responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "c2", Name: "apply_patch",
			Arguments: string(responses.MustJSON(map[string]string{"input": envelope}))},
			map[string]any{"type": "function_call_output", "call_id": "c2", "output": "Success. Updated the following files:\nM a.txt (+1 -1)\n"}},
		{"custom", responses.CustomToolCall{Type: responses.TypeCustomToolCall, CallID: "c3", Name: "apply_patch", Input: envelope},
			map[string]any{"type": "custom_tool_call_output", "call_id": "c3", "output": "Success. Updated the following files:\nM a.txt (+1 -1)\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tool, dir := newTestTool(t, nil, map[string]string{"a.txt": "a\n"})
			out, err := tool.Call(t.Context(), tools.NewCall(responses.MustItem(tc.item)))
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal(out.Raw(), &got))
			assert.Equal(t, tc.wantOut, got)
			assert.Equal(t, map[string]string{"a.txt": "A\n"}, readTree(t, dir))
		})
	}
}

// TestToolCallFailures checks that a failed call returns its failed output
// item, exactly what the loop would make of the error, together with an
// error whose outcome says why (issue 13).
func TestToolCallFailures(t *testing.T) {
	envelopeFor := func(path string) string {
		return "*** Begin Patch\n*** Update File: " + path + "\n@@\n-s\n+S\n*** End Patch\n"
	}
	native := func(typ, path, diff string) any {
		return responses.ApplyPatchCall{Type: responses.TypeApplyPatchCall, CallID: "c1",
			Operation: responses.ApplyPatchOperation{Type: typ, Path: path, Diff: diff}}
	}
	function := func(patch string) any {
		return responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "c2", Name: "apply_patch",
			Arguments: string(responses.MustJSON(map[string]string{"input": patch}))}
	}
	custom := func(patch string) any {
		return responses.CustomToolCall{Type: responses.TypeCustomToolCall, CallID: "c3", Name: "apply_patch", Input: patch}
	}
	for _, tc := range []struct {
		name    string
		item    any
		want    string
		outcome tools.Outcome
	}{
		{"context not found", native("update_file", "a.txt", "@@\n-zzz\n+A\n"), "update a.txt: hunk 1 of 1", tools.OutcomeError},
		{"anchor without space", native("update_file", "a.txt", "@@a\n-a\n+A\n"), `invalid @@ line "@@a"`, tools.OutcomeError},
		{"escape", native("create_file", "../x", "+x\n"), "add ../x: path must be relative", tools.OutcomeSandboxDenied},
		{"absolute", native("delete_file", "/etc/passwd", ""), "delete /etc/passwd: path must be relative", tools.OutcomeSandboxDenied},
		{"protected", native("update_file", ".git/config", "@@\n-s\n+S\n"), "update .git/config: path is protected", tools.OutcomeSandboxDenied},
		{"deny-read native", native("update_file", "secrets/key", "@@\n-s\n+S\n"), "update secrets/key: access denied by the deny-read rule", tools.OutcomeSandboxDenied},
		{"deny-read function", function(envelopeFor("secrets/key")), "update secrets/key: access denied by the deny-read rule", tools.OutcomeSandboxDenied},
		{"deny-read custom", custom(envelopeFor("secrets/key")), "update secrets/key: access denied by the deny-read rule", tools.OutcomeSandboxDenied},
		{"function does not apply", function(envelopeFor("a.txt")), "update a.txt: hunk 1 of 1", tools.OutcomeError},
		{"function args not JSON", responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "c2", Name: "apply_patch", Arguments: envelope},
			`{"input": "<the whole patch>"}`, tools.OutcomeError},
		{"function args without input", responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "c2", Name: "apply_patch", Arguments: `{"patch":"x"}`},
			`{"input": "<the whole patch>"}`, tools.OutcomeError},
		{"custom not a patch", custom("hello"), `the first line of the patch must be "*** Begin Patch"`, tools.OutcomeError},
		{"wrong item", responses.ShellCall{Type: responses.TypeShellCall, CallID: "c4"}, "cannot answer a shell_call item", tools.OutcomeError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"a.txt": "a\n", ".git/config": "s\n", "secrets/key": "s\n"}
			for name, c := range files {
				write(t, filepath.Join(dir, name), c)
			}
			ws, err := NewWorkspace(dir, &Options{DenyRead: []string{filepath.Join(dir, "secrets")}})
			require.NoError(t, err)
			tool, err := NewTool(ws, nil)
			require.NoError(t, err)
			call := tools.NewCall(responses.MustItem(tc.item))
			out, err := tool.Call(t.Context(), call)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, tc.outcome, tools.OutcomeOf(err))
			assert.Equal(t, string(tools.FailedOutput(call, err).Raw()), string(out.Raw()), "the failed output item, as the loop made it")
			assert.Equal(t, call.CallID, out.OutputKey())
			assert.Equal(t, files, readTree(t, dir), "a failed call changes nothing")
		})
	}
}

func TestToolNativeMoveTo(t *testing.T) {
	tool, dir := newTestTool(t, nil, map[string]string{"a.txt": "a\n"})
	item, err := responses.NewItem(map[string]any{"type": "apply_patch_call", "call_id": "c1",
		"operation": map[string]any{"type": "update_file", "path": "a.txt", "move_to": "b.txt", "diff": "@@\n-a\n+b\n"}})
	require.NoError(t, err)
	_, err = tool.Call(t.Context(), tools.NewCall(item))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"b.txt": "b\n"}, readTree(t, dir))
}

func TestToolReview(t *testing.T) {
	files := map[string]string{"src/a.txt": "a\n", "README": "r\n"}
	t.Run("never", func(t *testing.T) {
		tool, _ := newTestTool(t, nil, files)
		rv, err := tool.Review(t.Context(), patchCall("c1", "update_file", "src/a.txt", "@@\n-a\n+A\n"))
		require.NoError(t, err)
		assert.Equal(t, tools.Allow, rv.Decision)
	})
	t.Run("always", func(t *testing.T) {
		tool, dir := newTestTool(t, &ToolOptions{Approval: ApproveAlways}, files)
		call := patchCall("c1", "update_file", "src/a.txt", "@@\n-a\n+A\n")
		rv, err := tool.Review(t.Context(), call)
		require.NoError(t, err)
		assert.Equal(t, tools.Ask, rv.Decision)
		assert.Equal(t, tools.ApprovalRequest{
			Kind: "apply_patch", Tool: "apply_patch", CallID: "c1", Summary: "apply patch: M src/a.txt (+1 -1)",
			Paths: []string{"src/a.txt"}, Diff: "--- a/src/a.txt\n+++ b/src/a.txt\n@@ -1 +1 @@\n-a\n+A\n", Key: "apply_patch",
		}, rv.Request)
		assert.Equal(t, files, readTree(t, dir), "review writes nothing")
		call.Approved = &rv.Request // as the loop does once it is approved
		_, err = tool.Call(t.Context(), call)
		require.NoError(t, err)
		assert.Equal(t, "A\n", readTree(t, dir)["src/a.txt"])
	})
	t.Run("outside trusted patterns", func(t *testing.T) {
		tool, _ := newTestTool(t, &ToolOptions{Approval: ApproveOutside, Trusted: []string{"src/**"}}, files)
		rv, err := tool.Review(t.Context(), patchCall("c1", "update_file", "src/a.txt", "@@\n-a\n+A\n"))
		require.NoError(t, err)
		assert.Equal(t, tools.Allow, rv.Decision)
		rv, err = tool.Review(t.Context(), patchCall("c2", "update_file", "README", "@@\n-r\n+R\n"))
		require.NoError(t, err)
		assert.Equal(t, tools.Ask, rv.Decision)
		assert.Equal(t, []string{"README"}, rv.Request.Paths)
	})
	t.Run("files changed after review", func(t *testing.T) {
		tool, dir := newTestTool(t, &ToolOptions{Approval: ApproveAlways}, files)
		call := patchCall("c1", "update_file", "src/a.txt", "@@\n+added\n")
		rv, err := tool.Review(t.Context(), call)
		require.NoError(t, err)
		require.Equal(t, tools.Ask, rv.Decision)
		write(t, filepath.Join(dir, "src/a.txt"), "a\nb\n") // the diff would now differ
		out, err := tool.Call(t.Context(), call)
		require.ErrorContains(t, err, "the files changed after the patch was reviewed")
		assert.Equal(t, tools.OutcomeError, tools.OutcomeOf(err))
		assert.Contains(t, string(out.Raw()), `"status":"failed"`)
		assert.Equal(t, "a\nb\n", readTree(t, dir)["src/a.txt"])
	})
	t.Run("failing patch is never shown and never runs", func(t *testing.T) {
		tool, dir := newTestTool(t, &ToolOptions{Approval: ApproveAlways}, files)
		call := patchCall("c1", "update_file", "src/a.txt", "@@\n-b\n+B\n")
		rv, err := tool.Review(t.Context(), call)
		require.NoError(t, err)
		assert.Equal(t, tools.Allow, rv.Decision, "nothing to approve: the call fails")
		write(t, filepath.Join(dir, "src/a.txt"), "b\n") // now it would apply
		_, err = tool.Call(t.Context(), call)
		require.ErrorContains(t, err, "the files changed after the patch was reviewed")
		assert.Equal(t, "b\n", readTree(t, dir)["src/a.txt"])
	})
	t.Run("canceled", func(t *testing.T) {
		tool, _ := newTestTool(t, &ToolOptions{Approval: ApproveAlways}, files)
		ctx, cancel := contextWithCancel(t)
		cancel()
		_, err := tool.Review(ctx, patchCall("c1", "update_file", "src/a.txt", "@@\n-a\n+A\n"))
		require.ErrorIs(t, err, errCanceled)
	})
}

// No state between Review and Call: a call approved in one process is
// applied by another Tool (a resumed run) only with the approved diff.
func TestToolApprovedElsewhere(t *testing.T) {
	files := map[string]string{"a.txt": "a\n"}
	reviewer, _ := newTestTool(t, &ToolOptions{Approval: ApproveAlways}, files)
	call := patchCall("c1", "update_file", "a.txt", "@@\n-a\n+A\n")
	rv, err := reviewer.Review(t.Context(), call)
	require.NoError(t, err)
	require.Equal(t, tools.Ask, rv.Decision)

	tool, dir := newTestTool(t, &ToolOptions{Approval: ApproveAlways}, files)
	_, err = tool.Call(t.Context(), call)
	require.ErrorContains(t, err, "not approved as it is now", "no approval, no write")
	assert.Equal(t, "a\n", readTree(t, dir)["a.txt"])

	other := rv.Request
	other.Diff = "--- a/a.txt\n+++ b/a.txt\n"
	call.Approved = &other
	_, err = tool.Call(t.Context(), call)
	require.Error(t, err, "another diff was approved")
	assert.Equal(t, "a\n", readTree(t, dir)["a.txt"])

	call.Approved = &rv.Request
	_, err = tool.Call(t.Context(), call)
	require.NoError(t, err)
	assert.Equal(t, "A\n", readTree(t, dir)["a.txt"])
}

func TestToolDryRun(t *testing.T) {
	tool, dir := newTestTool(t, nil, map[string]string{"a.txt": "a\n"})
	res, err := tool.DryRun(t.Context(), patchCall("c1", "delete_file", "a.txt", ""))
	require.NoError(t, err)
	assert.Equal(t, "--- a/a.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n", res.Diff())
	assert.Equal(t, map[string]string{"a.txt": "a\n"}, readTree(t, dir))
	_, err = tool.DryRun(t.Context(), patchCall("c1", "delete_file", "b.txt", ""))
	assert.ErrorIs(t, err, ErrNotExist)
}
