package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// runInProcess calls run as main does, without a terminal or signals.
func runInProcess(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), &env{
		args:      args,
		stdin:     strings.NewReader(""),
		stdout:    &stdout,
		stderr:    &stderr,
		getenv:    func(k string) string { return environ[k] },
		lookupEnv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
		environ:   func() []string { return nil },
		exit:      func(int) { t.Fatal("exit called") },
	})
	return code, stdout.String(), stderr.String()
}

func TestRunInProcess(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// Idle keep-alive connections of the HTTP client and server.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
	home, ws := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(ws, "a.txt"), []byte("x\n"), 0o644))
	s := rt.NewServer(
		rt.Output(rt.ShellCall("c1", "cat a.txt")),
		rt.Output(rt.Text("it says x")),
	)
	defer s.Close()
	environ := map[string]string{
		"OPENAI_API_KEY":       "k",
		"AGENTLOOP_CONFIG_DIR": filepath.Join(home, "config"),
		"AGENTLOOP_STATE_DIR":  filepath.Join(home, "state"),
	}

	code, stdout, _ := runInProcess(t, environ, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "Usage:")

	code, _, stderr := runInProcess(t, environ, "--bogus")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "unknown flag --bogus")

	code, stdout, stderr = runInProcess(t, environ, "--base-url", s.URL, "-C", ws, "what does a.txt say?")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "it says x\n", stdout)
	assert.Contains(t, stderr, "$ cat a.txt")
	require.NoError(t, s.Err())
}
