package shell

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// waitExit blocks until process pid has exited, without reaping it, so its
// pid (and process group id) stays reserved until exec.Cmd.Wait.
func waitExit(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// setPdeathsig makes the kernel kill the command when this process dies.
// In the sandbox the command is the first process of its PID namespace, so
// everything it started dies with it.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
