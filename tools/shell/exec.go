package shell

import (
	"context"
	"errors"
	"fmt"
	"github.com/agentloop/agentloop/tools"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/agentloop/agentloop/internal/proc"
)

// Defaults of [Executor].
const (
	DefaultTimeout   = 2 * time.Minute
	DefaultMaxOutput = 32 << 10 // bytes of stdout plus stderr per command
	DefaultKillGrace = time.Second
	// MaxOutputLimit is the largest output cap a command may ask for; larger
	// requests are clamped to it, so memory stays bounded.
	MaxOutputLimit = 1 << 20
)

// pipeDrainDelay bounds how long output is still read after a command and its
// process group are gone, in case a process that left the group (a daemon
// that called setsid) keeps the pipes open.
const pipeDrainDelay = 250 * time.Millisecond

// errTimeout is the cause of a command's own timeout, told apart from the
// caller's context ending.
var errTimeout = errors.New("command timed out")

// Executor runs commands under a workspace root: each in its own process
// group, in the configured sandbox, with a filtered environment, a timeout
// and capped output. A Go program can use it alone; [Tool] and [LocalTool]
// expose it to a model.
//
// The fields are the configuration; do not change them after the first
// call. An Executor is safe for concurrent use.
type Executor struct {
	// Root is the workspace root, required. Commands run in it or in a
	// directory below it; symbolic links are resolved before checking.
	Root string

	// Sandbox is the sandbox mode; "" means [WorkspaceWrite]. Sandboxed
	// modes need the helper hook; see [RunSandboxHelperIfRequested].
	Sandbox SandboxMode
	// WritableRoots are extra directories writable in [WorkspaceWrite] mode.
	WritableRoots []string
	// Network allows network access in [ReadOnly] and [WorkspaceWrite]
	// modes; by default the sandbox has none.
	Network bool
	// DenyRead lists paths that commands cannot read in the [ReadOnly] and
	// [WorkspaceWrite] modes: directories (with everything below) or
	// files, absolute or starting with "~/" (HOME of the base
	// environment). nil means [DefaultDenyRead](HOME, ""); an empty slice
	// denies nothing. A path that holds the workspace root or a writable
	// root is skipped, so the workspace is never hidden; a path inside it
	// is hidden. See "Deny-read" in the package documentation.
	DenyRead []string

	// Timeout bounds a command that sets none; zero means [DefaultTimeout].
	Timeout time.Duration
	// MaxOutput caps the bytes of stdout plus stderr kept per command when
	// the command sets no cap; zero means [DefaultMaxOutput]. Output beyond
	// the cap keeps its head and tail around a marker saying how many bytes
	// were left out.
	MaxOutput int
	// KillGrace is the time between SIGTERM and SIGKILL when a command is
	// stopped; zero means [DefaultKillGrace].
	KillGrace time.Duration

	// Env is the base environment; nil means the environment of this
	// process when the executor is first used. EnvInclude, when non-empty, keeps only the variables whose
	// names match one of its patterns; EnvExclude drops matching names and
	// nil means [DefaultEnvExclude] (use an empty slice to drop nothing).
	// Patterns are [path.Match] globs matched case-insensitively. A
	// command's own Env is merged on top, unfiltered.
	Env        []string
	EnvInclude []string
	EnvExclude []string

	// Shell runs command lines as Shell -c LINE; "" means bash, or sh when
	// bash is not installed.
	Shell string

	// Logger receives debug logs of each command; nil discards them.
	Logger *slog.Logger

	once  sync.Once
	setup setup
}

// setup is what an Executor derives from its fields once.
type setup struct {
	err     error
	root    string // absolute, symbolic links resolved
	shell   string
	env     []string // the filtered base environment
	log     *slog.Logger
	sandbox SandboxMode
	box     *sandboxConfig // nil in DangerFullAccess mode
}

func (e *Executor) init() *setup {
	e.once.Do(func() { e.setup = e.prepare() })
	return &e.setup
}

