//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package proc

import (
	"errors"

	"golang.org/x/sys/unix"
)

// WaitExit blocks until process pid has exited, without reaping it: its pid
// (and process group id) stays reserved until exec.Cmd.Wait reaps it.
func WaitExit(pid int) {
	kq, err := unix.Kqueue()
	if err != nil {
		return
	}
	defer unix.Close(kq)
	ev := []unix.Kevent_t{{}}
	unix.SetKevent(&ev[0], pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev[0].Fflags = unix.NOTE_EXIT
	out := make([]unix.Kevent_t, 1)
	for {
		_, err := unix.Kevent(kq, ev, out, nil)
		if !errors.Is(err, unix.EINTR) {
			return // exited, or already gone (ESRCH)
		}
	}
}
