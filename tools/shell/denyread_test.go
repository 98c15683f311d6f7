package shell_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

const secret = "PRIVATE KEY 7f3a"

// fakeHome creates a home directory with credentials in it.
func fakeHome(t *testing.T) string {
	home := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(home, ".ssh"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(secret), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".netrc"), []byte(secret), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(home, "notes.txt"), []byte("readable"), 0o600))
	return home
}

func TestDenyRead(t *testing.T) {
	for _, mode := range []shell.SandboxMode{shell.WorkspaceWrite, shell.ReadOnly} {
		t.Run(string(mode), func(t *testing.T) {
			home := fakeHome(t)
			x := sandboxed(t, mode)
			x.Env = append(os.Environ(), "HOME="+home) // DenyRead nil: the defaults under this HOME
			require.NoError(t, os.WriteFile(filepath.Join(x.Root, "main.go"), []byte("package main"), 0o644))

			for _, tc := range []struct{ name, line, rule string }{
				{"key file", "cat $HOME/.ssh/id_ed25519", "~/.ssh"},
				{"key dir listing", "ls $HOME/.ssh", "~/.ssh"},
				{"relative path", "cd $HOME && cat .ssh/id_ed25519", "~/.ssh"},
				{"file rule", "cat $HOME/.netrc", "~/.netrc"},
				{"shadow", "cat /etc/shadow", "/etc/shadow"},
				{"cannot unhide by chmod", "chmod 755 $HOME/.ssh; cat $HOME/.ssh/id_ed25519", "~/.ssh"},
				{"cannot unhide by umount", "umount $HOME/.ssh; cat $HOME/.ssh/id_ed25519", "~/.ssh"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := run(t, x, tc.line)
					assert.NotEqual(t, 0, res.ExitCode)
					assert.NotContains(t, res.Stdout+res.Stderr, secret)
					assert.Contains(t, res.Stderr, "Permission denied")
					assert.True(t, res.SandboxDenied, res.Stderr)
					if tc.rule != "" {
						assert.Contains(t, res.Stderr, "is denied by the deny-read rule "+tc.rule+"]", "the note names the rule")
					}
				})
			}
			// The rest of home, and the workspace, stay readable; the
			// workspace stays writable.
			res := run(t, x, "cat $HOME/notes.txt && cat main.go")
			assert.Equal(t, 0, res.ExitCode, res.Stderr)
			assert.Equal(t, "readablepackage main", res.Stdout)
			if mode == shell.WorkspaceWrite {
				res = run(t, x, "echo new > new.txt && cat new.txt")
				assert.Equal(t, 0, res.ExitCode, res.Stderr)
			}
			b, err := os.ReadFile(filepath.Join(home, ".ssh", "id_ed25519"))
			require.NoError(t, err)
			assert.Equal(t, secret, string(b), "the host's file is untouched")
		})
	}
}

// TestDenyReadInsideWorkspace: a listed path inside the workspace is denied;
// a listed path that holds the workspace is not, so the workspace stays
// usable.
func TestDenyReadInsideWorkspace(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	require.NoError(t, os.Mkdir(filepath.Join(x.Root, "secrets"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(x.Root, "secrets", "db.txt"), []byte(secret), 0o644))
	x.DenyRead = []string{filepath.Join(x.Root, "secrets"), filepath.Dir(x.Root)}

	res := run(t, x, "cat secrets/db.txt")
	assert.NotEqual(t, 0, res.ExitCode)
	assert.NotContains(t, res.Stdout, secret)
	assert.Contains(t, res.Stderr, "deny-read rule "+filepath.Join(x.Root, "secrets"))
	res = run(t, x, "rm -rf secrets")
	assert.NotEqual(t, 0, res.ExitCode, "a hidden path cannot be removed either")

	res = run(t, x, "echo ok > f && cat f && ls")
	assert.Equal(t, 0, res.ExitCode, res.Stderr)
	assert.Equal(t, "ok\nf\nsecrets\n", res.Stdout)
}

func TestDenyReadOutcome(t *testing.T) {
	home := fakeHome(t)
	x := sandboxed(t, shell.WorkspaceWrite)
	x.Env = append(os.Environ(), "HOME="+home)
	x.DenyRead = shell.DefaultDenyRead(home, "")
	tool := &shell.Tool{Executor: x}
	_, err := tool.Call(t.Context(), callOf(t, `{"type":"shell_call","call_id":"c","action":{"commands":["cat ~/.ssh/id_ed25519"]}}`))
	assert.Equal(t, tools.OutcomeSandboxDenied, tools.OutcomeOf(err), "%v", err)
}

func TestDenyReadConfig(t *testing.T) {
	assert.Equal(t, []string{
		"/h/.ssh", "/h/.gnupg", "/h/.aws", "/h/.config/gcloud", "/h/.azure", "/h/.kube",
		"/h/.docker/config.json", "/h/.netrc", "/h/.git-credentials",
		"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/h/.local/state/agent",
	}, shell.DefaultDenyRead("/h", "/h/.local/state/agent/"))

	x := sandboxed(t, shell.WorkspaceWrite)
	x.DenyRead = []string{"relative/path"}
	_, err := x.Run(t.Context(), shell.Command{Line: "true"})
	assert.ErrorContains(t, err, `deny-read path "relative/path" is not absolute`)

	// Unsandboxed, nothing is denied.
	home := fakeHome(t)
	y := fullAccess(t)
	y.Env = append(os.Environ(), "HOME="+home)
	res := run(t, y, "cat $HOME/.ssh/id_ed25519")
	assert.Equal(t, secret, res.Stdout)
}

func TestMatchDenyRead(t *testing.T) {
	for _, tc := range []struct {
		path, rule string
		denied     bool
	}{
		{"/h/.ssh/id_ed25519", "~/.ssh", true},
		{"/h/.ssh", "~/.ssh", true},
		{"/h/.sshx", "", false},
		{"/etc/shadow", "/etc/shadow", true},
		{"/h/project/main.go", "", false},
	} {
		rule, denied, err := shell.MatchDenyRead(nil, "/h", tc.path)
		require.NoError(t, err)
		assert.Equal(t, tc.denied, denied, tc.path)
		assert.Equal(t, tc.rule, rule, tc.path)
	}
	_, denied, err := shell.MatchDenyRead([]string{"~/secret"}, "/h", "/h/secret/x")
	require.NoError(t, err)
	assert.True(t, denied)
	_, _, err = shell.MatchDenyRead([]string{"rel"}, "/h", "/x")
	assert.Error(t, err)
}
