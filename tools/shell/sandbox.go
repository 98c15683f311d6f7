package shell

import "errors"

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
