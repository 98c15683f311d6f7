package tools_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

func TestFailedOutputShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		call responses.Item
		want string
	}{
		{"function", responses.MustItem(map[string]any{"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}),
			`{"type":"function_call_output","call_id":"c1","output":"error: boom"}`},
		{"function keeps caller", responses.MustItem(map[string]any{"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "caller": map[string]string{"type": "program", "caller_id": "call_p"}}),
			`{"type":"function_call_output","call_id":"c1","output":"error: boom","caller":{"caller_id":"call_p","type":"program"}}`},
		{"null caller is not copied", responses.MustItem(map[string]any{"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}", "caller": nil}),
			`{"type":"function_call_output","call_id":"c1","output":"error: boom"}`},
		{"custom", responses.MustItem(map[string]any{"type": "custom_tool_call", "call_id": "c2", "name": "q", "input": "x"}),
			`{"type":"custom_tool_call_output","call_id":"c2","output":"error: boom"}`},
		{"apply_patch", responses.MustItem(map[string]any{"type": "apply_patch_call", "call_id": "c3", "operation": map[string]string{"type": "delete_file", "path": "a"}}),
			`{"type":"apply_patch_call_output","call_id":"c3","status":"failed","output":"error: boom"}`},
		{"shell", responses.MustItem(map[string]any{"type": "shell_call", "call_id": "c4", "action": map[string]any{"commands": []string{"ls"}}}),
			`{"type":"shell_call_output","call_id":"c4","output":[{"stdout":"","stderr":"error: boom","outcome":{"type":"exit","exit_code":1}}]}`},
		{"local_shell", responses.MustItem(map[string]any{"type": "local_shell_call", "call_id": "c5", "action": map[string]any{"type": "exec", "command": []string{"ls"}}}),
			`{"type":"local_shell_call_output","id":"c5","output":"error: boom"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := tools.FailedOutput(tools.NewCall(tc.call), errors.New("boom"))
			assert.Equal(t, tc.want, string(out.Raw()))
			assert.Equal(t, tc.call.CallID, out.OutputKey(), "the output answers the call")
		})
	}
}

func TestDecisionString(t *testing.T) {
	assert.Equal(t, "allow", tools.Allow.String())
	assert.Equal(t, "ask", tools.Ask.String())
	assert.Equal(t, "deny", tools.Deny.String())
	assert.Equal(t, "Decision(7)", tools.Decision(7).String())
}
