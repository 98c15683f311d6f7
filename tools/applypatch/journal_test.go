package applypatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// envelopeCall is a function call of the envelope form.
func envelopeCall(callID, patch string) tools.Call {
	args, _ := json.Marshal(map[string]string{"input": patch})
	return tools.NewCall(responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: callID, Name: "apply_patch", Arguments: string(args)}))
}

// appendAndAdd appends a line to a.txt (a hunk with no context: applied
// twice, it appends twice) and adds b.txt.
const appendAndAdd = "*** Begin Patch\n*** Update File: a.txt\n@@\n+appended\n*** Add File: b.txt\n+new\n*** End Patch\n"

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}

// TestKeyedCallAppliesOnce: a call run again with the same idempotency
// key recognises that its files already hold the patch's result, answers
// as applied and writes nothing; without a key the tool has no memory.
func TestKeyedCallAppliesOnce(t *testing.T) {
	tool, dir := newTestTool(t, &ToolOptions{Form: Function, JournalDir: t.TempDir()}, map[string]string{"a.txt": "one\n"})
	require.True(t, tool.Idempotent())
	call := envelopeCall("call_1", appendAndAdd)
	first, err := tool.Call(tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_1", Number: 1}), call)
	require.NoError(t, err)
	require.Equal(t, "one\nappended\n", readFile(t, dir, "a.txt"))
	st, err := os.Stat(filepath.Join(dir, "a.txt"))
	require.NoError(t, err)

	second, err := tool.Call(tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_1", Number: 2}), call)
	require.NoError(t, err)
	assert.Equal(t, string(first.Raw()), string(second.Raw()), "the second attempt answers as the first")
	assert.Equal(t, "one\nappended\n", readFile(t, dir, "a.txt"), "nothing appended twice")
	assert.Equal(t, "new\n", readFile(t, dir, "b.txt"))
	st2, err := os.Stat(filepath.Join(dir, "a.txt"))
	require.NoError(t, err)
	assert.Equal(t, st.ModTime(), st2.ModTime(), "a.txt not written again")

	// Another call (another key) with the same patch is another change.
	_, err = tool.Call(tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_2", Number: 1}), envelopeCall("call_2", "*** Begin Patch\n*** Update File: a.txt\n@@\n+appended\n*** End Patch\n"))
	require.NoError(t, err)
	assert.Equal(t, "one\nappended\nappended\n", readFile(t, dir, "a.txt"))
}

// TestKeyedCallNotWrittenYet: an entry whose files still hold what they
// held before (the first attempt died before writing) is applied.
func TestKeyedCallNotWrittenYet(t *testing.T) {
	tool, dir := newTestTool(t, &ToolOptions{Form: Function, JournalDir: t.TempDir()}, map[string]string{"a.txt": "one\n"})
	call := envelopeCall("call_1", appendAndAdd)
	ctx := tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_1", Number: 1})
	_, err := tool.Call(ctx, call)
	require.NoError(t, err)
	// Undo the writes, as if the process had died after the journal.
	write(t, filepath.Join(dir, "a.txt"), "one\n")
	require.NoError(t, os.Remove(filepath.Join(dir, "b.txt")))

	_, err = tool.Call(tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_1", Number: 2}), call)
	require.NoError(t, err)
	assert.Equal(t, "one\nappended\n", readFile(t, dir, "a.txt"))
	assert.Equal(t, "new\n", readFile(t, dir, "b.txt"))
}

// TestKeyedCallInterruptedWhileWriting: some files hold the result and
// the others what they held before: the call fails naming them, and
// writes nothing.
func TestKeyedCallInterruptedWhileWriting(t *testing.T) {
	tool, dir := newTestTool(t, &ToolOptions{Form: Function, JournalDir: t.TempDir()}, map[string]string{"a.txt": "one\n"})
	call := envelopeCall("call_1", appendAndAdd)
	_, err := tool.Call(tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_1", Number: 1}), call)
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, "b.txt"))) // a.txt written, b.txt not

	out, err := tool.Call(tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_1", Number: 2}), call)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a.txt already hold the result, b.txt do not")
	assert.Contains(t, string(out.Raw()), "interrupted while writing")
	assert.Equal(t, "one\nappended\n", readFile(t, dir, "a.txt"))
	assert.NoFileExists(t, filepath.Join(dir, "b.txt"))
}

// TestUnkeyedCallIsNotJournaled: the in-process loop gives no key: no
// journal is written.
func TestUnkeyedCallIsNotJournaled(t *testing.T) {
	journal := t.TempDir()
	tool, dir := newTestTool(t, &ToolOptions{Form: Function, JournalDir: journal}, map[string]string{"a.txt": "one\n"})
	call := envelopeCall("call_1", appendAndAdd)
	_, err := tool.Call(t.Context(), call)
	require.NoError(t, err)
	ents, err := os.ReadDir(journal)
	require.NoError(t, err)
	assert.Empty(t, ents)
	_, err = tool.Call(t.Context(), envelopeCall("call_1", "*** Begin Patch\n*** Update File: a.txt\n@@\n+appended\n*** End Patch\n"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(readFile(t, dir, "a.txt"), "appended"))
}
