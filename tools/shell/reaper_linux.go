package shell

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/agentloop/agentloop/tools/shell/internal/helper"
)

// reaperCommand returns the command that runs argv unsandboxed under the
// helper acting as a child subreaper (see the internal helper package), when this program has the
// helper hook; ok is false otherwise.
func reaperCommand(path string, argv []string, dir string, env []string, grace time.Duration) (cmd *exec.Cmd, ok bool, err error) {
	if !helperInstalled.Load() {
		return nil, false, nil
	}
	args, err := helper.Args("agentloop-reaper", helper.Spec{Path: path, Reaper: true, Grace: grace}, argv)
	if err != nil {
		return nil, false, err
	}
	// The parent's death asks the helper to stop politely: it then stops
	// the command's processes as on a timeout.
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	return &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        args,
		Dir:         dir,
		Env:         env,
		SysProcAttr: attr,
	}, true, nil
}

// markerVar names the environment variable that marks every process of an
// unsandboxed command (its value is unique per command), for sweepMarked.
const markerVar = "AGENTLOOP_SHELL_RUN"

// sweepMarked kills, with SIGKILL, the processes of this user whose
// environment holds markerVar=value, until none is found (at most a few
// rounds). It is the fallback when the reaper helper is not available, and
// a backstop when the helper itself was killed. A process that cleared or
// replaced its environment is not found.
func sweepMarked(value string) {
	needle := []byte("\x00" + markerVar + "=" + value + "\x00")
	uid := os.Getuid()
	self := os.Getpid()
	for range 5 {
		found := 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			p, err := strconv.Atoi(e.Name())
			if err != nil || p == self {
				continue
			}
			if uid != 0 {
				if fi, err := os.Stat("/proc/" + e.Name()); err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) != uid {
					continue
				}
			}
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil || !bytes.Contains(append([]byte{0}, env...), needle) {
				continue
			}
			if syscall.Kill(p, syscall.SIGKILL) == nil {
				found++
			}
		}
		if found == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
