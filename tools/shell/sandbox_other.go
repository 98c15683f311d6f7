//go:build !linux

package shell

import (
	"fmt"
	"os/exec"
	"runtime"
)

const (
	helperFailed        = 126
	helperFailurePrefix = "agentloop sandbox: "
)

// RunSandboxHelperIfRequested does nothing on this system: sandboxed modes
// need Linux. See the Linux documentation of this function.
func RunSandboxHelperIfRequested() {}

type sandboxConfig struct{}

func newSandboxConfig(mode SandboxMode, root string, writable []string, network bool, deny []denyRule) (*sandboxConfig, error) {
	return nil, fmt.Errorf("%w: %s mode needs Linux (Landlock and namespaces); this is %s", ErrSandboxUnavailable, mode, runtime.GOOS)
}

func (b *sandboxConfig) command(argv []string, dir string, env []string) (*exec.Cmd, func(), error) {
	return nil, nil, ErrSandboxUnavailable
}

func (b *sandboxConfig) startError(err error) error { return err }

func (b *sandboxConfig) denialNote() string { return "" }

func (b *sandboxConfig) failure(stderr, dir, tmp string) sandboxFailure { return sandboxFailure{} }
