//go:build !linux

package shell

import (
	"os/exec"
	"time"
)

// reaperCommand reports that no reaper helper exists on this system.
func reaperCommand(path string, argv []string, dir string, env []string, grace time.Duration) (*exec.Cmd, bool, error) {
	return nil, false, nil
}

const markerVar = "AGENTLOOP_SHELL_RUN"

// sweepMarked does nothing on this system: there is no /proc to search.
func sweepMarked(value string) {}