func (e *Executor) prepare() setup {
	s := setup{log: e.Logger, sandbox: e.Sandbox}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.sandbox == "" {
		s.sandbox = WorkspaceWrite
	}
	fail := func(err error) setup { s.err = fmt.Errorf("shell: %w", err); return s }
	if e.Root == "" {
		return fail(errors.New("Executor.Root is empty"))
	}
	root, err := resolveDir(e.Root)
	if err != nil {
		return fail(fmt.Errorf("workspace root: %w", err))
	}
	s.root = root
	filter, err := newEnvFilter(e.EnvInclude, e.EnvExclude)
	if err != nil {
		return fail(err)
	}
	base := e.Env
	if base == nil {
		base = os.Environ()
	}
	s.env = filter.filter(base)
	s.shell = e.Shell
	if s.shell == "" {
		s.shell = "bash"
		if _, err := exec.LookPath("bash"); err != nil {
			s.shell = "sh"
		}
	}
	if s.shell, err = exec.LookPath(s.shell); err != nil {
		return fail(fmt.Errorf("shell: %w", err))
	}
	switch s.sandbox {
	case DangerFullAccess:
	case ReadOnly, WorkspaceWrite:
		deny, err := newDenyRules(e.DenyRead, homeOf(base))
		if err != nil {
			return fail(err)
		}
		box, err := newSandboxConfig(s.sandbox, root, e.WritableRoots, e.Network, deny)
		if err != nil {
			return fail(err)
		}
		s.box = box
	default:
		return fail(fmt.Errorf("unknown sandbox mode %q (want %q, %q or %q)", s.sandbox, ReadOnly, WorkspaceWrite, DangerFullAccess))
	}
	return s
}

// Command is one command for [Executor.Run]: either a shell command line
// (Line) or an argv executed directly (Args), not both.
type Command struct {
	Line string   // a command line run by the executor's shell
	Args []string // an argv; Args[0] is looked up in the command's PATH

	// Dir is the working directory, relative to the root or absolute; it
	// must be the root or below it. "" means the root.
	Dir string
	// Env is merged on top of the filtered base environment.
	Env map[string]string
	// Timeout bounds the command; zero means the executor's.
	Timeout time.Duration
	// MaxOutput caps stdout plus stderr in bytes; zero means the
	// executor's, and values above [MaxOutputLimit] are clamped.
	MaxOutput int
}

// Result is what a command did. A non-zero exit is a result, not an error.
type Result struct {
	Stdout string // valid UTF-8, capped
	Stderr string // valid UTF-8, capped
	// ExitCode is the exit status, or 128 plus the signal number when a
	// signal ended the command (as a shell reports it).
	ExitCode int
	TimedOut bool // the command's timeout stopped it
	// Omitted is the number of bytes of stdout and stderr left out by the
	// output cap.
	Omitted   int64
	Duration  time.Duration
	MaxOutput int // the cap that was applied
	// SandboxDenied reports that the sandboxed command failed with an
	// error the sandbox causes: permission denied or a read-only file
	// system on a path the sandbox confines (outside the writable
	// directories, or denied by [Executor.DenyRead]), or an unreachable
	// network. A note saying so, naming the deny-read rule if one blocked
	// the command, is appended to Stderr. See "Sandbox denials" in the
	// package documentation for the rule and its limits.
	SandboxDenied bool
}

// IdempotencyKeyEnv and AttemptEnv name the environment variables that
// carry a call's idempotency key and attempt number ([tools.Attempt]) to
// its command, when a durable driver runs it (the key is the same on every
// attempt of one call, in any process): a script can skip work it already
// did. They are absent when the loop runs each call once.
const (
	IdempotencyKeyEnv = "AGENTLOOP_IDEMPOTENCY_KEY"
	AttemptEnv        = "AGENTLOOP_ATTEMPT"
)

