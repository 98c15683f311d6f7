package shell_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/agentloop/agentloop/tools/shell"
)

// BenchmarkExecutorOverhead runs `true` through Executor.Run (unsandboxed)
// and, alternately in the same loop, through bare os/exec; it reports the
// ratio of their times. With the helper hook the command runs under the
// reaper helper (re-executing this binary), which costs a few milliseconds.
func BenchmarkExecutorOverhead(b *testing.B) {
	x := &shell.Executor{Root: b.TempDir(), Sandbox: shell.DangerFullAccess}
	compare(b, x, func() error { return exec.Command(truePath(b)).Run() }, "x-bare-exec")
}

// BenchmarkSandboxSetup runs `true` in the workspace-write sandbox; the
// floor is the unsandboxed executor running `true`, measured first in the
// same run (interleaving would charge the kernel's asynchronous namespace
// teardown to the floor). The ratio and the extra milliseconds per command
// are the sandbox's set-up cost: user, PID, mount and network namespaces,
// re-executing this binary as the helper, Landlock, read-only mounts and a
// private temp dir.
func BenchmarkSandboxSetup(b *testing.B) {
	plain := &shell.Executor{Root: b.TempDir(), Sandbox: shell.DangerFullAccess}
	box := &shell.Executor{Root: b.TempDir(), Sandbox: shell.WorkspaceWrite}
	runTrue := func(x *shell.Executor) {
		res, err := x.Run(b.Context(), shell.Command{Args: []string{"true"}})
		if err != nil || res.ExitCode != 0 {
			b.Fatal(err, res)
		}
	}
	const floorRuns = 50
	t0 := time.Now()
	for range floorRuns {
		runTrue(plain)
	}
	floor := time.Since(t0) / floorRuns
	var ours time.Duration
	n := 0
	for b.Loop() {
		t := time.Now()
		runTrue(box)
		ours += time.Since(t)
		n++
	}
	per := ours / time.Duration(n)
	b.ReportMetric(float64(per)/float64(floor), "x-unsandboxed")
	b.ReportMetric(float64(per-floor)/float64(time.Millisecond), "setup-ms/op")
}

func truePath(b *testing.B) string {
	p, err := exec.LookPath("true")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// compare times x running `true` against floor, interleaved so both see the
// same machine load, and reports the ratio and the extra time per command.
func compare(b *testing.B, x *shell.Executor, floor func() error, unit string) {
	var base, ours time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := floor(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		res, err := x.Run(b.Context(), shell.Command{Args: []string{"true"}})
		if err != nil || res.ExitCode != 0 {
			b.Fatal(err, res)
		}
		t2 := time.Now()
		base += t1.Sub(t0)
		ours += t2.Sub(t1)
	}
	b.ReportMetric(float64(ours)/float64(base), unit)
	b.ReportMetric(float64((ours-base).Microseconds())/float64(b.N), "extra-µs/op")
}
