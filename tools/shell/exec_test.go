package shell_test

import (
	"errors"
	"fmt"
	"github.com/agentloop/agentloop/tools"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools/shell"
)

// fullAccess returns an unsandboxed executor rooted in a fresh directory.
func fullAccess(t *testing.T) *shell.Executor {
	return &shell.Executor{Root: t.TempDir(), Sandbox: shell.DangerFullAccess, KillGrace: 300 * time.Millisecond}
}

// alive reports whether pid names a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

// eventuallyDead waits (generously) for pid to be gone.
func eventuallyDead(t *testing.T, pid int) {
	t.Helper()
	assert.Eventually(t, func() bool { return !alive(pid) }, 5*time.Second, 20*time.Millisecond, "pid %d still alive", pid)
}

func pids(t *testing.T, s string) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		require.NoError(t, err, "pid %q in %q", f, s)
		out = append(out, n)
	}
	return out
}

func TestRunBasics(t *testing.T) {
	x := fullAccess(t)
	require.NoError(t, os.Mkdir(filepath.Join(x.Root, "sub"), 0o755))
	for _, tc := range []struct {
		name       string
		cmd        shell.Command
		stdout     string
		stderr     string
		exit       int
		wantErrSub string
	}{
		{"stdout", shell.Command{Line: "echo hello"}, "hello\n", "", 0, ""},
		{"stderr apart", shell.Command{Line: "echo out; echo err >&2"}, "out\n", "err\n", 0, ""},
		{"exit code is a result", shell.Command{Line: "exit 3"}, "", "", 3, ""},
		{"signal exit", shell.Command{Line: "kill -9 $$"}, "", "", 137, ""},
		{"argv not through a shell", shell.Command{Args: []string{"echo", "$HOME", "<<'EOF'"}}, "$HOME <<'EOF'\n", "", 0, ""},
		{"dir relative", shell.Command{Line: "basename $PWD", Dir: "sub"}, "sub\n", "", 0, ""},
		{"call env merged", shell.Command{Line: "echo $FOO", Env: map[string]string{"FOO": "bar"}}, "bar\n", "", 0, ""},
		{"invalid utf8 made valid", shell.Command{Line: `printf 'a\377b'`}, "a\uFFFDb", "", 0, ""},
		{"dir outside", shell.Command{Line: "true", Dir: ".."}, "", "", 0, "outside the workspace"},
		{"dir missing", shell.Command{Line: "true", Dir: "nope"}, "", "", 0, "no such file"},
		{"program missing", shell.Command{Args: []string{"no-such-program-xyz"}}, "", "", 0, "not found"},
		{"both line and args", shell.Command{Line: "x", Args: []string{"y"}}, "", "", 0, "exactly one"},
		{"neither", shell.Command{}, "", "", 0, "exactly one"},
		{"bad env name", shell.Command{Line: "true", Env: map[string]string{"A=B": "c"}}, "", "", 0, "invalid environment"},
		{"NUL in env value", shell.Command{Line: "true", Env: map[string]string{"A": "b\x00c"}}, "", "", 0, "NUL"},
		{"negative timeout", shell.Command{Line: "true", Timeout: -1}, "", "", 0, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := x.Run(t.Context(), tc.cmd)
			if tc.wantErrSub != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErrSub)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.stdout, res.Stdout)
			assert.Equal(t, tc.stderr, res.Stderr)
			assert.Equal(t, tc.exit, res.ExitCode)
			assert.False(t, res.TimedOut)
		})
	}
}

