package shell

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// helperArg is the hidden first argument that makes a program started by an
// Executor act as the sandbox helper.
const helperArg = "__agentloop_shell_sandbox_helper__"

// minLandlockABI is the oldest Landlock ABI whose filesystem rights cover
// every write (ABI 3 adds truncate).
const minLandlockABI = 3

// helperFailed is the helper's exit status when it cannot apply the sandbox;
// its stderr then starts with helperFailurePrefix.
const (
	helperFailed        = 126
	helperFailurePrefix = "agentloop sandbox: "
)

// helperInstalled is set by RunSandboxHelperIfRequested: re-executing this
// program as the helper is then known to be safe.
var helperInstalled atomic.Bool

// RunSandboxHelperIfRequested makes this program usable as the sandbox
// helper and the reaper helper. Programs that run commands in [ReadOnly] or
// [WorkspaceWrite] mode must call it first thing in main (and tests in
// TestMain, before m.Run); in [DangerFullAccess] mode the call is optional
// but makes sure no process a command starts outlives it (see "No
// survivors" in the package documentation):
//
//	func main() {
//		shell.RunSandboxHelperIfRequested()
//		...
//	}
//
// A sandboxed command is started by re-executing this program (through
// /proc/self/exe) with a hidden first argument, in fresh user, PID and (for
// no network) network namespaces. In that process RunSandboxHelperIfRequested
// applies the Landlock rules and executes the command; it never returns
// there, and exits with status 126 if the sandbox cannot be applied. In
// every other process it only records that the helper is available and
// returns at once. Without the call, sandboxed modes fail with
// [ErrSandboxUnavailable] instead of running the command unsandboxed.
//
// Package init functions of the program run in the helper too, before
// main: they must not have effects outside their own process (such as
// writing files or opening network connections). Code in main before the
// call runs in the helper as well, so make the call first.
func RunSandboxHelperIfRequested() {
	if len(os.Args) > 1 && os.Args[1] == helperArg {
		err := runHelper(os.Args[2:])
		fmt.Fprintf(os.Stderr, "%s%v\n", helperFailurePrefix, err)
		os.Exit(helperFailed)
	}
	helperInstalled.Store(true)
}

// helperSpec is what the parent tells the helper, as JSON in argv.
type helperSpec struct {
	Path     string   // the program to execute, absolute
	Writable []string // directories writable (besides a few device files)
	Network  bool
	ABI      int // the kernel's Landlock ABI, as probed by the parent

	// Masks are bind-mounted over denied paths: an unreadable directory or
	// file each (see maskSources).
	Masks []maskSpec

	// Reaper runs the command unsandboxed, with the helper as its child
	// subreaper (see reap); Grace is the time between a stopping signal
	// and SIGKILL.
	Reaper bool
	Grace  time.Duration
}

// maskSpec hides Target behind Source, a directory or file of the same kind
// that no one in the sandbox can read.
type maskSpec struct {
	Target, Source string
}

func jsonSpec(spec helperSpec) (string, error) {
	js, err := json.Marshal(spec)
	return string(js), err
}

