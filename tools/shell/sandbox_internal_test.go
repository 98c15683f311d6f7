//go:build linux

package shell

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSandboxRefusedWithoutHelper(t *testing.T) {
	helperInstalled.Store(false)
	defer helperInstalled.Store(true)
	for _, mode := range []SandboxMode{"", ReadOnly, WorkspaceWrite} {
		x := &Executor{Root: t.TempDir(), Sandbox: mode}
		_, err := x.Run(t.Context(), Command{Line: "touch ran"})
		require.Error(t, err)
		assert.True(t, errors.Is(err, ErrSandboxUnavailable), "%v", err)
		assert.Contains(t, err.Error(), "RunSandboxHelperIfRequested")
		_, statErr := os.Stat(x.Root + "/ran")
		assert.ErrorIs(t, statErr, os.ErrNotExist, "the command must not run")
	}
	// Unsandboxed mode needs no helper.
	x := &Executor{Root: t.TempDir(), Sandbox: DangerFullAccess}
	_, err := x.Run(t.Context(), Command{Line: "true"})
	assert.NoError(t, err)
}

// TestHelperFailureIsAnError: when the helper cannot apply the sandbox (here
// a writable root that vanished), nothing runs and Run says why.
func TestHelperFailureIsAnError(t *testing.T) {
	extra := t.TempDir()
	x := &Executor{Root: t.TempDir(), WritableRoots: []string{extra}}
	_, err := x.Run(t.Context(), Command{Line: "true"})
	require.NoError(t, err)
	require.NoError(t, os.Remove(extra))
	_, err = x.Run(t.Context(), Command{Line: "touch ran"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrSandboxUnavailable), "%v", err)
	assert.Contains(t, err.Error(), extra)
	_, statErr := os.Stat(x.Root + "/ran")
	assert.ErrorIs(t, statErr, os.ErrNotExist)
}
