package proc

import (
	"errors"

	"golang.org/x/sys/unix"
)

// WaitExit blocks until process pid has exited, without reaping it: its pid
// (and process group id) stays reserved until exec.Cmd.Wait reaps it, so
// signalling the group until then cannot hit an unrelated process.
func WaitExit(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
