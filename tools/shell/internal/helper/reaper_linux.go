package helper

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reap runs an unsandboxed command as a child of this helper, which makes
// itself a child subreaper: every process the command starts, also one
// that calls setsid or whose parent exits (a double fork, a daemon), is
// reparented to the helper instead of to init. When the command exits, the
// helper kills all its remaining descendants with SIGKILL. A stopping
// signal (SIGTERM, SIGINT, SIGHUP, SIGQUIT) goes to every descendant;
// whatever is left after grace is killed. The helper exits, with the
// command's status, only when it has no descendant left. It returns only
// on failure.
//
// The command gets a process group of its own, so the executor's stopping
// signal, sent to the helper's group, reaches each descendant once: through
// the helper.
func reap(spec Spec, argv []string) error {
	runtime.LockOSThread() // the command's parent-death signal is tied to this thread
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("subreaper: %w", err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	pid, err := syscall.ForkExec(spec.Path, argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true},
	})
	if err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	status := make(chan int, 1)
	done := make(chan struct{})
	go func() { // reaps the command and every orphan until none is left
		defer close(done)
		for {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &ws, 0, nil)
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case err != nil:
				return // ECHILD: no descendant left
			case wpid == pid && ws.Signaled():
				status <- 128 + int(ws.Signal())
			case wpid == pid:
				status <- ws.ExitStatus()
			}
		}
	}()

	self := os.Getpid()
	code := -1
	var killAt <-chan time.Time
wait:
	for {
		select {
		case code = <-status:
			break wait
		case <-done:
			break wait
		case sig := <-sigs:
			signalDescendants(self, sig.(syscall.Signal))
			if killAt == nil {
				killAt = time.After(spec.Grace)
			}
		case <-killAt:
			break wait
		}
	}
	// Kill what is left until nothing is: a process killed while its
	// children live hands them to this helper, so sweep again.
	tick := time.NewTicker(2 * time.Millisecond)
	for swept := false; !swept; {
		select {
		case <-done:
			swept = true
		case <-tick.C:
		}
		if !swept {
			killChildren(self)
		}
	}
	if code < 0 {
		select {
		case code = <-status:
		default:
			code = 128 + int(syscall.SIGKILL)
		}
	}
	// syscall.Exit, not os.Exit: nothing is left to flush, and a
	// race-enabled build would otherwise linger a second at exit.
	syscall.Exit(code)
	return nil
}

// signalDescendants sends sig to every live descendant of pid, found
// through the parent pids in /proc.
func signalDescendants(pid int, sig syscall.Signal) {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := parentPID(p); ok {
			children[pp] = append(children[pp], p)
		}
	}
	queue := children[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = append(queue[1:], children[p]...)
		_ = syscall.Kill(p, sig)
	}
}

// killChildren kills the children of this process, pid, with SIGKILL: the
// ones listed in /proc/self/task/*/children, or else (a kernel without
// that file) all its descendants found through /proc.
func killChildren(pid int) {
	tasks, _ := os.ReadDir("/proc/self/task")
	listed := false
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		listed = true
		for _, f := range bytes.Fields(b) {
			if p, err := strconv.Atoi(string(f)); err == nil {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	if !listed {
		signalDescendants(pid, syscall.SIGKILL)
	}
}

// parentPID reads the parent pid of process p from /proc/p/stat.
func parentPID(p int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
	if err != nil {
		return 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(string(f[1]))
	return pp, err == nil
}
