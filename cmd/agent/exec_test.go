package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func (h *harness) writeConfig(name, content string) {
	h.t.Helper()
	dir := filepath.Join(h.home, "config")
	require.NoError(h.t, os.MkdirAll(dir, 0o755))
	require.NoError(h.t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

func (h *harness) sessions() []string {
	h.t.Helper()
	ents, _ := os.ReadDir(filepath.Join(h.home, "state", "sessions"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// A script written for codex exec: the last message to a file, -c and
// --profile over config.toml, JSON events on stdout.
func TestExecLikeCodex(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("c1", "echo hi")),
		rt.Output(rt.Text("all done")),
		rt.Output(rt.Text("second")),
		rt.Output(rt.Text("third")),
	)
	h.writeConfig("config.toml", "model = \"from-config\"\n\n[profiles.fast]\nmodel = \"from-profile\"\nreasoning_effort = \"low\"\n")
	last := filepath.Join(t.TempDir(), "last.txt")
	res := h.run("exec", "--json", "--output-last-message", last, "say hi")
	require.Equal(t, 0, res.code, res.stderr)
	got, err := os.ReadFile(last)
	require.NoError(t, err)
	assert.Equal(t, "all done", string(got))
	evs := parseJSONLines(t, res.stdout)
	require.NotEmpty(t, evs)
	assert.Equal(t, "session_started", evs[0].Kind)
	assert.Equal(t, "session_ended", evs[len(evs)-1].Kind)
	reqs := h.server.Requests()
	assert.Equal(t, "from-config", reqs[0].Params.Model)
	assert.Contains(t, string(reqs[0].Body), "say hi", "exec is a subcommand, not part of the task")
	assert.NotContains(t, string(reqs[0].Body), "exec say hi")

	res = h.run("exec", "--profile", "fast", "x")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "from-profile", h.server.Requests()[2].Params.Model)
	assert.Equal(t, "low", h.server.Requests()[2].Params.Reasoning.Effort)

	res = h.run("exec", "--profile", "fast", "-c", `model="from-c"`, "-c", "reasoning_effort=high", "y")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "from-c", h.server.Requests()[3].Params.Model)
	assert.Equal(t, "high", h.server.Requests()[3].Params.Reasoning.Effort)
}

func TestExecUsageAndConfigErrors(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name   string
		config string
		args   []string
		want   string
	}{
		{"unknown flag", "", []string{"exec", "--sandbx", "read-only", "x"}, "agent: unknown flag --sandbx (did you mean --sandbox?)"},
		{"no prompt", "", []string{"exec"}, "exec: no prompt"},
		{"bad override", "", []string{"exec", "-c", "modle=x", "x"}, "-c modle=x: modle: unknown key (did you mean model?)"},
		{"unknown profile", "", []string{"exec", "--profile", "nope", "x"}, "--profile nope: no such profile"},
		{"bad config line", "model = \"m\"\n\n[profiles.a]\nsandbox = \"wide\"\n", []string{"exec", "x"}, `config.toml:4: profiles.a.sandbox: unknown value "wide"`},
		{"bad schema", "", []string{"exec", "--output-schema", "/nonexistent.json", "x"}, "--output-schema: open /nonexistent.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(h.home, "config", "config.toml"))
			if tc.config != "" {
				h.writeConfig("config.toml", tc.config)
			}
			res := h.run(tc.args...)
			assert.Equal(t, 2, res.code, res.stderr)
			assert.Contains(t, res.stderr, tc.want)
			assert.Equal(t, 1, strings.Count(res.stderr, "agent: "), res.stderr)
		})
	}
	assert.Empty(t, h.server.Requests())
	assert.Empty(t, h.sessions())
}

func TestExecGitRepoCheck(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("ok")))
	require.NoError(t, os.RemoveAll(filepath.Join(h.ws, ".git")))
	res := h.run("exec", "x")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--skip-git-repo-check")
	res = h.run("exec", "--skip-git-repo-check", "x")
	assert.Equal(t, 0, res.code, res.stderr)
}

func TestExecOutputSchema(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text(`{"answer": 42}`)), rt.Output(rt.Text(`{"answer": "many"}`)))
	schema := filepath.Join(t.TempDir(), "answer.json")
	require.NoError(t, os.WriteFile(schema, []byte(`{"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"], "additionalProperties": false}`), 0o644))
	last := filepath.Join(t.TempDir(), "last.json")
	res := h.run("exec", "--output-schema", schema, "-o", last, "how many?")
	require.Equal(t, 0, res.code, res.stderr)
	got, err := os.ReadFile(last)
	require.NoError(t, err)
	assert.Equal(t, `{"answer": 42}`, string(got))
	f := h.server.Requests()[0].Params.Text
	require.NotNil(t, f)
	require.NotNil(t, f.Format)
	assert.Equal(t, "json_schema", f.Format.Type)
	assert.Equal(t, "answer", f.Format.Name)
	assert.True(t, *f.Format.Strict)

	res = h.run("exec", "--output-schema", schema, "how many?")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "does not match --output-schema")
}

// An unreachable server: one line with the URL once, the cause and the
// attempts; no session saved, since nothing happened.
func TestUnreachableServer(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	url := "http://127.0.0.1:1/v1"
	cmd := exec.CommandContext(ctx, agentBin, "exec", "--base-url", url, "-C", h.ws, "hello")
	cmd.Env = h.env()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	assert.Equal(t, 1, ee.ExitCode())
	lines := nonEmptyLines(string(out))
	require.Len(t, lines, 1, "%s", out) // the error alone: nothing to sum up
	msg := lines[0]
	assert.Equal(t, 1, strings.Count(msg, "127.0.0.1:1"), msg)
	assert.Contains(t, msg, "connection refused")
	assert.Contains(t, msg, "after 3 attempts")
	assert.Empty(t, h.sessions(), "no session for a task that never got a response")
}

// No turn cap by default: a 100-turn task runs to its end.
func TestHundredTurns(t *testing.T) {
	var script []rt.Turn
	for i := range 99 {
		script = append(script, rt.Output(rt.ShellCall(fmt.Sprintf("c%d", i), "true")))
	}
	script = append(script, rt.Output(rt.Text("finished")))
	h := newHarness(t, nil, script...)
	res := h.run("exec", "long task")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Len(t, h.server.Requests(), 100)
}

func TestBudgetStopSaysWhichAndHow(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.ShellCall("c1", "true")),
		rt.Output(rt.ShellCall("c2", "true")),
	)
	res := h.run("exec", "--max-turns", "1", "loop")
	assert.Equal(t, 1, res.code)
	id := sessionID(t, res.stderr)
	assert.Contains(t, res.stderr, "stopped before the task was done: it reached the turn limit (--max-turns 1); continue with: agent resume "+id)
}

func TestImageInput(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("a cat")))
	png := filepath.Join(t.TempDir(), "cat.png")
	// A 1×1 PNG.
	require.NoError(t, os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"), 0o644))
	res := h.run("exec", "-i", png, "what is this?")
	require.Equal(t, 0, res.code, res.stderr)
	body := string(h.server.Requests()[0].Body)
	assert.Contains(t, body, `"type":"input_image"`)
	assert.Contains(t, body, "data:image/png;base64,")

	res = h.run("exec", "-i", "notes.txt", "x")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "not a png, jpeg, webp or gif")
}
