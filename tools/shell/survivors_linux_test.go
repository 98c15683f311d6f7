package shell_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools/shell"
)

// survivorCases are commands that try to leave a process behind. In each,
// @M stands for a unique marker: a sleep duration such as 1000.123456789,
// so every process of the case carries it in its command line.
var survivorCases = []struct {
	name, line string
	timeout    bool // the command runs into its 1 s timeout; else it exits at once
}{
	{"setsid", `setsid sh -c 'sleep @M' & sleep @M`, true},
	{"double fork", `sh -c 'sh -c "sleep @M" & exit 0'; sleep @M`, true},
	{"daemon: fork, setsid, fork", `sh -c 'setsid sh -c "sleep @M & exit 0" & exit 0'; sleep @M`, true},
	{"nohup", `nohup sleep @M > /dev/null 2>&1 & sleep @M`, true},
	{"ignores SIGTERM", `(trap '' TERM HUP INT; sleep @M) & setsid sh -c 'trap "" TERM HUP INT; sleep @M; sleep @M' & sleep @M`, true},
	{"daemon after a normal exit", `setsid sh -c 'sleep @M' & nohup sleep @M > /dev/null 2>&1 & sh -c 'setsid sh -c "trap \"\" TERM; sleep @M" &'; sleep 0.2; echo done`, false},
}

// marked returns the live processes whose command line contains marker.
func marked(marker string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || !alive(pid) {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

func checkNoSurvivors(t *testing.T, x *shell.Executor, settle time.Duration) {
	for _, tc := range survivorCases {
		t.Run(tc.name, func(t *testing.T) {
			marker := fmt.Sprintf("1000.%09d", rand.IntN(1e9))
			line := strings.ReplaceAll(tc.line, "@M", marker)
			timeout := time.Second
			if !tc.timeout {
				timeout = 30 * time.Second
			}
			t.Cleanup(func() { // whatever happened, leave nothing behind
				for _, p := range marked(marker) {
					pid, _ := strconv.Atoi(strings.SplitN(p, ":", 2)[0])
					_ = syscallKill(pid)
				}
			})
			start := time.Now()
			res, err := x.Run(t.Context(), shell.Command{Line: line, Timeout: timeout})
			require.NoError(t, err)
			assert.Equal(t, tc.timeout, res.TimedOut, "stdout %q stderr %q", res.Stdout, res.Stderr)
			assert.Less(t, time.Since(start), timeout+5*time.Second)
			if settle == 0 {
				assert.Empty(t, marked(marker), "left behind when Run returned")
			} else {
				assert.Eventually(t, func() bool { return len(marked(marker)) == 0 }, settle, 10*time.Millisecond,
					"left behind: %v", marked(marker))
			}
		})
	}
}

// TestNoSurvivors: no process a command starts outlives it, in any mode.
// With the helper hook, nothing is left when Run returns.
func TestNoSurvivors(t *testing.T) {
	for _, mode := range []shell.SandboxMode{shell.DangerFullAccess, shell.WorkspaceWrite, shell.ReadOnly} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			x := &shell.Executor{Root: t.TempDir(), Sandbox: mode, KillGrace: 300 * time.Millisecond}
			checkNoSurvivors(t, x, 0)
		})
	}
}

// TestNoSurvivorsWithoutHelper: a program without the helper hook runs
// unsandboxed commands directly; the processes that left the process group
// are found by the marker in their environment and killed when Run
// returns, and gone soon after.
func TestNoSurvivorsWithoutHelper(t *testing.T) {
	shell.WithoutHelper(func() {
		x := &shell.Executor{Root: t.TempDir(), Sandbox: shell.DangerFullAccess, KillGrace: 300 * time.Millisecond}
		checkNoSurvivors(t, x, 2*time.Second)
	})
}

// BenchmarkExecutorOverheadWithoutHelper is BenchmarkExecutorOverhead in a
// program without the helper hook: the command runs directly, and the
// marker sweep of /proc follows it (goal: at most 1.2 times bare os/exec
// plus the sweep).
func BenchmarkExecutorOverheadWithoutHelper(b *testing.B) {
	shell.WithoutHelper(func() {
		x := &shell.Executor{Root: b.TempDir(), Sandbox: shell.DangerFullAccess}
		compare(b, x, func() error { return exec.Command(truePath(b)).Run() }, "x-bare-exec")
	})
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