// runHelper applies the sandbox to this thread and executes the command.
// It returns only on failure.
func runHelper(args []string) error {
	if len(args) < 2 {
		return errors.New("helper: missing arguments")
	}
	var spec helperSpec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	argv := args[1:]
	if spec.Reaper {
		return reap(spec, argv)
	}
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
func supervise(path string, argv []string) error {
	sigs := make(chan os.Signal, 4)
	// Handled (not ignored) signals are reset to their default on exec, so
	// the command sees SIGTERM as usual.
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	go func() {
		for sig := range sigs {
			_ = syscall.Kill(pid, sig.(syscall.Signal))
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
func readOnlyMounts(writable []string, masks []maskSpec) error {
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

// sandboxConfig is the sandbox set-up of one executor.
type sandboxConfig struct {
	mode     SandboxMode
	root     string
	writable []string // extra writable roots, resolved
	network  bool
	abi      int
	deny     []denyRule
}

func newSandboxConfig(mode SandboxMode, root string, writable []string, network bool, deny []denyRule) (*sandboxConfig, error) {
	if !helperInstalled.Load() {
		return nil, fmt.Errorf("%w: %s mode needs the sandbox helper: call shell.RunSandboxHelperIfRequested at the start of main (and TestMain)", ErrSandboxUnavailable, mode)
	}
	abi, err := ll.LandlockGetABIVersion()
	if err != nil || abi < minLandlockABI {
		return nil, fmt.Errorf("%w: %s mode needs Landlock ABI %d or later (kernel 6.2+, enabled at boot); this kernel has ABI %d", ErrSandboxUnavailable, mode, minLandlockABI, max(abi, 0))
	}
	b := &sandboxConfig{mode: mode, root: root, network: network, abi: abi, deny: deny}
	if mode == WorkspaceWrite {
		for _, w := range writable {
			d, err := resolveDir(w)
			if err != nil {
				return nil, fmt.Errorf("writable root: %w", err)
			}
			b.writable = append(b.writable, d)
		}
	}
	return b, nil
}

// command returns the helper command that runs argv in the sandbox, and a
// cleanup that removes the command's private temporary directory.
func (b *sandboxConfig) command(argv []string, dir string, env []string) (*exec.Cmd, func(), error) {
	path, err := lookPath(argv[0], env, dir)
	if err != nil {
		return nil, nil, err
	}
	// base holds the private temp dir and the masks of denied paths; it is
	// not writable in the sandbox.
	base, err := os.MkdirTemp("", "agentloop-shell-")
	if err != nil {
		return nil, nil, fmt.Errorf("shell: private temp dir: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(base) }
	tmp := filepath.Join(base, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("shell: private temp dir: %w", err)
	}
	spec := helperSpec{Path: path, Writable: []string{tmp}, Network: b.network, ABI: b.abi}
	if b.mode == WorkspaceWrite {
		spec.Writable = append(spec.Writable, b.root)
		spec.Writable = append(spec.Writable, b.writable...)
	}
	if spec.Masks, err = b.masks(base, append([]string{b.root}, spec.Writable...)); err != nil {
		cleanup()
		return nil, nil, err
	}
	js, err := json.Marshal(spec)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	env = append(withoutVar(env, "TMPDIR"), "TMPDIR="+tmp)

	attr := &syscall.SysProcAttr{
		Setpgid:    true,
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
	}
	setPdeathsig(attr)
	if !b.network {
		attr.Cloneflags |= syscall.CLONE_NEWNET
	}
	// Map ids onto themselves so files keep their owners. As root the
	// whole range is mapped: the command stays root inside the namespace,
	// but its capabilities no longer reach outside it (and Landlock
	// applies to root like anyone else).
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		// All but maskID, which owns the masks of denied paths: root in
		// the namespace has no capability over an inode whose owner is not
		// mapped, so it cannot read a mask either.
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: maskID}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: maskID}}
		attr.GidMappingsEnableSetgroups = true
	} else {
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		// A non-root helper keeps CAP_SYS_ADMIN of its own user namespace
		// across the exec to set up its mounts; it drops it before running
		// the command.
		attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN}
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        append([]string{"agentloop-sandbox", helperArg, string(js)}, argv...),
		Dir:         dir,
		Env:         env,
		SysProcAttr: attr,
	}
	return cmd, cleanup, nil
}

// maskID is the user and group id that owns the masks of denied paths when
// running as root; it is left out of the sandbox's id mapping.
const maskID = 1<<32 - 2

// masks returns the mounts that hide the denied paths that exist, creating
// their sources in base: a directory and a file with mode 000 (owned by
// maskID as root). A rule whose path holds one of keep (the workspace root,
// the writable roots, the private temp dir) is skipped: the workspace is
// never hidden, though a denied path inside it is.
func (b *sandboxConfig) masks(base string, keep []string) ([]maskSpec, error) {
	var out []maskSpec
	var dirSrc, fileSrc string
	for _, r := range b.deny {
		target, err := filepath.EvalSymlinks(r.path)
		if err != nil {
			continue // missing: nothing to hide
		}
		if slices.ContainsFunc(keep, func(k string) bool { return within(target, k) }) {
			continue
		}
		fi, err := os.Stat(target)
		if err != nil {
			continue
		}
		src := &fileSrc
		if fi.IsDir() {
			src = &dirSrc
		}
		if *src == "" {
			if *src, err = newMask(base, fi.IsDir()); err != nil {
				return nil, err
			}
		}
		out = append(out, maskSpec{Target: target, Source: *src})
	}
	return out, nil
}

// newMask creates the unreadable directory or file that hides denied paths.
func newMask(base string, dir bool) (string, error) {
	p := filepath.Join(base, "denied-file")
	var err error
	if dir {
		p = filepath.Join(base, "denied-dir")
		err = os.Mkdir(p, 0)
	} else {
		err = os.WriteFile(p, nil, 0)
	}
	if err == nil {
		err = os.Chmod(p, 0) // whatever the umask
	}
	if err == nil && os.Getuid() == 0 {
		err = os.Chown(p, maskID, maskID)
	}
	if err != nil {
		return "", fmt.Errorf("shell: deny-read mask: %w", err)
	}
	return p, nil
}

// startError explains a failure to start the helper process: without user
// namespaces the kernel refuses the clone.
func (b *sandboxConfig) startError(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EUSERS) {
		return fmt.Errorf("%w: %s mode needs user, PID and network namespaces: %v", ErrSandboxUnavailable, b.mode, err)
	}
	return err
}

// failure tells whether a command that failed in this sandbox, in dir, was
// blocked by it (see classify).
func (b *sandboxConfig) failure(stderr, dir, tmp string) sandboxFailure {
	w := []string{tmp, "/dev"}
	if b.mode == WorkspaceWrite {
		w = append(w, b.root)
		w = append(w, b.writable...)
	}
	return classify(stderr, dir, w, b.deny, b.network)
}

// denialNote is appended to the stderr of a command that failed the way a
// sandbox denial does.
func (b *sandboxConfig) denialNote() string {
	var w string
	if b.mode == WorkspaceWrite {
		w = "writes are allowed only under " + strings.Join(append([]string{b.root}, b.writable...), ", ") + " and $TMPDIR"
	} else {
		w = "writes are allowed only under $TMPDIR"
	}
	net := "network access is blocked"
	if b.network {
		net = "network access is allowed"
	}
	return fmt.Sprintf("\n[sandbox: this command ran in %s mode: %s; %s. The error above may come from the sandbox.]\n", b.mode, w, net)
}
