//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package shell

import (
	"syscall"
)

// setPdeathsig does nothing: there is no parent-death signal here.
func setPdeathsig(*syscall.SysProcAttr) {}