// Run runs one command and waits for it and its process group. When the
// command exits, or its timeout or ctx ends, the whole process group
// (children and grandchildren too) is stopped: SIGTERM first, SIGKILL after
// the executor's KillGrace. Processes that left the group are stopped
// too: see "No survivors" in the package documentation for how, in each
// mode. A command's background processes do not outlive it.
//
// Run returns an error when the command cannot start (bad directory, a
// program not found, a sandbox the kernel cannot provide) or when ctx ends
// before the command does; the partial result is returned with ctx's error.
func (e *Executor) Run(ctx context.Context, c Command) (Result, error) {
	s := e.init()
	if s.err != nil {
		return Result{}, s.err
	}
	if (c.Line == "") == (len(c.Args) == 0) {
		return Result{}, errors.New("shell: exactly one of Command.Line and Command.Args must be set")
	}
	dir, err := s.workdir(c.Dir)
	if err != nil {
		return Result{}, err
	}
	if c.Timeout < 0 || c.MaxOutput < 0 {
		return Result{}, errors.New("shell: negative Command.Timeout or Command.MaxOutput")
	}
	for k, v := range c.Env {
		if !validEnvName(k) {
			return Result{}, fmt.Errorf("shell: invalid environment variable name %q", k)
		}
		if strings.ContainsRune(v, 0) {
			return Result{}, fmt.Errorf("shell: environment variable %s contains a NUL byte", k)
		}
	}
	timeout := firstNonZero(c.Timeout, e.Timeout, DefaultTimeout)
	grace := firstNonZero(e.KillGrace, DefaultKillGrace)
	limit := min(firstNonZero(c.MaxOutput, e.MaxOutput, DefaultMaxOutput), MaxOutputLimit)

	argv := c.Args
	if c.Line != "" {
		argv = []string{s.shell, "-c", c.Line}
	}
	env := merge(s.env, c.Env)
	if at, ok := tools.AttemptFrom(ctx); ok && at.Key != "" {
		env = append(withoutVar(withoutVar(env, IdempotencyKeyEnv), AttemptEnv),
			IdempotencyKeyEnv+"="+at.Key, AttemptEnv+"="+strconv.Itoa(at.Number))
	}
	j, err := s.command(argv, dir, env, grace)
	if err != nil {
		return Result{}, err
	}
	defer j.cleanup()
	cmd := j.cmd

	killDelay := grace
	if j.reaper {
		// The helper applies the grace itself and then kills what is
		// left; give it the time to, as SIGKILL would leave orphans.
		killDelay += reaperMargin
	}
	res, err := run(ctx, cmd, timeout, killDelay, limit)
	if j.marker != "" && (!j.reaper || helperKilled(cmd)) {
		sweepMarked(j.marker)
	}
	if j.reaper && err == nil && res.ExitCode == helperFailed && strings.HasPrefix(res.Stderr, helperFailurePrefix) {
		// The reaper helper could not start the command; nothing ran.
		return Result{}, fmt.Errorf("shell: %s", strings.TrimSpace(strings.TrimPrefix(res.Stderr, helperFailurePrefix)))
	}
	if s.box != nil {
		var se *startError
		if errors.As(err, &se) {
			err = s.box.startError(err)
		}
		if err == nil && res.ExitCode == helperFailed && strings.HasPrefix(res.Stderr, helperFailurePrefix) {
			// The helper could not apply the sandbox; nothing ran.
			return Result{}, fmt.Errorf("shell: %w: %s", ErrSandboxUnavailable, strings.TrimSpace(strings.TrimPrefix(res.Stderr, helperFailurePrefix)))
		}
		if err == nil && !res.TimedOut && res.ExitCode != 0 {
			if f := s.box.failure(res.Stderr, dir, envValue(cmd.Env, "TMPDIR")); f.denied {
				res.SandboxDenied = true
				res.Stderr += s.box.denialNote()
				for _, n := range f.notes {
					res.Stderr += n + "\n"
				}
			}
		}
	}
	s.log.DebugContext(ctx, "shell command", "argv", argv, "dir", dir, "exit", res.ExitCode,
		"timed_out", res.TimedOut, "duration", res.Duration, "omitted", res.Omitted, "err", err)
	return res, err
}

// firstNonZero returns the first non-zero value.
func firstNonZero[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// reaperMargin is how much longer than the kill grace the executor waits for
// the reaper helper to stop a command before it kills the helper itself.
const reaperMargin = 2 * time.Second

// job is a command ready to start.
type job struct {
	cmd     *exec.Cmd
	cleanup func() // removes per-run state
	reaper  bool   // cmd is the reaper helper (DangerFullAccess with the helper hook)
	marker  string // the value of markerVar in an unsandboxed command's environment
}

// runs counts commands, for unique marker values.
var runs atomic.Uint64

// command builds the job for argv: through the sandbox helper in the
// sandboxed modes; in DangerFullAccess mode through the reaper helper when
// the program has the helper hook, else directly. Unsandboxed commands
// carry a unique marker in their environment for sweepMarked.
func (s *setup) command(argv []string, dir string, env []string, grace time.Duration) (job, error) {
	if s.box != nil {
		cmd, cleanup, err := s.box.command(argv, dir, env)
		return job{cmd: cmd, cleanup: cleanup}, err
	}
	path, err := lookPath(argv[0], env, dir)
	if err != nil {
		return job{}, err
	}
	j := job{cleanup: func() {}, marker: fmt.Sprintf("%d-%d-%d", os.Getpid(), runs.Add(1), time.Now().UnixNano())}
	env = append(withoutVar(env, markerVar), markerVar+"="+j.marker)
	j.cmd, j.reaper, err = reaperCommand(path, argv, dir, env, grace)
	if err != nil {
		return job{}, err
	}
	if !j.reaper {
		attr := &syscall.SysProcAttr{Setpgid: true}
		setPdeathsig(attr)
		j.cmd = &exec.Cmd{Path: path, Args: argv, Dir: dir, Env: env, SysProcAttr: attr}
	}
	return j, nil
}

// helperKilled reports whether the started helper died of a signal (and so
// could not stop the command's processes itself).
func helperKilled(cmd *exec.Cmd) bool {
	if cmd.ProcessState == nil {
		return false
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// lookPath finds file in the PATH of env, as the command's shell would.
func lookPath(file string, env []string, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("shell: %s: %w", file, err)
		}
		return p, nil
	}
	pathEnv := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("shell: %s: command not found in PATH", file)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("not an executable file")
	}
	return nil
}

