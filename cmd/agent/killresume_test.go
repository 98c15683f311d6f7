package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// kill -9 during a task, at a terminal: the completed turn is in the
// session, and `agent resume` continues after it. The completed command
// does not run again (runs.txt has its line once), the resumed request
// chains to the last completed turn's response and sends that turn's
// output, which the server had seen only in the killed process's request.
func TestKillNineThenResume(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flags     []string
		wantTypes []string
	}{
		{"chained", nil, []string{"shell_call_output", "message"}},
		{"stateless", []string{"--stateless"}, []string{"message", "shell_call", "shell_call_output", "message"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arg := fmt.Sprintf("60.%d", rand.IntN(1e6))
			h := newHarness(t, nil,
				rt.Output(rt.ShellCall("c1", "echo one >> runs.txt")),
				rt.Output(rt.ShellCall("c2", "echo two >> runs.txt; sleep "+arg)),
				rt.Output(rt.Text("resumed")),
			)
			p := h.startPTY(append(tc.flags, "start the task")...)
			sleep := waitSleepPID(t, arg)
			t.Cleanup(func() { _ = syscall.Kill(sleep, syscall.SIGKILL) })
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
			_ = p.cmd.Wait()
			_ = syscall.Kill(sleep, syscall.SIGKILL) // its command, if it outlived it

			res := h.run("resume", "go on")
			require.Equal(t, 0, res.code, res.stderr)
			assert.Equal(t, "resumed\n", res.stdout)
			assert.Equal(t, "one\ntwo\n", h.file("runs.txt"), "the completed command ran once")

			reqs := h.server.Requests()
			require.Len(t, reqs, 3)
			last := reqs[2]
			assert.Equal(t, 200, last.StatusCode)
			assert.Equal(t, tc.wantTypes, last.InputTypes())
			assert.Empty(t, shellOutput(t, last, "c1").Stderr)
			if tc.flags == nil {
				assert.Equal(t, reqs[0].ResponseID, last.Params.PreviousResponseID, "after the last completed turn")
			} else {
				assert.Empty(t, last.Params.PreviousResponseID)
				assert.Equal(t, "start the task"+"go on", last.InputText())
			}
		})
	}
}

// Two resumes of one session at once: the second is refused, naming the
// process that has it, and sends nothing.
func TestResumeTwiceAtOnceRefused(t *testing.T) {
	arg := fmt.Sprintf("60.%d", rand.IntN(1e6))
	h := newHarness(t, nil,
		rt.Output(rt.Text("first")),
		rt.Output(rt.ShellCall("c1", "sleep "+arg)),
	)
	first := h.run("first")
	require.Equal(t, 0, first.code, first.stderr)
	id := sessionID(t, first.stderr)

	p := h.startPTY("resume", id, "wait a minute")
	sleep := waitSleepPID(t, arg)
	t.Cleanup(func() { _ = syscall.Kill(sleep, syscall.SIGKILL) })

	second := h.run("resume", id, "meanwhile")
	assert.NotEqual(t, 0, second.code)
	assert.Contains(t, second.stderr, fmt.Sprintf("session %s is open in another agent process (pid %d)", id, p.cmd.Process.Pid))
	assert.Len(t, h.server.Requests(), 2, "the refused resume sent nothing")
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
}

// Session files of the earlier format are migrated on first start and
// resumed from the database; the files stay.
func TestSessionFilesMigrate(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("first")), rt.Output(rt.Text("continued")))
	first := h.run("-m", "old-model", "first")
	require.Equal(t, 0, first.code, first.stderr)
	old := h.server.Requests()[0].ResponseID
	dir := filepath.Join(h.home, "state", "sessions")
	require.NoError(t, os.RemoveAll(dir)) // a state directory of the earlier version
	require.NoError(t, os.MkdirAll(dir, 0o700))
	id := "20260101T000000-abcdef"
	file := `{"v":1,"type":"session","id":"` + id + `","model":"old-model"}
{"type":"prompt","text":"hi"}
{"type":"result","result":{"response_id":"` + old + `"}}
{"type":"prompt","te`
	require.NoError(t, os.WriteFile(filepath.Join(dir, id+".jsonl"), []byte(file), 0o600))
	res := h.run("resume", "go on")
	require.Equal(t, 0, res.code, res.stderr)
	reqs := h.server.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, old, reqs[1].Params.PreviousResponseID)
	assert.Equal(t, "old-model", reqs[1].Params.Model)
	report, err := os.ReadFile(filepath.Join(dir, "MIGRATED.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(report), id+".jsonl: dropped its half-written last line 4")
	kept, err := os.ReadFile(filepath.Join(dir, id+".jsonl"))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(kept), `"te`), "the file is kept as it was")
}
