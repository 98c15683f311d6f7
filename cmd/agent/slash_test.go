package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func TestSlashCommandsAtTerminal(t *testing.T) {
	h := newHarness(t, map[string]string{"a.txt": "one\ntwo\n"},
		rt.Output(rt.ApplyPatchCall("p1", "update_file", "a.txt", "@@\n one\n-two\n+TWO\n")),
		rt.Output(rt.Text("patched")),
		rt.Output(rt.Text("on the new model")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY()
	p.waitFor("› ", 1)
	p.send("/frobnicate now\n")
	p.waitFor("unknown command: /frobnicate (try /help)", 1)
	p.waitFor("› ", 2)
	p.send("/help\n")
	p.waitFor("/undo", 1)
	p.waitFor("› ", 3)
	p.send("fix a.txt\n")
	p.waitFor("patched", 2)
	p.waitFor("› ", 4)
	assert.Equal(t, "one\nTWO\n", h.file("a.txt"))
	p.send("/diff\n")
	p.waitFor("+TWO", 1)
	p.waitFor("› ", 5)
	p.send("/undo\n")
	p.waitFor("restored a.txt", 1)
	p.waitFor("› ", 6)
	assert.Equal(t, "one\ntwo\n", h.file("a.txt"), "restored byte for byte")
	p.send("/model gpt-other\n")
	p.waitFor("model: gpt-other", 1)
	p.waitFor("› ", 7)
	p.send("/status\n")
	p.waitFor("workspace  "+h.ws, 1)
	p.waitFor("› ", 8)
	p.send("go on\n")
	p.waitFor("on the new model", 1)
	p.waitFor("› ", 9)
	p.send("/exit\n")
	assert.Equal(t, 0, p.wait(), p.output())

	reqs := h.server.Requests()
	require.Len(t, reqs, 3, "commands never reach the model")
	assert.Equal(t, "fix a.txt", reqs[0].InputText())
	assert.Equal(t, "gpt-5-codex", reqs[0].Params.Model)
	assert.Equal(t, "gpt-other", reqs[2].Params.Model, "/model switches the next request's model")
	assert.Equal(t, reqs[1].ResponseID, reqs[2].Params.PreviousResponseID)
	assert.Contains(t, string(reqs[2].Body), "The user undid your last changes to a.txt", "the model is told about /undo")
}

func TestUndoWithoutGit(t *testing.T) {
	ws := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ws, "keep.txt"), []byte("a\r\nb"), 0o640))
	u := newUndoLog(ws)
	_, err := u.undo()
	assert.ErrorContains(t, err, "nothing to undo")

	u.beginTask()
	u.snap("keep.txt")
	u.snap("new/made.txt")
	u.snap("keep.txt") // once per task
	require.NoError(t, os.WriteFile(filepath.Join(ws, "keep.txt"), []byte("changed"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(ws, "new"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "new", "made.txt"), []byte("x"), 0o644))
	u.endTask()

	files, err := u.undo()
	require.NoError(t, err)
	assert.Equal(t, []string{"keep.txt", "new/made.txt"}, files)
	data, err := os.ReadFile(filepath.Join(ws, "keep.txt"))
	require.NoError(t, err)
	assert.Equal(t, "a\r\nb", string(data))
	st, err := os.Stat(filepath.Join(ws, "keep.txt"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.NoFileExists(t, filepath.Join(ws, "new", "made.txt"))
	out, _ := exec.Command("ls", "-A", ws).Output()
	assert.Equal(t, "keep.txt\nnew\n", string(out), "no temporary file left")
}

func TestIsSlashCommand(t *testing.T) {
	for line, want := range map[string]bool{
		"/model x": true, "/x": true, "/": true, "/tmp/cat.png what is it": false, "fix /etc": false, "hello": false,
	} {
		assert.Equal(t, want, isSlashCommand(line), line)
	}
	assert.Equal(t, []string{"/model"}, completeSlash("/mo"))
	assert.Len(t, completeSlash("/"), len(slashCommands))
}

// Text typed while the model works never answers the approval question
// that appears next: it becomes the next message.
func TestTypeAheadIsNotAnApprovalAnswer(t *testing.T) {
	slow := rt.Output(rt.ShellCall("c1", "touch greet.txt"))
	slow.Delay = 1500 * time.Millisecond
	h := newHarness(t, nil, slow, rt.Output(rt.Text("created")), rt.Output(rt.Text("fixed greet")))
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY("-a", "untrusted")
	p.waitFor("› ", 1)
	p.send("make greet\n")
	time.Sleep(200 * time.Millisecond) // the model is thinking
	p.send("fix greet please\n")
	p.waitFor("queued: fix greet please", 1) // shown as queued while the model works
	p.waitFor("run this command?", 1)
	p.send("y")
	p.waitFor("fixed greet", 1)
	p.waitFor("› ", 2)
	p.send("\x04")
	assert.Equal(t, 0, p.wait(), p.output())

	assert.Empty(t, h.file("greet.txt"), "the command was approved, not declined with the typed text")
	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, 0, *shellOutput(t, reqs[1], "c1").Outcome.ExitCode)
	assert.Equal(t, "fix greet please", reqs[2].InputText())
}

// Esc stops the running task (its command is killed); a line typed while
// a task runs is shown as queued and becomes the next message; Tab
// completes a slash command.
func TestEscQueueAndTabAtTerminal(t *testing.T) {
	arg := fmt.Sprintf("60.%d", rand.IntN(1e6))
	slow := rt.Output(rt.Text("thinking done"))
	slow.Delay = 1500 * time.Millisecond
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("c1", "sleep "+arg)),
		slow,
		rt.Output(rt.Text("got the queued one")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY()
	p.waitFor("› ", 1)
	p.send("wait a minute\n")
	pid := waitSleepPID(t, arg)
	p.send("\x1b") // Esc
	p.waitFor("task stopped", 1)
	assert.False(t, alive(pid), "sleep %d still running after Esc", pid)
	p.waitFor("› ", 2)

	// An arrow key at the prompt is not text; Tab completes /he to /help.
	p.send("\x1b[A/he\t")
	p.waitFor("/help ", 1)
	p.send("\n")
	p.waitFor("/undo", 1)
	p.waitFor("› ", 3)
	p.send("/\t") // many: listed
	p.waitFor("/approvals", 1)
	p.send("\x15slow task\n") // Ctrl-U clears the "/"
	time.Sleep(300 * time.Millisecond)
	p.send("the next one\n")
	p.waitFor("queued: the next one", 1)
	p.send("unfini") // no Enter: it starts the next prompt
	p.waitFor("got the queued one", 1)
	// Prompts: 3 above, the prompt again after the list, the queued
	// message shown as typed, and this one.
	p.waitFor("› ", 6)
	p.waitFor("› unfini", 1)
	p.send("\x15\x04") // Ctrl-U, then Ctrl-D on the empty line
	assert.Equal(t, 0, p.wait(), p.output())

	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "wait a minute", reqs[0].InputText())
	assert.Equal(t, "slow task", reqs[1].InputText()[len(reqs[1].InputText())-len("slow task"):])
	assert.Equal(t, "the next one", reqs[2].InputText())
}
