package shell_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

func callOf(t *testing.T, js string) tools.Call {
	t.Helper()
	var it responses.Item
	require.NoError(t, json.Unmarshal([]byte(js), &it))
	return tools.NewCall(it)
}

func TestDefinitions(t *testing.T) {
	b, err := json.Marshal((&shell.Tool{}).Definition())
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"shell","environment":{"type":"local"}}`, string(b))
	b, err = json.Marshal((&shell.LocalTool{}).Definition())
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"local_shell"}`, string(b))
	assert.False(t, (&shell.Tool{}).ParallelSafe())
	assert.False(t, (&shell.LocalTool{}).ParallelSafe())
}

func TestShellCallWireShape(t *testing.T) {
	x := fullAccess(t)
	require.NoError(t, os.WriteFile(filepath.Join(x.Root, "VERSION.txt"), []byte("2.4.0\n"), 0o644))
	tool := &shell.Tool{Executor: x}
	for _, tc := range []struct {
		name, call, want string
		outcome          tools.Outcome
	}{
		{
			"two commands, non-zero exit continues",
			`{"type":"shell_call","id":"sh_01","call_id":"call_s1","status":"completed","environment":{"type":"local"},
			  "action":{"commands":["cat VERSION.txt","echo fatal >&2; exit 128","echo after"],"timeout_ms":20000,"max_output_length":4096}}`,
			`{"type":"shell_call_output","call_id":"call_s1","max_output_length":4096,"output":[
			  {"stdout":"2.4.0\n","stderr":"","outcome":{"type":"exit","exit_code":0}},
			  {"stdout":"","stderr":"fatal\n","outcome":{"type":"exit","exit_code":128}},
			  {"stdout":"after\n","stderr":"","outcome":{"type":"exit","exit_code":0}}]}`,
			tools.OutcomeError,
		},
		{
			"timeout stops the rest",
			`{"type":"shell_call","call_id":"call_s2","action":{"commands":["echo building; sleep 600","echo never"],"timeout_ms":300,"max_output_length":null}}`,
			`{"type":"shell_call_output","call_id":"call_s2","max_output_length":32768,"output":[
			  {"stdout":"building\n","stderr":"","outcome":{"type":"timeout"}}]}`,
			tools.OutcomeTimeout,
		},
		{
			"caller echoed",
			`{"type":"shell_call","call_id":"call_s3","caller":{"type":"code"},"action":{"commands":["true"],"timeout_ms":null,"max_output_length":null}}`,
			`{"type":"shell_call_output","call_id":"call_s3","max_output_length":32768,"caller":{"type":"code"},"output":[
			  {"stdout":"","stderr":"","outcome":{"type":"exit","exit_code":0}}]}`,
			tools.OutcomeOK,
		},
		{
			"output cap echoed and applied",
			`{"type":"shell_call","call_id":"call_s4","action":{"commands":["printf 0123456789"],"max_output_length":4}}`,
			`{"type":"shell_call_output","call_id":"call_s4","max_output_length":4,"output":[
			  {"stdout":"01\n…[6 bytes omitted]…\n89","stderr":"","outcome":{"type":"exit","exit_code":0}}]}`,
			tools.OutcomeOK,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tool.Call(t.Context(), callOf(t, tc.call))
			assert.Equal(t, tc.outcome, tools.OutcomeOf(err), "%v", err)
			b, err := json.Marshal(out)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(b))
		})
	}
}

