package helper

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// sandbox applies the sandbox to this thread and executes the command.
// It returns only on failure.
func sandbox(spec Spec, argv []string) error {
	if err := readOnlyMounts(spec.Writable, spec.Masks); err != nil {
		return err
	}

	cfg := landlock.Config{HandledAccessFS: landlock.V3.HandledAccessFS}
	if !spec.Network && spec.ABI >= 4 {
		cfg.HandledAccessNet = landlock.V4.HandledAccessNet
	}
	if spec.ABI >= 6 {
		cfg.Scoped = ll.ScopeSignal
		if !spec.Network {
			cfg.Scoped |= ll.ScopeAbstractUnixSocket
		}
	}
	rules := []landlock.Rule{
		landlock.RODirs("/"),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty").IgnoreIfMissing(),
		landlock.RWDirs(spec.Writable...).WithRefer(),
	}
	fd, flags, err := cfg.NewRulesetFD(rules...)
	if err != nil {
		return fmt.Errorf("landlock: %w", err)
	}
	if fd < 0 {
		return errors.New("landlock: nothing to enforce")
	}
	runtime.LockOSThread() // never unlocked: the restricted thread executes the command
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if err := ll.LandlockRestrictSelf(fd, flags); err != nil {
		return fmt.Errorf("landlock restrict: %w", err)
	}
	unix.Close(fd)
	if os.Getuid() != 0 {
		// Without ambient capabilities a non-root command gets none.
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
			return fmt.Errorf("drop capabilities: %w", err)
		}
	}
	return supervise(spec.Path, argv)
}

// supervise runs the command as a child of this helper, which stays as the
// init of the PID namespace: an init ignores the signals it has no handler
// for, so a command that were init itself would ignore the SIGTERM that
// stops it politely. The helper forwards the stopping signals, reaps the
// orphans reparented to it, and exits with the command's status. The child
// is forked from this locked thread, which carries the Landlock domain and
// no_new_privs. It returns only on failure.
//
// The command gets a process group of its own, so the executor's stopping
// signal, sent to the helper's group, reaches the command once: through
// the helper, which forwards it to the command's group.
func supervise(path string, argv []string) error {
	sigs := make(chan os.Signal, 4)
	// Handled (not ignored) signals are reset to their default on exec, so
	// the command sees SIGTERM as usual.
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	go func() {
		for sig := range sigs {
			// The command's group; the command alone when nothing is
			// left in that group (the command moved to another).
			if syscall.Kill(-pid, sig.(syscall.Signal)) != nil {
				_ = syscall.Kill(pid, sig.(syscall.Signal))
			}
		}
	}()
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("wait for %s: %w", argv[0], err)
		case wpid != pid:
			continue // an orphan of the command, reaped
		// syscall.Exit, not os.Exit: nothing is left to flush, and a
		// race-enabled build would otherwise linger a second at exit.
		case ws.Exited():
			syscall.Exit(ws.ExitStatus())
		case ws.Signaled():
			syscall.Exit(128 + int(ws.Signal()))
		}
	}
}

// readOnlyMounts makes every mount of this process's private mount namespace
// read-only except bind mounts of the writable directories. Landlock does
// not cover metadata changes (chmod, chown, utimes, xattrs); a read-only
// mount does. Device files stay usable: a read-only mount does not stop
// writing to /dev/null.
//
// Each mask is bind-mounted over its target after the writable directories,
// so a denied path inside one stays hidden, and becomes read-only with the
// rest: its mode cannot be changed.
func readOnlyMounts(writable []string, masks []Mask) error {
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("mounts: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("mounts: make private: %w (user namespaces without capabilities: restricted by the system, e.g. kernel.apparmor_restrict_unprivileged_userns?)", err)
	}
	for _, w := range writable {
		if err := unix.Mount(w, w, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("mounts: bind %s: %w", w, err)
		}
	}
	for _, m := range masks {
		if err := unix.Mount(m.Source, m.Target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("mounts: deny reading %s: %w", m.Target, err)
		}
	}
	if err := unix.MountSetattr(-1, "/", unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("mounts: make / read-only: %w", err)
	}
	for _, w := range writable {
		if err := unix.MountSetattr(-1, w, 0, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return fmt.Errorf("mounts: make %s writable: %w", w, err)
		}
	}
	// The working directory still refers to the mount it was entered on.
	if err := os.Chdir(wd); err != nil {
		return fmt.Errorf("mounts: %w", err)
	}
	return nil
}