// workdir resolves a command's directory and checks it is inside the root.
func (s *setup) workdir(d string) (string, error) {
	if d == "" {
		return s.root, nil
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(s.root, d)
	}
	dir, err := resolveDir(d)
	if err != nil {
		return "", fmt.Errorf("shell: working directory: %w", err)
	}
	if !within(s.root, dir) {
		return "", fmt.Errorf("shell: working directory %s is outside the workspace %s", d, s.root)
	}
	return dir, nil
}

// resolveDir returns the absolute, symlink-free form of an existing directory.
func resolveDir(d string) (string, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", err
	}
	r, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(r)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", d)
	}
	return r, nil
}

// within reports whether p is root or below it; both are clean and absolute.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// run starts cmd with its output captured and waits for it as [Executor.Run]
// describes.
func run(ctx context.Context, cmd *exec.Cmd, timeout, grace time.Duration, limit int) (Result, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return Result{}, fmt.Errorf("shell: %w", err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return Result{}, fmt.Errorf("shell: %w", err)
	}
	defer errR.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, outW, errW

	tctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimeout)
	defer cancel()
	start := time.Now()
	err = startLocked(cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		return Result{}, &startError{fmt.Errorf("shell: start %s: %w", cmd.Args[0], err)}
	}
	pgid := cmd.Process.Pid

	outCap, errCap := newCapture(limit), newCapture(limit)
	var readers sync.WaitGroup
	readers.Go(func() { drain(outR, outCap) })
	readers.Go(func() { drain(errR, errCap) })

	exited := make(chan struct{})
	go func() { // owned: always received from below
		proc.WaitExit(pgid)
		close(exited)
	}()
	defer releaseStarter(cmd)
	stopped := false
	select {
	case <-exited:
	case <-tctx.Done():
		stopped = true
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		select {
		case <-exited:
		case <-t.C:
		}
		t.Stop()
	}
	// The leader is gone (or stopped): nothing of its group may stay. The
	// leader is not reaped yet, so its pid cannot name another group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
	waitErr := cmd.Wait()
	dur := time.Since(start)

	drained := make(chan struct{})
	go func() { readers.Wait(); close(drained) }()
	t := time.NewTimer(pipeDrainDelay)
	select {
	case <-drained:
	case <-t.C:
		// A process outside the group holds the pipes: stop reading.
		_ = outR.SetReadDeadline(time.Now())
		_ = errR.SetReadDeadline(time.Now())
		<-drained
	}
	t.Stop()

	res := Result{Duration: dur, MaxOutput: limit, ExitCode: exitCode(cmd, waitErr)}
	ob, eb := splitBudget(limit, outCap.total, errCap.total)
	var o1, o2 int64
	res.Stdout, o1 = outCap.text(ob)
	res.Stderr, o2 = errCap.text(eb)
	res.Omitted = o1 + o2
	if stopped {
		if context.Cause(tctx) == errTimeout && ctx.Err() == nil {
			res.TimedOut = true
			return res, nil
		}
		return res, ctx.Err()
	}
	return res, nil
}

// starters holds, per started command, the channel that releases the OS
// thread that started it.
var starters sync.Map // *exec.Cmd -> chan struct{}

// startLocked starts cmd from an OS thread that stays alive (locked to a
// goroutine) until releaseStarter: the kernel delivers the parent-death
// signal when the thread that forked the process exits, so the command
// must not outlive that thread, only this process.
func startLocked(cmd *exec.Cmd) error {
	started := make(chan error, 1)
	release := make(chan struct{})
	go func() { // owned: released by releaseStarter, or at once on error
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			<-release
		}
	}()
	err := <-started
	if err == nil {
		starters.Store(cmd, release)
	}
	return err
}

func releaseStarter(cmd *exec.Cmd) {
	if ch, ok := starters.LoadAndDelete(cmd); ok {
		close(ch.(chan struct{}))
	}
}

// startError marks a failure to start a process.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// exitCode returns the exit status of a finished command, or 128 plus the
// signal that ended it.
func exitCode(cmd *exec.Cmd, err error) int {
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := cmd.ProcessState.ExitCode(); code >= 0 {
		return code
	}
	if err != nil {
		return 1
	}
	return 0
}

// envValue returns the value of the variable name in env.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if rest, ok := strings.CutPrefix(kv, name+"="); ok {
			v = rest
		}
	}
	return v
}
