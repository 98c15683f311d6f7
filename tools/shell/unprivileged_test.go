package shell_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools/shell"
)

// TestSandboxAsUnprivilegedUser runs the sandbox the way most users do, as
// a user without privileges: this test binary, copied where that user can
// run it, is started as nobody (when the tests run as root; otherwise the
// whole suite already runs unprivileged).
func TestSandboxAsUnprivilegedUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the suite already runs unprivileged")
	}
	const nobody = 65534
	dir, err := os.MkdirTemp("", "agentloop-unpriv-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	exe, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(dir, "shell.test")
	copyFile(t, exe, bin, 0o755)
	root := filepath.Join(dir, "ws")
	require.NoError(t, os.Mkdir(root, 0o755))
	require.NoError(t, os.Chown(root, nobody, nobody))

	// A home of nobody's own, whose key nobody could read but for the
	// deny-read default.
	home := filepath.Join(dir, "home")
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".ssh"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(secret), 0o600))
	for _, p := range []string{home, filepath.Join(home, ".ssh"), filepath.Join(home, ".ssh", "id_ed25519")} {
		require.NoError(t, os.Chown(p, nobody, nobody))
	}

	cmd := exec.Command(bin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), probeEnv+"="+root, "TMPDIR=/tmp", "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, stderr)
	var res []shell.Result
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res, len(probeLines))

	assert.Equal(t, strconv.Itoa(nobody)+"\nhi\n", res[0].Stdout, res[0].Stderr)
	assert.True(t, res[1].SandboxDenied, "touch ../escape: %+v", res[1])
	assert.True(t, res[2].SandboxDenied, "write /tmp: %+v", res[2])
	assert.Equal(t, "CapEff:\t0000000000000000\n", res[3].Stdout, "the command has no capabilities")
	assert.NotEqual(t, 0, res[4].ExitCode, "network")
	assert.NotContains(t, res[5].Stdout, secret)
	assert.Contains(t, res[5].Stderr, "denied by the deny-read rule ~/.ssh]")
	assert.True(t, res[5].SandboxDenied)
	_, err = os.Stat(filepath.Join(dir, "escape"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
