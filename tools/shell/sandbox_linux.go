package shell

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"

	"github.com/agentloop/agentloop/tools/shell/internal/helper"
)

// minLandlockABI is the oldest Landlock ABI whose filesystem rights cover
// every write (ABI 3 adds truncate).
const minLandlockABI = 3

// helperFailed is the helper's exit status when it cannot apply the sandbox;
// its stderr then starts with helperFailurePrefix.
const (
	helperFailed        = helper.Failed
	helperFailurePrefix = helper.FailurePrefix
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
// no network) network namespaces. In that process the helper applies the
// Landlock rules and executes the command; it exits with status 126 if the
// sandbox cannot be applied. The helper takes over from a package
// initialiser of this package's internal helper package, which runs after
// the standard library's and before those of the program's other packages
// (see package [github.com/agentloop/agentloop/tools/shell/internal/helper]):
// the helper never reaches main, and packages with costly initialisers do
// not slow each command down. RunSandboxHelperIfRequested itself only
// records that the program accepts being re-executed as the helper, and
// returns at once. Without the call, sandboxed modes fail with
// [ErrSandboxUnavailable] instead of running the command unsandboxed.
//
// The initialisers of the standard library and of the few packages the
// helper imports run in the helper too: a program's own initialisers do
// not, as long as its packages sort after the helper's by import path or
// import a package that does (a test of this package checks it for its own
// test binary).
func RunSandboxHelperIfRequested() {
	helperInstalled.Store(true)
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
	// The private temp dir: one directory, created and removed per
	// command (directory operations are slow on some disks, so nothing
	// else is made per command).
	sweepOnce()
	tmp, err := os.MkdirTemp("", tmpPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, nil, fmt.Errorf("shell: private temp dir: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	spec := helper.Spec{Path: path, Writable: []string{tmp}, Network: b.network, ABI: b.abi}
	if b.mode == WorkspaceWrite {
		spec.Writable = append(spec.Writable, b.root)
		spec.Writable = append(spec.Writable, b.writable...)
	}
	if spec.Masks, err = b.masks(append([]string{b.root}, spec.Writable...)); err != nil {
		cleanup()
		return nil, nil, err
	}
	args, err := helper.Args("agentloop-sandbox", spec, argv)
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
		Args:        args,
		Dir:         dir,
		Env:         env,
		SysProcAttr: attr,
	}
	return cmd, cleanup, nil
}

// maskID is the user and group id that owns the masks of denied paths when
// running as root; it is left out of the sandbox's id mapping.
const maskID = 1<<32 - 2

// masks returns the mounts that hide the denied paths that exist (checked
// at each command), with the shared mask sources as their sources. A rule
// whose path holds one of keep (the workspace root, the writable roots, the
// private temp dir) is skipped: the workspace is never hidden, though a
// denied path inside it is.
func (b *sandboxConfig) masks(keep []string) ([]helper.Mask, error) {
	var out []helper.Mask
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
		src, err := maskSourceDir()
		if err != nil {
			return nil, err
		}
		source := src.file
		if fi.IsDir() {
			source = src.dir
		}
		out = append(out, helper.Mask{Target: target, Source: source})
	}
	return out, nil
}

// masksPrefix names the directory of a process's mask sources, and
// tmpPrefix a sandboxed command's private temp dir, each followed by the
// process's pid: what a killed process left behind is found by its pid.
const (
	masksPrefix = "agentloop-shell-masks-"
	tmpPrefix   = "agentloop-shell-tmp-"
)

// sweepOnce removes, on the first sandboxed command of a process, what
// processes that are gone left in the temp dir (a process killed with
// SIGKILL removes nothing).
var sweepOnce = sync.OnceFunc(func() { sweepStale(os.TempDir()) })

// maskSourceDir holds this process's mask sources: an empty directory and
// an empty file with mode 000 (owned by maskID as root), which every
// sandboxed command of the process bind-mounts over its denied paths. They
// are created once, as directory operations cost up to a millisecond each
// on some disks; nothing can change them from inside a sandbox (the
// system's temp dir is read-only there, and so is every mount). The
// directory stays until the process ends; the next process to create its
// own removes those of processes that are gone.
var maskSourceDir = sync.OnceValues(func() (maskSrc, error) {
	sweepOnce()
	base, err := os.MkdirTemp("", masksPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return maskSrc{}, fmt.Errorf("shell: deny-read masks: %w", err)
	}
	var src maskSrc
	if src.dir, err = newMask(base, true); err == nil {
		src.file, err = newMask(base, false)
	}
	if err != nil {
		_ = os.RemoveAll(base)
		return maskSrc{}, err
	}
	return src, nil
})

type maskSrc struct{ dir, file string }

// sweepStale removes the mask directories and private temp dirs under
// dir of processes that no longer exist.
func sweepStale(dir string) {
	for _, prefix := range []string{masksPrefix, tmpPrefix} {
		dirs, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
		for _, d := range dirs {
			pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), prefix), "-")
			p, err := strconv.Atoi(pid)
			if err != nil || p <= 0 {
				continue
			}
			if syscall.Kill(p, 0) == syscall.ESRCH {
				_ = os.RemoveAll(d)
			}
		}
	}
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
