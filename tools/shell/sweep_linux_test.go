package shell

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a killed process left in the temp dir (its private temp dirs and
// mask sources, named by its pid) is removed; what a live process has, and
// what is not ours, stays.
func TestSweepStale(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	gone := strconv.Itoa(dead.Process.Pid)
	live := strconv.Itoa(os.Getpid())

	mk := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Join(p, "sub"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(p, "sub", "f"), []byte("x"), 0o644))
		return p
	}
	staleTmp := mk(tmpPrefix + gone + "-123")
	staleMasks := mk(masksPrefix + gone + "-456")
	liveTmp := mk(tmpPrefix + live + "-789")
	other := mk("agentloop-shell-tmp-notapid-1")
	foreign := mk("someone-else-" + gone)

	sweepStale(dir)
	assert.NoDirExists(t, staleTmp)
	assert.NoDirExists(t, staleMasks)
	assert.DirExists(t, liveTmp)
	assert.DirExists(t, other)
	assert.DirExists(t, foreign)
}
