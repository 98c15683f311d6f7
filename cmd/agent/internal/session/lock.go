package session

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockSession takes the lock that says this process has session id open:
// an exclusive flock on locks/ID.lock, which the kernel lets go when the
// process ends, however it ends. The file holds the holder's pid.
func lockSession(dir, id string) (*os.File, error) {
	ldir := filepath.Join(dir, "locks")
	if err := os.MkdirAll(ldir, 0o700); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	path := filepath.Join(ldir, id+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another agent process"
			if b, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
					who = fmt.Sprintf("another agent process (pid %d)", pid)
				}
			}
			return nil, fmt.Errorf("session %s is open in %s: wait for it to end, then resume again: %w", id, who, ErrBusy)
		}
		return nil, fmt.Errorf("session %s: lock %s: %w", id, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// unlock lets the session go.
func unlock(f *os.File) {
	_ = f.Truncate(0)
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}

// busy reports whether an agent process holds the lock of session id. It
// probes with a shared lock, let go at once, so two processes listing
// sessions do not see each other as holders.
func busy(dir, id string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "locks", id+".lock"), os.O_RDONLY, 0)
	if err != nil {
		return false // never opened since the locks came in, or gone
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
