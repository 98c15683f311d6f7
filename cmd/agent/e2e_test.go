package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools/shell"
)

// agentBin is the command under test, built once by TestMain.
var agentBin string

func TestMain(m *testing.M) {
	shell.RunSandboxHelperIfRequested()
	if os.Getenv(fakeMCPEnv) != "" {
		serveFakeMCP(os.Stdin, os.Stdout)
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "agent-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBin = filepath.Join(dir, "agent")
	args := []string{"build", "-o", agentBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the agent: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// harness is a workspace (a git repository) and private config and state
// directories for runs of the binary.
type harness struct {
	t         *testing.T
	ws, home  string
	extraEnv  []string
	server    *rt.Server
	lastStdin []byte
}

func newHarness(t *testing.T, files map[string]string, script ...rt.Turn) *harness {
	t.Helper()
	h := &harness{t: t, ws: t.TempDir(), home: t.TempDir()}
	git := exec.Command("git", "init", "-q", h.ws)
	out, err := git.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for name, content := range files {
		p := filepath.Join(h.ws, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	h.server = rt.New(t, script...)
	return h
}

func (h *harness) env() []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.home,
		"OPENAI_API_KEY=test-key",
		"AGENTLOOP_CONFIG_DIR=" + filepath.Join(h.home, "config"),
		"AGENTLOOP_STATE_DIR=" + filepath.Join(h.home, "state"),
		"TERM=dumb",
	}, h.extraEnv...)
}

// command returns the binary's command with the server's URL and the
// workspace.
func (h *harness) command(ctx context.Context, args ...string) *exec.Cmd {
	all := append([]string{"--base-url", h.server.URL, "-C", h.ws}, args...)
	cmd := exec.CommandContext(ctx, agentBin, all...)
	cmd.Env = h.env()
	cmd.Dir = h.ws
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

type outcome struct {
	code           int
	stdout, stderr string
}

// run runs the binary to the end (at most a minute) with stdin from
// /dev/null.
func (h *harness) run(args ...string) outcome {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), time.Minute)
	defer cancel()
	cmd := h.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if h.lastStdin != nil {
		cmd.Stdin = bytes.NewReader(h.lastStdin)
	}
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(h.t, ok, "run the agent: %v\nstderr:\n%s", err, stderr.String())
		code = ee.ExitCode()
	}
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (h *harness) file(name string) string {
	b, err := os.ReadFile(filepath.Join(h.ws, name))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// shellStdout returns the stdout of the first command of a shell call's
// output in request n (1-based).
func shellOutput(t *testing.T, req rt.Request, callID string) responses.ShellCommandOutput {
	t.Helper()
	it, ok := req.Output(callID)
	require.True(t, ok, "request %d has no output for %s", req.N, callID)
	var so responses.ShellCallOutput
	require.NoError(t, it.Decode(&so))
	require.NotEmpty(t, so.Output, "output of %s", callID)
	return so.Output[0]
}

var sessionLine = regexp.MustCompile(`session ([0-9]{8}T[0-9]{6}-[0-9a-f]{6})`)

func sessionID(t *testing.T, stderr string) string {
	t.Helper()
	m := sessionLine.FindStringSubmatch(stderr)
	require.NotNil(t, m, "no session id in stderr:\n%s", stderr)
	return m[1]
}

func TestOneShotShellAndPatch(t *testing.T) {
	h := newHarness(t, map[string]string{"hello.txt": "hello\nworld\n"},
		rt.Output(rt.ShellCall("call_1", "cat hello.txt")),
		rt.Output(rt.ApplyPatchCall("call_2", "update_file", "hello.txt", "@@\n hello\n-world\n+there\n+friend\n")),
		rt.Output(rt.ApplyPatchCall("call_3", "create_file", "notes/new.md", "+# New\n+text\n")),
		rt.Output(rt.Text("Done: hello.txt now greets a friend.")),
	)
	res := h.run("greet a friend")
	require.Equal(t, 0, res.code, "stderr:\n%s", res.stderr)

	assert.Equal(t, "hello\nthere\nfriend\n", h.file("hello.txt"))
	assert.Equal(t, "# New\ntext\n", h.file("notes/new.md"))
	assert.Equal(t, "Done: hello.txt now greets a friend.\n", res.stdout)

	reqs := h.server.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "greet a friend", reqs[0].InputText())
	assert.Contains(t, reqs[0].Params.Instructions, "coding agent")
	out := shellOutput(t, reqs[1], "call_1")
	assert.Equal(t, "hello\nworld\n", out.Stdout)
	require.NotNil(t, out.Outcome.ExitCode)
	assert.Equal(t, 0, *out.Outcome.ExitCode)
	for i, id := range []string{"call_2", "call_3"} {
		it, ok := reqs[2+i].Output(id)
		require.True(t, ok)
		var po responses.ApplyPatchCallOutput
		require.NoError(t, it.Decode(&po))
		assert.Equal(t, "completed", po.Status, po.Output)
	}
	for i := 1; i < 4; i++ {
		assert.Equal(t, reqs[i-1].ResponseID, reqs[i].Params.PreviousResponseID, "request %d chains", i+1)
	}

	assert.Contains(t, res.stderr, "$ cat hello.txt")
	assert.Regexp(t, `✓ exit 0 · \d+ms`, res.stderr)
	assert.Contains(t, res.stderr, "patched hello.txt +2 −1")
	assert.Contains(t, res.stderr, "added notes/new.md +2 −0")
	assert.Regexp(t, `4 turns · tokens \d+ in \(\d+ cached\), \d+ out \(0 reasoning\) · 3 tools · `, res.stderr)
	sessionID(t, res.stderr)
	assert.NotContains(t, res.stderr, "\x1b[", "no colours without a terminal")
}

func TestUsageErrors(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"bad flag", []string{"--frobnicate", "x"}, nil, "unknown flag --frobnicate"},
		{"bad sandbox", []string{"--sandbox", "loose", "x"}, nil, `--sandbox: unknown value "loose" (choose read-only, workspace-write, danger-full-access)`},
		{"bad approval", []string{"-a", "sometimes", "x"}, nil, "--ask-for-approval: unknown value"},
		{"no prompt", nil, nil, "no prompt"},
		{"missing key", []string{"x"}, []string{"OPENAI_API_KEY="}, "no API key: set OPENAI_API_KEY (or SGP_API_KEY and SGP_ACCOUNT_ID for the Scale GenAI Platform)"},
		{"missing sgp key", []string{"--provider", "sgp", "x"}, nil, "set SGP_API_KEY"},
		{"bad dir", []string{"-C", "/nonexistent/dir", "x"}, nil, "not a directory"},
		{"resume nothing", []string{"resume", "x"}, nil, "no saved sessions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.extraEnv = tc.env
			res := h.run(tc.args...)
			assert.Equal(t, 2, res.code)
			assert.Contains(t, res.stderr, tc.want)
			assert.Empty(t, res.stdout)
		})
	}
	assert.Empty(t, h.server.Requests(), "usage errors send nothing")
}

