package shell

import (
	"syscall"
)

// setPdeathsig makes the kernel kill the command when this process dies.
// In the sandbox the command is the first process of its PID namespace, so
// everything it started dies with it.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
