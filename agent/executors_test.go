package agent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/applypatch"
	"github.com/agentloop/agentloop/tools/shell"
)

// TestLoopLocalExecutors drives the shell, local_shell and apply_patch tools
// through the loop with real processes and files, and checks that their
// outputs reach the next request in the API's wire shapes.
func TestLoopLocalExecutors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "VERSION.txt"), []byte("2.4.0\n"), 0o644))
	srv := rt.New(t,
		rt.Output(rt.ShellCall("call_sh", "cat VERSION.txt", "echo oops >&2; exit 3", "touch ../escaped.txt")),
		rt.Output(rt.LocalShellCall("call_ls", "ls")),
		rt.Output(rt.ApplyPatchCall("call_ap", "update_file", "VERSION.txt", "@@\n-2.4.0\n+2.4.1\n")),
		rt.Output(rt.ApplyPatchCall("call_bad", "update_file", "VERSION.txt", "@@\n-9.9.9\n+1.0.0\n")),
		rt.Output(rt.Text("bumped")),
	)
	x := &shell.Executor{Root: dir, Sandbox: shell.WorkspaceWrite}
	ws, err := applypatch.NewWorkspace(dir, nil)
	require.NoError(t, err)
	ap, err := applypatch.NewTool(ws, nil)
	require.NoError(t, err)
	a := agent.New(client(srv), "m", &agent.Options{
		Tools:    []tools.Tool{&shell.Tool{Executor: x}, &shell.LocalTool{Executor: x}, ap},
		Approver: agent.AutoApprove,
	})
	res, err := a.Run(t.Context(), "bump the version")
	require.NoError(t, err)
	assert.Equal(t, "bumped", res.Text)

	reqs := served(srv)
	require.Len(t, reqs, 5)
	defs := reqs[0].Params.Tools
	require.Len(t, defs, 3)
	assert.JSONEq(t, `{"type":"shell","environment":{"type":"local"}}`, string(defs[0].Raw()))
	assert.JSONEq(t, `{"type":"local_shell"}`, string(defs[1].Raw()))
	assert.JSONEq(t, `{"type":"apply_patch"}`, string(defs[2].Raw()))

	// shell_call_output: one entry per command, exit outcomes.
	in := reqs[1].Params.Input.Items
	require.Len(t, in, 1)
	var sh responses.ShellCallOutput
	require.NoError(t, in[0].Decode(&sh))
	assert.Equal(t, "shell_call_output", sh.Type)
	assert.Equal(t, "call_sh", sh.CallID)
	require.Len(t, sh.Output, 3)
	assert.Equal(t, "2.4.0\n", sh.Output[0].Stdout)
	assert.Equal(t, "exit", sh.Output[0].Outcome.Type)
	assert.Equal(t, 0, *sh.Output[0].Outcome.ExitCode)
	assert.Equal(t, "oops\n", sh.Output[1].Stderr)
	assert.Equal(t, 3, *sh.Output[1].Outcome.ExitCode)
	assert.NotEqual(t, 0, *sh.Output[2].Outcome.ExitCode, "the sandbox refuses a write outside the workspace")
	assert.Contains(t, sh.Output[2].Stderr, "sandbox")
	assert.NoFileExists(t, filepath.Join(filepath.Dir(dir), "escaped.txt"))

	// local_shell_call_output: keyed by id = the call_id, output a string.
	in = reqs[2].Params.Input.Items
	require.Len(t, in, 1)
	var ls map[string]any
	require.NoError(t, json.Unmarshal(in[0].Raw(), &ls))
	assert.Equal(t, "local_shell_call_output", ls["type"])
	assert.Equal(t, "call_ls", ls["id"])
	assert.Contains(t, ls["output"], "VERSION.txt")

	// apply_patch_call_output: completed, then failed with a readable error.
	var po responses.ApplyPatchCallOutput
	require.NoError(t, reqs[3].Params.Input.Items[0].Decode(&po))
	assert.Equal(t, responses.ApplyPatchCallOutput{Type: "apply_patch_call_output", CallID: "call_ap", Status: "completed", Output: po.Output}, po)
	require.NoError(t, reqs[4].Params.Input.Items[0].Decode(&po))
	assert.Equal(t, "failed", po.Status)
	assert.Contains(t, po.Output, "9.9.9")

	got, err := os.ReadFile(filepath.Join(dir, "VERSION.txt"))
	require.NoError(t, err)
	assert.Equal(t, "2.4.1\n", string(got), "the failed patch changed nothing")
}