func TestRunRefusesSymlinkOutOfRoot(t *testing.T) {
	x := fullAccess(t)
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(x.Root, "link")))
	_, err := x.Run(t.Context(), shell.Command{Line: "pwd", Dir: "link"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside the workspace")
	_, err = x.Run(t.Context(), shell.Command{Line: "pwd", Dir: outside})
	assert.ErrorContains(t, err, "outside the workspace")
}

func TestRunBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    *shell.Executor
		want string
	}{
		{"no root", &shell.Executor{Sandbox: shell.DangerFullAccess}, "Root is empty"},
		{"missing root", &shell.Executor{Root: "/no/such/dir", Sandbox: shell.DangerFullAccess}, "workspace root"},
		{"bad mode", &shell.Executor{Root: t.TempDir(), Sandbox: "yolo"}, "unknown sandbox mode"},
		{"bad pattern", &shell.Executor{Root: t.TempDir(), Sandbox: shell.DangerFullAccess, EnvExclude: []string{"["}}, "env pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.x.Run(t.Context(), shell.Command{Line: "true"})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestTimeoutKillsGrandchild starts a grandchild that ignores nothing and
// sleeps for ten minutes; the timeout must kill it and return promptly.
func TestTimeoutKillsGrandchild(t *testing.T) {
	x := fullAccess(t)
	pidFile := filepath.Join(x.Root, "pids")
	line := `sh -c 'sleep 600 & echo $! >> ` + pidFile + `; echo $$ >> ` + pidFile + `; wait'`
	start := time.Now()
	res, err := x.Run(t.Context(), shell.Command{Line: line, Timeout: 500 * time.Millisecond})
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Less(t, elapsed, 500*time.Millisecond+2*time.Second)
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	ps := pids(t, string(b))
	require.Len(t, ps, 2)
	for _, pid := range ps {
		eventuallyDead(t, pid)
	}
}

// TestTimeoutKillsTermIgnorer needs SIGKILL after the grace period.
func TestTimeoutKillsTermIgnorer(t *testing.T) {
	x := fullAccess(t)
	start := time.Now()
	res, err := x.Run(t.Context(), shell.Command{Line: `trap '' TERM; sleep 600 & trap '' TERM; wait`, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestBackgroundChildHoldingPipesDoesNotHang(t *testing.T) {
	x := fullAccess(t)
	start := time.Now()
	res, err := x.Run(t.Context(), shell.Command{Line: `sleep 600 & echo $!`, Timeout: time.Minute})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, 0, res.ExitCode)
	assert.False(t, res.TimedOut)
	eventuallyDead(t, pids(t, res.Stdout)[0])
}

// TestDaemonHoldingStdoutDoesNotHang: a process that left the process group
// (setsid) keeps stdout open; the call still returns promptly.
func TestDaemonHoldingStdoutDoesNotHang(t *testing.T) {
	x := fullAccess(t)
	start := time.Now()
	// The loop waits until the daemon has left the group.
	res, err := x.Run(t.Context(), shell.Command{
		Line:    `setsid sh -c 'echo $$ > pid; exec sleep 600' & while [ ! -s pid ]; do sleep 0.01; done; cat pid`,
		Timeout: time.Minute,
	})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	ps := pids(t, res.Stdout)
	require.Len(t, ps, 1)
	// Even unsandboxed, a process that left the group does not survive.
	assert.False(t, alive(ps[0]), "the daemon survived")
	_ = syscall.Kill(ps[0], syscall.SIGKILL)
}

func TestCancelStopsCommand(t *testing.T) {
	x := fullAccess(t)
	cctx, stop := contextWithCancelAfter(t.Context(), 200*time.Millisecond)
	defer stop()
	start := time.Now()
	_, err := x.Run(cctx, shell.Command{Line: "sleep 600", Timeout: time.Minute})
	require.Error(t, err)
	assert.True(t, errors.Is(err, cctx.Err()))
	assert.Less(t, time.Since(start), 3*time.Second)
}

func rss(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err)
			return n << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

func TestHugeOutputKeepsHeadAndTailInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("500 MB of output")
	}
	x := fullAccess(t)
	const n = 500_000_000
	// Reset the peak RSS so VmHWM measures this test only.
	require.NoError(t, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
	before := rss(t, "VmRSS")
	res, err := x.Run(t.Context(), shell.Command{
		Line:      `printf START; head -c 500000000 /dev/zero | tr '\0' x; printf END; echo oops >&2`,
		MaxOutput: 1000,
		Timeout:   2 * time.Minute,
	})
	require.NoError(t, err)
	peak := rss(t, "VmHWM")
	assert.Equal(t, 0, res.ExitCode)
	assert.True(t, strings.HasPrefix(res.Stdout, "STARTxxx"), res.Stdout[:20])
	assert.True(t, strings.HasSuffix(res.Stdout, "xxxEND"))
	assert.Equal(t, "oops\n", res.Stderr)
	total := int64(n + len("START") + len("END"))
	kept := int64(1000 - len("oops\n"))
	assert.Equal(t, total-kept, res.Omitted)
	assert.Contains(t, res.Stdout, "…["+strconv.FormatInt(total-kept, 10)+" bytes omitted]…")
	assert.Less(t, peak-before, int64(20<<20), "RSS grew by %d bytes", peak-before)
	t.Logf("RSS before %d MB, peak %d MB", before>>20, peak>>20)
}

func TestSecretsAreNotPassed(t *testing.T) {
	x := fullAccess(t)
	x.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=/home/u", "LANG=C.UTF-8",
		"OPENAI_API_KEY=sk-1", "SGP_ACCOUNT_ID=acct", "GITHUB_TOKEN=ghp", "DB_PASSWORD=pw",
		"AWS_SECRET_ACCESS_KEY=aws", "my_credentials=c", "API_KEY=k", "Session_Cookie=c",
	}
	res, err := x.Run(t.Context(), shell.Command{Args: []string{"env"}, Env: map[string]string{"EXTRA": "1"}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=/home/u", "LANG=C.UTF-8", "EXTRA=1"}, unmarked(res.Stdout))

	x2 := fullAccess(t)
	x2.Env = x.Env
	x2.EnvInclude = []string{"PATH", "lang", "*TOKEN*"}
	x2.EnvExclude = []string{}
	res, err = x2.Run(t.Context(), shell.Command{Args: []string{"env"}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "GITHUB_TOKEN=ghp"}, unmarked(res.Stdout))
	assert.True(t, utf8.ValidString(res.Stdout))
}

// unmarked returns the variables of env output but the marker that every
// unsandboxed command gets (AGENTLOOP_SHELL_RUN).
func unmarked(env string) []string {
	var out []string
	for _, kv := range strings.Fields(env) {
		if !strings.HasPrefix(kv, "AGENTLOOP_SHELL_RUN=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestConcurrentRuns runs commands of one executor at once, sandboxed and
// not, each writing and reading its own file.
func TestConcurrentRuns(t *testing.T) {
	for _, mode := range []shell.SandboxMode{shell.DangerFullAccess, shell.WorkspaceWrite} {
		t.Run(string(mode), func(t *testing.T) {
			x := &shell.Executor{Root: t.TempDir(), Sandbox: mode}
			const n = 8
			results := make([]shell.Result, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					results[i], errs[i] = x.Run(t.Context(), shell.Command{
						Line: fmt.Sprintf(`echo %d > f%d && cat f%d && echo "$TMPDIR" >&2`, i, i, i),
					})
				})
			}
			wg.Wait()
			tmpdirs := map[string]bool{}
			for i := range n {
				require.NoError(t, errs[i])
				assert.Equal(t, fmt.Sprintf("%d\n", i), results[i].Stdout)
				tmpdirs[results[i].Stderr] = true
			}
			if mode != shell.DangerFullAccess {
				assert.Len(t, tmpdirs, n, "each command has its own TMPDIR")
			}
		})
	}
}

// A durable driver's attempt reaches the command as environment variables.
func TestIdempotencyKeyInEnvironment(t *testing.T) {
	x := &shell.Executor{Root: t.TempDir(), Sandbox: shell.DangerFullAccess}
	ctx := tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_7", Number: 2})
	res, err := x.Run(ctx, shell.Command{Line: "echo $" + shell.IdempotencyKeyEnv + " $" + shell.AttemptEnv})
	require.NoError(t, err)
	assert.Equal(t, "run-1/call_7 2\n", res.Stdout)
	res, err = x.Run(t.Context(), shell.Command{Line: "echo x${" + shell.IdempotencyKeyEnv + "}x"})
	require.NoError(t, err)
	assert.Equal(t, "xx\n", res.Stdout, "no key when the loop runs the call once")
}
