package shell

import (
	"syscall"
)

// setPdeathsig makes the kernel kill the command when this process dies.
// In the sandbox the helper is the init of the command's PID namespace, so
// everything it started dies with it.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
