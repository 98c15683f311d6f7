package shell

import (
	"errors"

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