func TestHelpAndVersion(t *testing.T) {
	h := newHarness(t, nil)
	res := h.run("--help")
	assert.Equal(t, 0, res.code)
	for _, want := range []string{"agent resume [ID] [PROMPT]", "--ask-for-approval", "untrusted", "OPENAI_API_KEY", "Exit status"} {
		assert.Contains(t, res.stdout, want)
	}
	assert.NotContains(t, res.stdout, "//")
	exec := h.run("exec", "--help")
	assert.Equal(t, 0, exec.code)
	assert.Equal(t, res.stdout, exec.stdout, "agent exec --help shows the same help, with the exec flags")
	res = h.run("--version")
	assert.Equal(t, 0, res.code)
	assert.Regexp(t, `^agent \S+ \(agentloop, event schema v1\)\n$`, res.stdout)
}

func TestPromptFromStdin(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("hi")))
	h.lastStdin = []byte("  say hi\n")
	res := h.run("-")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "hi\n", res.stdout)
	assert.Equal(t, "say hi", h.server.Requests()[0].InputText())
}

func TestNoTerminalNeverBlocks(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("call_1", "touch made.txt")),
		rt.Output(rt.Text("I could not.")),
	)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := h.command(ctx, "-a", "untrusted", "make a file")
	// A stdin that never ends: reading it would block forever.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pw.Close()
	defer pr.Close()
	cmd.Stdin = pr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())

	assert.Equal(t, "<open "+filepath.Join(h.ws, "made.txt")+": no such file or directory>", h.file("made.txt"))
	out := shellOutput(t, h.server.Requests()[1], "call_1")
	assert.Contains(t, out.Stderr, "not at a terminal")
	assert.Contains(t, stderr.String(), "no terminal to ask")
	assert.Contains(t, stderr.String(), "✗ declined")
}