func TestShellCallErrors(t *testing.T) {
	tool := &shell.Tool{Executor: fullAccess(t)}
	for _, tc := range []struct{ name, call, want string }{
		{"no commands", `{"type":"shell_call","call_id":"c","action":{"commands":[]}}`, "no commands"},
		{"blank command", `{"type":"shell_call","call_id":"c","action":{"commands":["  "]}}`, "empty"},
		{"wrong type", `{"type":"function_call","call_id":"c","name":"f","arguments":"{}"}`, "cannot run"},
		{"bad action", `{"type":"shell_call","call_id":"c","action":{"commands":"ls"}}`, "decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tool.Call(t.Context(), callOf(t, tc.call))
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := (&shell.Tool{}).Call(t.Context(), callOf(t, `{"type":"shell_call","call_id":"c","action":{"commands":["ls"]}}`))
	assert.ErrorContains(t, err, "no Executor")
}

func TestLocalShellCallWireShape(t *testing.T) {
	x := fullAccess(t)
	require.NoError(t, os.Mkdir(filepath.Join(x.Root, "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(x.Root, "src", "main.go"), nil, 0o644))
	tool := &shell.LocalTool{Executor: x}

	decode := func(t *testing.T, it responses.Item) (responses.LocalShellCallOutput, shell.LocalShellOutput) {
		var o responses.LocalShellCallOutput
		require.NoError(t, it.Decode(&o))
		var lo shell.LocalShellOutput
		require.NoError(t, json.Unmarshal([]byte(o.Output), &lo))
		return o, lo
	}

	out, err := tool.Call(t.Context(), callOf(t, `{"type":"local_shell_call","id":"lsh_01","call_id":"call_l1","status":"completed",
		"action":{"type":"exec","command":["ls","src"],"env":{},"working_directory":null,"timeout_ms":10000,"user":null}}`))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(out.Raw(), &raw))
	assert.Len(t, raw, 3, "exactly type, id, output: %v", raw)
	o, lo := decode(t, out)
	assert.Equal(t, "local_shell_call_output", o.Type)
	assert.Equal(t, "call_l1", o.ID, "id carries the call_id")
	assert.Equal(t, "call_l1", out.OutputKey())
	assert.Equal(t, "main.go\n", lo.Output)
	assert.Equal(t, 0, lo.Metadata.ExitCode)

	out, err = tool.Call(t.Context(), callOf(t, `{"type":"local_shell_call","call_id":"call_l2",
		"action":{"type":"exec","command":["sh","-c","echo $GREETING; echo oops >&2; exit 4"],"env":{"GREETING":"hi"},"working_directory":"src"}}`))
	var exit *shell.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, shell.ExitError{Command: 1, Code: 4}, *exit)
	assert.Equal(t, tools.OutcomeError, tools.OutcomeOf(err))
	_, lo = decode(t, out)
	assert.Equal(t, "hi\noops\n", lo.Output)
	assert.Equal(t, 4, lo.Metadata.ExitCode)

	start := time.Now()
	out, err = tool.Call(t.Context(), callOf(t, `{"type":"local_shell_call","call_id":"call_l3",
		"action":{"type":"exec","command":["sleep","600"],"timeout_ms":200}}`))
	assert.ErrorIs(t, err, tools.ErrTimeout)
	assert.Less(t, time.Since(start), 3*time.Second)
	_, lo = decode(t, out)
	assert.Equal(t, 124, lo.Metadata.ExitCode)
	assert.Contains(t, lo.Output, "timed out")

	for _, tc := range []struct{ name, call, want string }{
		{"outside", `{"type":"local_shell_call","call_id":"c","action":{"type":"exec","command":["ls"],"working_directory":"/"}}`, "outside the workspace"},
		{"other user", `{"type":"local_shell_call","call_id":"c","action":{"type":"exec","command":["ls"],"user":"nobody-else"}}`, "not supported"},
		{"empty argv", `{"type":"local_shell_call","call_id":"c","action":{"type":"exec","command":[]}}`, "empty command"},
		{"not found", `{"type":"local_shell_call","call_id":"c","action":{"type":"exec","command":["no-such-cmd-xyz"]}}`, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tool.Call(t.Context(), callOf(t, tc.call))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestShellCallKeepsEarlierOutputs: when a later command cannot start, the
// earlier commands' entries are kept and the failing one explains why.
func TestShellCallKeepsEarlierOutputs(t *testing.T) {
	root := filepath.Join(t.TempDir(), "ws")
	require.NoError(t, os.Mkdir(root, 0o755))
	tool := &shell.Tool{Executor: &shell.Executor{Root: root, Sandbox: shell.DangerFullAccess}}
	out, err := tool.Call(t.Context(), callOf(t, `{"type":"shell_call","call_id":"c","action":{"commands":["rmdir \"$PWD\" && echo removed","echo never"]}}`))
	require.Error(t, err, "the second command could not start")
	assert.Equal(t, tools.OutcomeError, tools.OutcomeOf(err))
	var o responses.ShellCallOutput
	require.NoError(t, out.Decode(&o))
	require.Len(t, o.Output, 2)
	assert.Equal(t, "removed\n", o.Output[0].Stdout)
	require.NotNil(t, o.Output[1].Outcome.ExitCode)
	assert.Equal(t, 126, *o.Output[1].Outcome.ExitCode)
	assert.Contains(t, o.Output[1].Stderr, "error: ")
	assert.NotContains(t, o.Output[1].Stdout, "never")
}
