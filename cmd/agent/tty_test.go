package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// ptyRun is the binary running on a pseudo-terminal.
type ptyRun struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	read chan struct{} // closed when the terminal's output ends
}

func (h *harness) startPTY(args ...string) *ptyRun {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), time.Minute)
	h.t.Cleanup(cancel)
	cmd := h.command(ctx, args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	require.NoError(h.t, err)
	p := &ptyRun{t: h.t, cmd: cmd, tty: tty, read: make(chan struct{})}
	go func() {
		defer close(p.read)
		b := make([]byte, 4096)
		for {
			n, err := tty.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	h.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tty.Close()
		<-p.read
	})
	return p
}

func (p *ptyRun) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.buf.String()
}

// waitFor waits until the output holds n occurrences of s.
func (p *ptyRun) waitFor(s string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(p.output(), s) < n {
		if time.Now().After(deadline) {
			require.FailNow(p.t, "timed out", "waiting for %d× %q in:\n%s", n, s, p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitPrompt waits until the chat prompt is the last thing on the screen
// (with NO_COLOR).
func (p *ptyRun) waitPrompt() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.HasSuffix(p.output(), "\n› ") {
		if time.Now().After(deadline) {
			require.FailNow(p.t, "timed out", "waiting for the prompt in:\n%s", p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *ptyRun) send(s string) {
	p.t.Helper()
	_, err := p.tty.WriteString(s)
	require.NoError(p.t, err)
}

// wait waits for the process to exit and returns its status.
func (p *ptyRun) wait() int {
	p.t.Helper()
	err := p.cmd.Wait()
	select { // the rest of the output
	case <-p.read:
	case <-time.After(5 * time.Second):
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(p.t, err, p.output())
	return 0
}

func TestApprovalsAtTerminal(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("c_yes", "touch yes.txt")),
		rt.Output(rt.ShellCall("c_no", "touch no.txt")),
		rt.Output(rt.ShellCall("c_always", "touch always1.txt")),
		rt.Output(rt.ShellCall("c_remembered", "touch always2.txt")),
		rt.Output(rt.ShellCall("c_reason", "mkdir reason")),
		rt.Output(rt.ApplyPatchCall("c_patch", "create_file", "patched.txt", "+new line\n")),
		rt.Output(rt.Text("All done.")),
		// Resumed later, without a terminal.
		rt.Output(rt.ShellCall("c_resumed", "touch always3.txt")),
		rt.Output(rt.Text("Again.")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY("-a", "untrusted", "make some files")

	p.waitFor("run this command?", 1)
	assert.Contains(t, p.output(), "$ touch yes.txt")
	assert.Contains(t, p.output(), "in "+h.ws+" · sandbox workspace-write")
	p.send("y") // one key answers
	p.waitFor("run this command?", 2)
	p.send("n")
	p.waitFor("run this command?", 3)
	p.send("a")
	p.waitFor("run this command?", 4) // touch always2.txt is not asked
	assert.Contains(t, p.output(), "$ mkdir reason")
	p.send("x\r") // not an answer
	p.send("e")   // decline and explain
	p.waitFor("why? ", 1)
	p.send("not now: write to a temp dir\n")
	p.waitFor("apply this patch?", 1)
	assert.Contains(t, p.output(), "+++ b/patched.txt")
	p.send("y")
	require.Equal(t, 0, p.wait(), p.output())

	out := p.output()
	assert.Equal(t, 4, strings.Count(out, "run this command?"), out)
	assert.Contains(t, out, "approved (always): command touch always2.txt")
	assert.Contains(t, out, "All done.")

	assert.Empty(t, h.file("yes.txt"))
	assert.Contains(t, h.file("no.txt"), "no such file")
	assert.Empty(t, h.file("always1.txt"))
	assert.Empty(t, h.file("always2.txt"))
	assert.NoDirExists(t, filepath.Join(h.ws, "reason"))
	assert.Equal(t, "new line\n", h.file("patched.txt"))

	reqs := h.server.Requests()
	require.Len(t, reqs, 7)
	assert.Equal(t, 0, *shellOutput(t, reqs[1], "c_yes").Outcome.ExitCode)
	no := shellOutput(t, reqs[2], "c_no")
	assert.Equal(t, "The user declined this call", no.Stderr)
	assert.Equal(t, 0, *shellOutput(t, reqs[3], "c_always").Outcome.ExitCode)
	assert.Equal(t, 0, *shellOutput(t, reqs[4], "c_remembered").Outcome.ExitCode)
	reason := shellOutput(t, reqs[5], "c_reason")
	assert.Equal(t, "The call was declined: the user said: not now: write to a temp dir", reason.Stderr)
	patch, ok := reqs[6].Output("c_patch")
	require.True(t, ok)
	assert.Contains(t, string(patch.Raw()), `"status":"completed"`)

	// "Always" is saved with the session: resumed without a terminal, the
	// same command prefix runs instead of being declined.
	res := h.run("-a", "untrusted", "resume", "more")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Empty(t, h.file("always3.txt"))
	reqs = h.server.Requests()
	require.Len(t, reqs, 9)
	assert.Equal(t, 0, *shellOutput(t, reqs[8], "c_resumed").Outcome.ExitCode)
}

// sleepPID finds the process running "sleep arg".
func sleepPID(arg string) int {
	ents, _ := os.ReadDir("/proc")
	want := "sleep\x00" + arg + "\x00"
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == want {
			return pid
		}
	}
	return 0
}

func waitSleepPID(t *testing.T, arg string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pid := sleepPID(arg); pid != 0 {
			return pid
		}
		require.True(t, time.Now().Before(deadline), "sleep %s never started", arg)
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	// A zombie is dead too.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func TestInterruptOneShot(t *testing.T) {
	arg := fmt.Sprintf("60.%d", rand.IntN(1e6))
	h := newHarness(t, nil, rt.Output(rt.ShellCall("c1", "sleep "+arg)))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := h.command(ctx, "wait a minute")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	pid := waitSleepPID(t, arg)

	start := time.Now()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	took := time.Since(start)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, stderr.String())
	assert.Equal(t, 130, ee.ExitCode(), stderr.String())
	assert.Less(t, took, time.Second, "exit after Ctrl-C")
	assert.False(t, alive(pid), "sleep %d still running", pid)
	assert.Contains(t, stderr.String(), "interrupted")
	assert.Contains(t, stderr.String(), "✗ canceled")
}

func TestChatKeepsChainAndSurvivesCtrlC(t *testing.T) {
	arg := fmt.Sprintf("60.%d", rand.IntN(1e6))
	h := newHarness(t, nil,
		rt.Output(rt.Text("one")),
		rt.Output(rt.ShellCall("c1", "sleep "+arg)),
		rt.Output(rt.Text("three")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY()
	p.waitFor("› ", 1)
	p.send("first\n")
	p.waitFor("one", 1)
	p.waitFor("› ", 2)
	p.send("second\n")
	pid := waitSleepPID(t, arg)
	p.send("\x03") // Ctrl-C: the terminal sends SIGINT
	p.waitFor("task stopped", 1)
	p.waitFor("› ", 3)
	assert.False(t, alive(pid), "sleep %d still running", pid)
	p.send("third\n")
	p.waitFor("three", 1)
	p.waitFor("› ", 4)
	p.send("\x04") // Ctrl-D
	assert.Equal(t, 0, p.wait(), p.output())

	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[0].ResponseID, reqs[1].Params.PreviousResponseID)
	// The third task continues from the interrupted one, answering its
	// canceled command first.
	assert.Equal(t, reqs[1].ResponseID, reqs[2].Params.PreviousResponseID)
	assert.Equal(t, []string{"shell_call_output", "message"}, reqs[2].InputTypes())
	assert.Equal(t, "third", reqs[2].InputText())
	assert.Regexp(t, `session \S+ · continue with: agent resume`, p.output())
}

func TestChatCtrlCTwiceAtPromptQuits(t *testing.T) {
	h := newHarness(t, nil)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY()
	p.waitFor("› ", 1)
	p.send("\x03")
	p.waitFor("Ctrl-C again", 1)
	p.send("\x03")
	assert.Equal(t, 130, p.wait(), p.output())
	assert.NotContains(t, p.output(), "agent resume", "a chat without a task saves no session")
	assert.Empty(t, h.server.Requests())
}

// With the prompt on stdin (a pipe), approvals are asked on the
// controlling terminal.
func TestPromptFromStdinAsksOnTerminal(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("c1", "touch asked.txt")),
		rt.Output(rt.Text("ok")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := h.command(ctx, "-a", "untrusted", "-")
	cmd.Stdin = strings.NewReader("make a file\n")
	cmd.Stdout, cmd.Stderr = tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	require.NoError(t, cmd.Start())
	tty.Close()
	p := &ptyRun{t: t, cmd: cmd, tty: ptmx, read: make(chan struct{})}
	go func() {
		defer close(p.read)
		b := make([]byte, 4096)
		for {
			n, err := ptmx.Read(b)
			p.mu.Lock()
			p.buf.Write(b[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	p.waitFor("run this command?", 1)
	p.send("y\n")
	require.Equal(t, 0, p.wait(), p.output())
	assert.Empty(t, h.file("asked.txt"))
	assert.Equal(t, "make a file", h.server.Requests()[0].InputText())
}

func TestSpinnerAndColoursOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		colours bool
	}{
		{"colours", []string{"TERM=xterm-256color"}, true},
		{"NO_COLOR", []string{"TERM=xterm-256color", "NO_COLOR=1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil,
				rt.Output(rt.ShellCall("c1", "sleep 0.4; echo done")),
				rt.Reply{Output: []responses.Item{rt.Text("finished")}, Delay: 400 * time.Millisecond},
			)
			h.extraEnv = tc.env
			p := h.startPTY("hello")
			require.Equal(t, 0, p.wait(), p.output())
			out := p.output()
			assert.Contains(t, out, "running shell")
			assert.Contains(t, out, "thinking")
			assert.Contains(t, out, "\r\x1b[K", "the spinner line is cleared")
			assert.Regexp(t, `\d\.\ds`, out, "elapsed time")
			assert.Equal(t, tc.colours, strings.Contains(out, "\x1b[32m✓"), out)
		})
	}
}

func TestMCPApprovalAtTerminal(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.FunctionCall("c1", "calc__add", `{"a":1,"b":2}`)),
		rt.Output(rt.FunctionCall("c2", "calc__add", `{"a":3,"b":4}`)),
		rt.Output(rt.Text("3 and 7")),
	)
	writeMCPConfig(t, filepath.Join(h.ws, ".mcp.json"), "ask")
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY("--trust-workspace", "add") // not asked about trust: the flag gives it
	p.waitFor("call MCP tool calc__add?", 1)
	assert.Contains(t, p.output(), `"a": 1`)
	assert.Contains(t, p.output(), "a always calc/add")
	p.send("a\n")
	require.Equal(t, 0, p.wait(), p.output())
	assert.Equal(t, 1, strings.Count(p.output(), "call MCP tool"), "the second call is remembered")
	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	for i, id := range []string{"c1", "c2"} {
		out, ok := reqs[i+1].Output(id)
		require.True(t, ok)
		assert.Contains(t, string(out.Raw()), []string{`"3"`, `"7"`}[i])
	}
}

// Text that streams while a question is on screen waits for the answer.
func TestOutputHeldDuringQuestion(t *testing.T) {
	h := newHarness(t, nil,
		rt.Reply{Output: []responses.Item{rt.ShellCall("c1", "touch f.txt"), rt.Text("Text after the call.")}, EventDelay: 20 * time.Millisecond},
		rt.Output(rt.Text("Done.")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY("-a", "untrusted", "go")
	p.waitFor("run this command?", 1)
	time.Sleep(500 * time.Millisecond) // the rest of the response arrives meanwhile
	assert.NotContains(t, p.output(), "Text after the call.")
	p.send("y\n")
	require.Equal(t, 0, p.wait(), p.output())
	out := p.output()
	q, text := strings.Index(out, "explain why yes"), strings.Index(out, "Text after the call.")
	require.Positive(t, q, out)
	assert.Greater(t, text, q, out)
}