func TestResumeChains(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.Text("first answer")),
		rt.Output(rt.Text("second answer")),
		rt.Output(rt.Text("third answer")),
	)
	first := h.run("first")
	require.Equal(t, 0, first.code, first.stderr)
	id := sessionID(t, first.stderr)

	second := h.run("resume", id, "second")
	require.Equal(t, 0, second.code, second.stderr)
	assert.Equal(t, "second answer\n", second.stdout)
	assert.Equal(t, id, sessionID(t, second.stderr), "same session")

	third := h.run("resume", "third") // the latest session
	require.Equal(t, 0, third.code, third.stderr)

	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Empty(t, reqs[0].Params.PreviousResponseID)
	assert.Equal(t, reqs[0].ResponseID, reqs[1].Params.PreviousResponseID)
	assert.Equal(t, "second", reqs[1].InputText())
	assert.Equal(t, reqs[1].ResponseID, reqs[2].Params.PreviousResponseID)
	assert.Equal(t, "third", reqs[2].InputText())
}

func TestResumeStatelessReplays(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("call_1", "echo one")),
		rt.Output(rt.Text("first answer")),
		rt.Output(rt.Text("second answer")),
	)
	first := h.run("--stateless", "first")
	require.Equal(t, 0, first.code, first.stderr)
	second := h.run("resume", sessionID(t, first.stderr), "second")
	require.Equal(t, 0, second.code, second.stderr)

	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	last := reqs[2]
	assert.Empty(t, last.Params.PreviousResponseID)
	require.NotNil(t, last.Params.Store)
	assert.False(t, *last.Params.Store)
	assert.Equal(t, []string{"message", "shell_call", "shell_call_output", "message", "message"}, last.InputTypes())
	assert.Equal(t, "first"+"first answer"+"second", last.InputText())
}

