package shell_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools/shell"
)

func sandboxed(t *testing.T, mode shell.SandboxMode) *shell.Executor {
	// t.TempDir lives under the system temp dir (usually /tmp): the tests
	// check that its parent cannot be written through "..".
	return &shell.Executor{Root: t.TempDir(), Sandbox: mode, KillGrace: 300 * time.Millisecond}
}

func run(t *testing.T, x *shell.Executor, line string) shell.Result {
	t.Helper()
	res, err := x.Run(t.Context(), shell.Command{Line: line, Timeout: 30 * time.Second})
	require.NoError(t, err, line)
	return res
}

func TestWorkspaceWrite(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	parent := filepath.Dir(x.Root)
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "existing"), []byte("keep"), 0o644))

	for _, tc := range []struct {
		name, line string
		ok         bool
	}{
		{"write inside", "echo hi > inside.txt && mkdir -p a/b && mv inside.txt a/b/ && cat a/b/inside.txt", true},
		{"touch inside", "touch x && rm x", true},
		{"private tmp", `echo t > "$TMPDIR/t" && cat "$TMPDIR/t" && case "$TMPDIR" in /tmp) exit 1;; esac`, true},
		{"dev null", "echo discard > /dev/null", true},
		{"stdout through /dev/stdout", "echo via > /dev/stdout", true},
		{"touch parent via ..", "touch ../escape-" + strconv.Itoa(os.Getpid()), false},
		{"write /tmp", "touch /tmp/agentloop-escape-" + strconv.Itoa(os.Getpid()), false},
		{"overwrite outside", "echo x > " + filepath.Join(outside, "existing"), false},
		{"truncate outside", "truncate -s 0 " + filepath.Join(outside, "existing"), false},
		{"remove outside", "rm -f " + filepath.Join(outside, "existing"), false},
		{"mkdir outside", "mkdir " + filepath.Join(outside, "d"), false},
		{"symlink outside", "ln -s /etc " + filepath.Join(outside, "l"), false},
		{"write etc", "echo x >> /etc/hosts", false},
		{"chmod outside", "chmod 777 " + filepath.Join(outside, "existing"), false},
		{"utimes outside", "touch -d 2000-01-01 " + filepath.Join(outside, "existing"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, x, tc.line)
			if tc.ok {
				assert.Equal(t, 0, res.ExitCode, "stderr: %s", res.Stderr)
				return
			}
			assert.NotEqual(t, 0, res.ExitCode)
			assert.True(t, res.SandboxDenied, "stderr: %s", res.Stderr)
			assert.Regexp(t, "Permission denied|Read-only file system", res.Stderr)
			assert.Contains(t, res.Stderr, "[sandbox: this command ran in workspace-write mode")
		})
	}
	_, err := os.Stat(filepath.Join(parent, "escape-"+strconv.Itoa(os.Getpid())))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat("/tmp/agentloop-escape-" + strconv.Itoa(os.Getpid()))
	assert.ErrorIs(t, err, os.ErrNotExist)
	b, err := os.ReadFile(filepath.Join(outside, "existing"))
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))
	fi, err := os.Stat(filepath.Join(outside, "existing"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	assert.Greater(t, fi.ModTime().Year(), 2000)
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

func TestWorkspaceWriteExtraRoots(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	extra := t.TempDir()
	x.WritableRoots = []string{extra}
	res := run(t, x, "echo ok > "+filepath.Join(extra, "f"))
	assert.Equal(t, 0, res.ExitCode, res.Stderr)

	bad := &shell.Executor{Root: t.TempDir(), WritableRoots: []string{"/no/such/dir"}}
	_, err := bad.Run(t.Context(), shell.Command{Line: "true"})
	assert.ErrorContains(t, err, "writable root")
}

func TestReadOnlyBlocksEveryWrite(t *testing.T) {
	x := sandboxed(t, shell.ReadOnly)
	require.NoError(t, os.WriteFile(filepath.Join(x.Root, "existing"), []byte("keep"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(x.Root, "dir"), 0o755))
	for _, line := range []string{
		"touch new",
		"echo x > existing",
		"echo x >> existing",
		"truncate -s 0 existing",
		"rm existing",
		"rmdir dir",
		"mkdir d2",
		"mv existing moved",
		"ln -s existing link",
		"ln existing hard",
		"mkfifo fifo",
		"chmod 777 existing",
		"touch ../x",
		"touch /tmp/agentloop-ro-" + strconv.Itoa(os.Getpid()),
		"cp existing $HOME/agentloop-ro-copy",
	} {
		t.Run(line, func(t *testing.T) {
			res := run(t, x, line)
			assert.NotEqual(t, 0, res.ExitCode, "stdout %q stderr %q", res.Stdout, res.Stderr)
		})
	}
	b, err := os.ReadFile(filepath.Join(x.Root, "existing"))
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b))
	entries, err := os.ReadDir(x.Root)
	require.NoError(t, err)
	assert.Len(t, entries, 2)
	fi, err := os.Stat(filepath.Join(x.Root, "existing"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	// Reading works, and so does the private temp dir.
	res := run(t, x, `cat existing && ls / > /dev/null && echo t > "$TMPDIR/t"`)
	assert.Equal(t, 0, res.ExitCode, res.Stderr)
	assert.Equal(t, "keep", res.Stdout)
}

// TestSandboxBlocksNetwork connects to a listener of this process.
func TestSandboxBlocksNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	line := "echo hi > /dev/tcp/127.0.0.1/" + port
	for _, mode := range []shell.SandboxMode{shell.ReadOnly, shell.WorkspaceWrite} {
		t.Run(string(mode), func(t *testing.T) {
			res := run(t, sandboxed(t, mode), line)
			assert.NotEqual(t, 0, res.ExitCode)
			assert.True(t, res.SandboxDenied, res.Stderr)
			assert.Contains(t, res.Stderr, "network access is blocked")
		})
		t.Run(string(mode)+" network allowed", func(t *testing.T) {
			x := sandboxed(t, mode)
			x.Network = true
			res := run(t, x, line)
			assert.Equal(t, 0, res.ExitCode, res.Stderr)
		})
	}
	res := run(t, fullAccess(t), line)
	assert.Equal(t, 0, res.ExitCode, res.Stderr)
}

// TestSandboxKillsDaemons: in the sandbox the command is the first process
// of its PID namespace, so even a process that left the process group dies
// with it.
func TestSandboxKillsDaemons(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	start := time.Now()
	res, err := x.Run(t.Context(), shell.Command{
		Line:    `setsid sh -c 'sleep 600' & sleep 600 & sh -c 'sleep 600 & wait' & echo started; wait`,
		Timeout: 500 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Equal(t, "started\n", res.Stdout)
	assert.Less(t, time.Since(start), 500*time.Millisecond+2*time.Second)

	// After a normal exit too.
	start = time.Now()
	res = run(t, x, `setsid sleep 600 & sleep 600 & echo bye`)
	assert.Equal(t, "bye\n", res.Stdout)
	assert.Less(t, time.Since(start), 2*time.Second)
	// No sleep 600 of ours is left (the sandbox's processes have host pids
	// visible in /proc).
	assert.Eventually(t, func() bool { return countSleepers(t) == 0 }, 5*time.Second, 50*time.Millisecond)
}

// countSleepers counts live "sleep 600" processes that are descendants of
// this test process's sandboxes: processes whose environment has TMPDIR
// under an agentloop-shell- directory.
func countSleepers(t *testing.T) int {
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if string(cmdline) != "sleep\x00600\x00" {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if strings.Contains(string(env), "agentloop-shell-") {
			n++
		}
	}
	return n
}

func TestSandboxProcessIsolation(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	// The sandbox cannot signal this process (Landlock signal scoping).
	res := run(t, x, "kill -0 "+strconv.Itoa(os.Getpid()))
	assert.NotEqual(t, 0, res.ExitCode)
	// It runs in a new PID namespace, whose init is the sandbox helper.
	res = run(t, x, "echo $$; tr '\\0' ' ' < /proc/1/cmdline")
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	require.Len(t, lines, 2, res.Stdout+res.Stderr)
	pid, err := strconv.Atoi(lines[0])
	require.NoError(t, err)
	assert.Less(t, pid, 100, "a pid of a fresh namespace")
	assert.NotEqual(t, os.Getpid(), pid)
	assert.NotContains(t, lines[1], "echo", "init is the helper, not the command")
}

// TestSandboxStopsPolitely checks that a sandboxed command gets the SIGTERM
// that stops it: the helper stays as the PID namespace's init (which ignores
// signals it has no handler for) and the command runs as its child, so
// stopping it does not wait for the SIGKILL after the kill grace.
func TestSandboxStopsPolitely(t *testing.T) {
	x := sandboxed(t, shell.WorkspaceWrite)
	x.KillGrace = 10 * time.Second
	start := time.Now()
	res, err := x.Run(t.Context(), shell.Command{
		Line:    `trap 'echo got TERM; exit 7' TERM; echo ready; sleep 600 & wait`,
		Timeout: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Less(t, time.Since(start), 5*time.Second, "stopped by SIGTERM, not by SIGKILL after the 10 s grace")
	assert.Equal(t, "ready\ngot TERM\n", res.Stdout)

	// A plain command, which is no longer the namespace's init, dies of
	// SIGTERM at once too.
	start = time.Now()
	res, err = x.Run(t.Context(), shell.Command{Line: `sleep 600`, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	assert.True(t, res.TimedOut)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestStopSignalDeliveredOnce checks that a command stopped on its timeout
// gets one SIGTERM, not one from the executor and another forwarded by the
// helper: a trap that cleans up must not run twice. The second wait gives a
// second signal the time to arrive.
func TestStopSignalDeliveredOnce(t *testing.T) {
	line := `trap 'echo got TERM' TERM; echo ready; sleep 600 & wait; sleep 0.5 & wait $!; exit 7`
	for _, mode := range []shell.SandboxMode{shell.DangerFullAccess, shell.WorkspaceWrite} {
		t.Run(string(mode), func(t *testing.T) {
			var x *shell.Executor
			if mode == shell.DangerFullAccess {
				x = fullAccess(t)
			} else {
				x = sandboxed(t, mode)
			}
			x.KillGrace = 10 * time.Second
			for range 3 {
				res, err := x.Run(t.Context(), shell.Command{Line: line, Timeout: 300 * time.Millisecond})
				require.NoError(t, err)
				assert.True(t, res.TimedOut)
				assert.Equal(t, 7, res.ExitCode, res.Stderr)
				assert.Equal(t, "ready\ngot TERM\n", res.Stdout)
			}
		})
	}
}
