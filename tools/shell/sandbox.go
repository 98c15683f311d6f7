package shell

import (
	"errors"
	"os/exec"
)

// SandboxMode says what a command may touch.
type SandboxMode string

// Sandbox modes.
const (
	// ReadOnly lets commands read everything and write nothing but a
	// private temporary directory (TMPDIR), with no network by default.
	ReadOnly SandboxMode = "read-only"
	// WorkspaceWrite lets commands write under the workspace root, the
	// executor's WritableRoots and a private temporary directory (TMPDIR);
	// the system's /tmp is not writable. No network by default.
	WorkspaceWrite SandboxMode = "workspace-write"
	// DangerFullAccess runs commands unsandboxed.
	DangerFullAccess SandboxMode = "danger-full-access"
)

// ErrSandboxUnavailable is returned (wrapped) when a sandboxed mode cannot be
// enforced: the kernel lacks a feature the mode needs, or the program did
// not install the sandbox helper. The command is never run unsandboxed.
var ErrSandboxUnavailable = errors.New("sandbox unavailable")

// sandboxConfig is the per-executor sandbox set-up.
type sandboxConfig struct {
	mode SandboxMode
}

func newSandboxConfig(mode SandboxMode, root string, writable []string, network bool) (*sandboxConfig, error) {
	return nil, errors.Join(ErrSandboxUnavailable, errors.New("not implemented yet: use DangerFullAccess"))
}

func (b *sandboxConfig) command(argv []string, dir string, env []string) (*exec.Cmd, func(), error) {
	return nil, nil, ErrSandboxUnavailable
}

func (b *sandboxConfig) denialNote() string { return "" }

// RunSandboxHelperIfRequested must be called at the start of main (and of
// TestMain in tests) by programs that run sandboxed commands.
func RunSandboxHelperIfRequested() {}