// jsonEvent is the documented --json schema (README.md); decoding
// rejects unknown fields, so the test fails when the output drifts from it.
type jsonEvent struct {
	V        int             `json:"v"`
	Kind     string          `json:"kind"`
	Turn     int             `json:"turn"`
	Time     time.Time       `json:"time"`
	Delta    string          `json:"delta"`
	Item     json.RawMessage `json:"item"`
	Server   json.RawMessage `json:"server"`
	Hosted   json.RawMessage `json:"hosted"`
	Approval *struct {
		Request    map[string]any  `json:"request"`
		Decision   json.RawMessage `json:"decision"`
		Remembered bool            `json:"remembered"`
	} `json:"approval"`
	Tool *struct {
		CallID     string          `json:"call_id"`
		Type       string          `json:"type"`
		Name       string          `json:"name"`
		Call       json.RawMessage `json:"call"`
		Outcome    string          `json:"outcome"`
		Error      string          `json:"error"`
		DurationNS int64           `json:"duration_ns"`
		Output     json.RawMessage `json:"output"`
		Progress   json.RawMessage `json:"progress"`
	} `json:"tool"`
	Usage    *responses.Usage `json:"usage"`
	Response *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"response"`
	Result *struct {
		Agent      string                     `json:"agent"`
		Text       string                     `json:"text"`
		Items      []json.RawMessage          `json:"items"`
		ResponseID string                     `json:"response_id"`
		Transcript []json.RawMessage          `json:"transcript"`
		Usage      responses.Usage            `json:"usage"`
		ByModel    map[string]responses.Usage `json:"usage_by_model"`
		Turns      int                        `json:"turns"`
		ToolCalls  int                        `json:"tool_calls"`
		StopReason string                     `json:"stop_reason"`
		Pending    json.RawMessage            `json:"pending"`
		State      json.RawMessage            `json:"state"`
	} `json:"result"`
	Error   string `json:"error"`
	Session *struct {
		ID        string `json:"id"`
		Model     string `json:"model"`
		Dir       string `json:"dir"`
		Resumed   bool   `json:"resumed"`
		Stateless bool   `json:"stateless"`
		ExitCode  *int   `json:"exit_code"`
	} `json:"session"`
}

func parseJSONLines(t *testing.T, stdout string) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var ev jsonEvent
		require.NoError(t, dec.Decode(&ev), "line %d: %s", n, sc.Text())
		require.Equal(t, 1, ev.V, "line %d", n)
		require.NotEmpty(t, ev.Kind, "line %d", n)
		require.False(t, ev.Time.IsZero(), "line %d", n)
		evs = append(evs, ev)
	}
	return evs
}

func TestJSONOutput(t *testing.T) {
	h := newHarness(t, map[string]string{"a.txt": "a\n"},
		rt.Output(rt.ShellCall("call_ok", "cat a.txt")),
		rt.Output(rt.ShellCall("call_blocked", "echo x > blocked.txt")),
		rt.Output(rt.ApplyPatchCall("call_patch", "update_file", "a.txt", "@@\n-a\n+b\n")),
		rt.Output(rt.Text("finished")),
	)
	// read-only sandbox: the write is blocked by the sandbox, and the patch
	// needs a person, whom "never" does not ask.
	res := h.run("--json", "--sandbox", "read-only", "-a", "never", "go")
	require.Equal(t, 0, res.code, res.stderr)
	evs := parseJSONLines(t, res.stdout)
	require.NotEmpty(t, evs)

	assert.Equal(t, "session_started", evs[0].Kind)
	end := evs[len(evs)-1]
	assert.Equal(t, "session_ended", end.Kind)
	require.NotNil(t, end.Session)
	require.NotNil(t, end.Session.ExitCode)
	assert.Equal(t, 0, *end.Session.ExitCode)
	assert.Equal(t, evs[0].Session.ID, end.Session.ID)

	finished := map[string]string{}
	var kinds []string
	var text strings.Builder
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == "tool_finished" {
			require.NotNil(t, ev.Tool)
			finished[ev.Tool.CallID] = ev.Tool.Outcome
			assert.NotEmpty(t, ev.Tool.Output, "every finished call carries its output")
		}
		if ev.Kind == "text_delta" {
			text.WriteString(ev.Delta)
		}
	}
	assert.Equal(t, map[string]string{"call_ok": "ok", "call_blocked": "sandbox_denied", "call_patch": "denied"}, finished)
	assert.Contains(t, res.stderr, "✗ blocked by sandbox · exit ")
	assert.Equal(t, "finished", text.String())
	assert.Contains(t, kinds, "turn_started")
	assert.Contains(t, kinds, "turn_completed")
	assert.Contains(t, kinds, "approval_requested")
	rc := evs[len(evs)-2]
	require.Equal(t, "run_completed", rc.Kind)
	require.NotNil(t, rc.Result)
	assert.Equal(t, "finished", rc.Result.Text)
	assert.Equal(t, 4, rc.Result.Turns)
	assert.Equal(t, map[string]responses.Usage{"gpt-5-codex": rc.Result.Usage}, rc.Result.ByModel)
	assert.Equal(t, "a\n", h.file("a.txt"), "the declined patch changed nothing")
	assert.Contains(t, h.file("blocked.txt"), "no such file")

	blocked := shellOutput(t, h.server.Requests()[2], "call_blocked")
	assert.NotEqual(t, 0, *blocked.Outcome.ExitCode)
}

func TestReasoningEffort(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Reasoning("Reading the question.", ""), rt.Text("hi")))
	res := h.run("--reasoning-effort", "low", "hello")
	require.Equal(t, 0, res.code, res.stderr)
	r := h.server.Requests()[0].Params.Reasoning
	require.NotNil(t, r)
	assert.Equal(t, responses.Reasoning{Effort: "low", Summary: "auto"}, *r)
	assert.Contains(t, res.stderr, "· Reading the question.")
	assert.Equal(t, "hi\n", res.stdout)
}

func TestConfigDefaultsAndFlagsWin(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("a")), rt.Output(rt.Text("b")))
	cfgDir := filepath.Join(h.home, "config")
	require.NoError(t, os.MkdirAll(cfgDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"model": "from-config", "reasoning_effort": "high"}`), 0o644))
	res := h.run("x")
	require.Equal(t, 0, res.code, res.stderr)
	res = h.run("-m", "from-flag", "--reasoning-effort", "minimal", "y")
	require.Equal(t, 0, res.code, res.stderr)
	reqs := h.server.Requests()
	assert.Equal(t, "from-config", reqs[0].Params.Model)
	assert.Equal(t, "high", reqs[0].Params.Reasoning.Effort)
	assert.Equal(t, "from-flag", reqs[1].Params.Model)
	assert.Equal(t, "minimal", reqs[1].Params.Reasoning.Effort)

	require.NoError(t, os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"sandbox": "closed"}`), 0o644))
	res = h.run("z")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, `config.json: sandbox: unknown value "closed"`)
}

func TestSGPProvider(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("hi")))
	h.extraEnv = []string{"OPENAI_API_KEY=", "SGP_API_KEY=sgp-key", "SGP_ACCOUNT_ID=acct-1"}
	res := h.run("-m", "openai/gpt-5", "hello")
	require.Equal(t, 0, res.code, res.stderr)
	req := h.server.Requests()[0]
	assert.Equal(t, "/v5/responses", req.Path)
	assert.Equal(t, "sgp-key", req.Header.Get("x-api-key"))
	assert.Equal(t, "acct-1", req.Header.Get("x-selected-account-id"))
	assert.Empty(t, req.Header.Get("Authorization"))
	assert.Equal(t, "openai/gpt-5", req.Params.Model)
}

func TestRunFailures(t *testing.T) {
	t.Run("api error", func(t *testing.T) {
		h := newHarness(t, nil, rt.Reply{Faults: []rt.Fault{rt.Unauthorized()}})
		res := h.run("hello")
		assert.Equal(t, 1, res.code)
		assert.Contains(t, res.stderr, "agent: ")
		assert.Contains(t, res.stderr, "401")
		assert.NotContains(t, res.stderr, "agent resume", "a task that never got a response saves no session")
	})
	t.Run("max turns", func(t *testing.T) {
		h := newHarness(t, nil,
			rt.Output(rt.ShellCall("c1", "echo 1")),
			rt.Output(rt.ShellCall("c2", "echo 2")),
		)
		res := h.run("--max-turns", "1", "loop")
		assert.Equal(t, 1, res.code)
		assert.Contains(t, res.stderr, "it reached the turn limit (--max-turns 1)")
	})
}

// An interrupted task leaves outputs the server has not seen (the canceled
// command's); the next task sends them with its prompt: chained to the
// interrupted task's response, or after the replayed transcript in
// stateless mode.
func TestResumeAfterInterruptSendsUnsentOutputs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flags     []string
		wantTypes []string
	}{
		{"chained", nil, []string{"shell_call_output", "message"}},
		{"stateless", []string{"--stateless"}, []string{"message", "shell_call", "shell_call_output", "shell_call", "shell_call_output", "message"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arg := fmt.Sprintf("60.%d", rand.IntN(1e6))
			h := newHarness(t, nil,
				rt.Output(rt.ShellCall("c1", "echo one")),
				rt.Output(rt.ShellCall("c2", "sleep "+arg)),
				rt.Output(rt.Text("resumed")),
			)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := h.command(ctx, append(tc.flags, "start")...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			waitSleepPID(t, arg)
			require.NoError(t, cmd.Process.Signal(os.Interrupt))
			require.Error(t, cmd.Wait())
			require.Equal(t, 130, cmd.ProcessState.ExitCode(), stderr.String())

			res := h.run("resume", "go on")
			require.Equal(t, 0, res.code, res.stderr)
			assert.Equal(t, "resumed\n", res.stdout)
			reqs := h.server.Requests()
			require.Len(t, reqs, 3)
			last := reqs[2]
			assert.Equal(t, 200, last.StatusCode)
			assert.Equal(t, tc.wantTypes, last.InputTypes())
			// The interrupted command is answered as canceled, so the
			// model knows it did not finish.
			assert.Contains(t, shellOutput(t, last, "c2").Stderr, "Canceled")
			if tc.flags == nil {
				assert.Equal(t, reqs[1].ResponseID, last.Params.PreviousResponseID)
			} else {
				assert.Equal(t, "one\n", shellOutput(t, last, "c1").Stdout)
				assert.Empty(t, last.Params.PreviousResponseID)
				assert.Equal(t, "start"+"go on", last.InputText())
			}
		})
	}
}

// A stream that breaks before any item is complete is retried by the
// client; the user is told the answer starts again, and the final answer is
// whole.
func TestStreamRestartIsAnnounced(t *testing.T) {
	h := newHarness(t, nil, rt.Reply{
		Output: []responses.Item{rt.Text("all good here")},
		Faults: []rt.Fault{rt.CutAfterEvents(6)},
	})
	res := h.run("hello")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stderr, "starts again")
	assert.True(t, strings.HasSuffix(res.stdout, "all good here\n"), res.stdout)
	assert.Len(t, h.server.Requests(), 2)
}
