package applypatch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/bmatcuk/doublestar/v4"
)

// defaultProtect lists the patterns a Workspace refuses to write unless
// Options.NoDefaultProtect is set: git's metadata, at any depth.
var defaultProtect = []string{"**/.git/**"}

// Options configures a [Workspace]. The zero value (or a nil *Options)
// allows writes anywhere under the root except in git's metadata
// ("**/.git/**", at any depth).
type Options struct {
	// Protect lists doublestar patterns (slash-separated, relative to the
	// root, as in "secrets/**" or "**/*.pem") of paths that may not be
	// written, added, moved or deleted, in addition to "**/.git/**".
	Protect []string
	// NoDefaultProtect drops the "**/.git/**" default, leaving only Protect.
	NoDefaultProtect bool
	// Writable, when not empty, lists the only patterns a patch may touch.
	Writable []string
	// DenyRead lists paths of the machine that a patch may neither read
	// nor write, as in the sandbox's deny-read list: absolute paths (the
	// caller expands a leading ~) or absolute doublestar patterns, such as
	// "/home/me/.ssh" or "/home/me/**/.env". An entry denies the path it
	// names and everything under it; a patch that touches such a file, to
	// add, update, delete or move it, fails with [ErrReadDenied] naming the
	// entry, and changes nothing. Only files inside the root can be patched
	// at all, so only entries that reach inside it matter; an entry that is
	// the root or one of its parents (the home directory) never denies the
	// workspace. Symbolic links to directories inside the root are
	// resolved before matching; hard links are not detected.
	DenyRead []string
	// Logger receives a debug record per file written; nil discards.
	Logger *slog.Logger
}

// Workspace applies patches to the files under one directory, through an
// [os.Root]: absolute paths, ".." escapes and symbolic links that lead out
// of the directory are refused. A patch is checked completely (paths,
// policy, every hunk of every file) before the first file is written;
// each file is written atomically (a temporary file in the same directory,
// then a rename) and keeps its permission bits; if a write fails part-way,
// the files already written are restored.
//
// A Workspace is safe for concurrent use; patches are applied one at a
// time.
type Workspace struct {
	dir      string
	realDir  string // dir with symbolic links resolved, for DenyRead
	protect  []string
	writable []string
	deny     []denyRule
	log      *slog.Logger

	mu sync.Mutex
	// hook, when set by tests, runs before each file is renamed into place
	// or removed; an error makes that step fail.
	hook      func(op, path string) error
	restoring bool
}

// NewWorkspace returns a Workspace rooted at dir, which must be an
// existing directory. It returns an error for an invalid pattern in opts.
// A nil opts uses the defaults described at [Options].
func NewWorkspace(dir string, opts *Options) (*Workspace, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("applypatch: workspace %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("applypatch: workspace: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("applypatch: workspace %s is not a directory", dir)
	}
	w := &Workspace{dir: abs, log: o.Logger}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if !o.NoDefaultProtect {
		w.protect = append(w.protect, defaultProtect...)
	}
	w.protect = append(w.protect, o.Protect...)
	w.writable = append(w.writable, o.Writable...)
	if err := validatePatterns(w.protect); err != nil {
		return nil, err
	}
	if err := validatePatterns(w.writable); err != nil {
		return nil, err
	}
	if w.deny, err = newDenyRules(o.DenyRead); err != nil {
		return nil, err
	}
	w.realDir = abs
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		w.realDir = real
	}
	return w, nil
}

func validatePatterns(ps []string) error {
	for _, p := range ps {
		if p == "" || strings.HasPrefix(p, "/") || !doublestar.ValidatePattern(p) {
			return fmt.Errorf("applypatch: invalid path pattern %q: want a relative, slash-separated doublestar pattern", p)
		}
	}
	return nil
}

func matchAny(ps []string, name string) bool {
	for _, p := range ps {
		if ok, _ := doublestar.Match(p, name); ok {
			return true
		}
	}
	return false
}

// Dir returns the workspace's absolute root directory.
func (w *Workspace) Dir() string { return w.dir }

// check applies the path policy to a clean path.
func (w *Workspace) check(p string) error {
	if matchAny(w.protect, p) {
		return ErrProtected
	}
	if len(w.writable) > 0 && !matchAny(w.writable, p) {
		return fmt.Errorf("%w: not in the writable paths", ErrProtected)
	}
	return nil
}

// Result is what a patch did, or would do.
type Result struct {
	Changes []FileChange
}

// Paths returns the paths the patch touches (a moved file's old and new
// path), sorted.
func (r *Result) Paths() []string {
	var ps []string
	for _, c := range r.Changes {
		if c.From != "" {
			ps = append(ps, c.From)
		}
		ps = append(ps, c.Path)
	}
	sort.Strings(ps)
	return ps
}

// Diff returns the unified diff of every change, in patch order.
func (r *Result) Diff() string {
	var b strings.Builder
	for i := range r.Changes {
		b.WriteString(r.Changes[i].Diff())
	}
	return b.String()
}

// Summary returns the short report sent to the model: one line per file,
// A (added), M (modified or moved) or D (deleted), with the lines added and
// removed.
func (r *Result) Summary() string {
	var b strings.Builder
	b.WriteString("Success. Updated the following files:\n")
	for _, c := range r.Changes {
		name := c.Path
		if c.From != "" {
			name = c.From + " -> " + c.Path
		}
		fmt.Fprintf(&b, "%s %s (+%d -%d)\n", c.Kind.letter(), name, c.Added, c.Removed)
	}
	return b.String()
}

// DryRun checks p against the files on disk and returns what Apply would
// do, without writing anything.
func (w *Workspace) DryRun(ctx context.Context, p *Patch) (*Result, error) {
	return w.apply(ctx, p, true, nil)
}

// Apply applies p: all of it, or, on error, none of it. ctx is checked
// before reading and before writing; once writing has started it runs to
// the end (or to the restore of what it wrote).
func (w *Workspace) Apply(ctx context.Context, p *Patch) (*Result, error) {
	return w.apply(ctx, p, false, nil)
}

// maxFileSize bounds the files a patch may read.
const maxFileSize = 256 << 20

// orig is what a file was before the patch.
type orig struct {
	content string
	mode    fs.FileMode
}

func (w *Workspace) apply(ctx context.Context, p *Patch, dry bool, verify func(*Result) error) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return nil, fmt.Errorf("applypatch: open workspace: %w", err)
	}
	defer root.Close()

	origs := map[string]orig{}
	load := func(name string) (string, bool, error) {
		if err := w.denied(name); err != nil {
			return "", false, err
		}
		if err := w.check(name); err != nil {
			return "", false, err
		}
		fi, err := root.Lstat(filepath.FromSlash(name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", false, nil
		case errors.Is(err, syscall.ENOTDIR):
			return "", false, parentFile(root, name, err)
		case err != nil:
			return "", false, rootErr(err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", false, fmt.Errorf("%w: it is a symbolic link; patch the file it points to", ErrNotRegular)
		case fi.IsDir():
			return "", false, errIsDir
		case !fi.Mode().IsRegular():
			return "", false, ErrNotRegular
		case fi.Size() > maxFileSize:
			return "", false, fmt.Errorf("file too large to patch (%d bytes, limit %d)", fi.Size(), maxFileSize)
		}
		b, err := root.ReadFile(filepath.FromSlash(name))
		if err != nil {
			return "", false, rootErr(err)
		}
		origs[name] = orig{content: string(b), mode: fi.Mode().Perm()}
		return string(b), true, nil
	}
	changes, err := plan(p, load)
	if err != nil {
		return nil, err
	}
	res := &Result{Changes: changes}
	if verify != nil {
		if err := verify(res); err != nil {
			return nil, err
		}
	}
	if dry {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := w.write(root, changes, origs); err != nil {
		return nil, err
	}
	return res, nil
}

// parentFile returns the error for name, whose lookup failed with err
// (ENOTDIR): [ErrNotDir] naming the first parent that is not a directory.
func parentFile(root *os.Root, name string, err error) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/")
		if fi, serr := root.Stat(filepath.FromSlash(d)); serr == nil && !fi.IsDir() {
			return notDir(d)
		}
	}
	return rootErr(err)
}

// rootErr turns an os.Root escape into ErrPath. The os package has no
// exported error for it, so its message is the only way to tell.
func rootErr(err error) error {
	if strings.Contains(err.Error(), "escapes") {
		return fmt.Errorf("%w (%v)", ErrPath, err)
	}
	return err
}

// undo is one step that reverses a write.
type undo struct {
	name string
	fn   func() error
}

// write performs the changes, restoring what it already did if a step
// fails.
func (w *Workspace) write(root *os.Root, changes []FileChange, origs map[string]orig) (err error) {
	var undos []undo
	defer func() {
		if err == nil {
			return
		}
		var failed []string
		w.restoring = true
		defer func() { w.restoring = false }()
		for i := len(undos) - 1; i >= 0; i-- {
			if uerr := undos[i].fn(); uerr != nil {
				w.log.Error("applypatch: restore failed", "path", undos[i].name, "err", uerr)
				failed = append(failed, undos[i].name)
			}
		}
		if len(failed) > 0 {
			err = fmt.Errorf("%w; restoring failed for %s", err, strings.Join(failed, ", "))
		} else if len(undos) > 0 {
			err = fmt.Errorf("%w; every file written before was restored", err)
		}
	}()
	remove := func(name string) error {
		o := origs[name]
		if err := w.step("remove", name, func() error { return root.Remove(filepath.FromSlash(name)) }); err != nil {
			return &OpError{Kind: Delete, Path: name, Err: err}
		}
		undos = append(undos, undo{name, func() error { return w.writeFile(root, name, o.content, o.mode, true) }})
		w.log.Debug("applypatch: removed", "path", name)
		return nil
	}
	for _, c := range changes {
		if c.Kind == Delete {
			if err := remove(c.Path); err != nil {
				return err
			}
			continue
		}
		src := c.Path
		if c.From != "" {
			src = c.From
		}
		o, existed := origs[src]
		mode, keep := fs.FileMode(0o644), false
		if existed {
			mode, keep = o.mode, true
		}
		created, err := w.mkdirs(root, path.Dir(c.Path))
		if err != nil {
			return &OpError{Kind: c.Kind, Path: c.Path, Err: err}
		}
		for _, d := range created { // outermost first, so undone last
			undos = append(undos, undo{d, func() error { return root.Remove(filepath.FromSlash(d)) }})
		}
		if err := w.writeFile(root, c.Path, c.New, mode, keep); err != nil {
			return &OpError{Kind: c.Kind, Path: c.Path, Err: err}
		}
		name := c.Path
		if prev, ok := origs[name]; ok {
			undos = append(undos, undo{name, func() error { return w.writeFile(root, name, prev.content, prev.mode, true) }})
		} else {
			undos = append(undos, undo{name, func() error { return root.Remove(filepath.FromSlash(name)) }})
		}
		w.log.Debug("applypatch: wrote", "path", name, "added", c.Added, "removed", c.Removed)
		if c.From != "" {
			if err := remove(c.From); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Workspace) step(op, name string, fn func() error) error {
	if w.hook != nil && !w.restoring {
		if err := w.hook(op, name); err != nil {
			return err
		}
	}
	return fn()
}

// mkdirs creates the missing directories of dir and returns them,
// outermost first.
func (w *Workspace) mkdirs(root *os.Root, dir string) ([]string, error) {
	var missing []string
	for d := dir; d != "." && d != "/"; d = path.Dir(d) {
		fi, err := root.Stat(filepath.FromSlash(d))
		if err == nil {
			if !fi.IsDir() {
				return nil, fmt.Errorf("%s is not a directory", d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, rootErr(err)
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := root.Mkdir(filepath.FromSlash(missing[i]), 0o755); err != nil {
			return nil, rootErr(err)
		}
	}
	for i, j := 0, len(missing)-1; i < j; i, j = i+1, j-1 {
		missing[i], missing[j] = missing[j], missing[i]
	}
	return missing, nil
}

// writeFile writes content to name atomically: a temporary file in the
// same directory, synced, then renamed over name. With keepMode the file
// gets exactly mode; otherwise mode filtered by the umask.
func (w *Workspace) writeFile(root *os.Root, name, content string, mode fs.FileMode, keepMode bool) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	dir, base := path.Split(name)
	tmp := filepath.FromSlash(dir + "." + base + ".applypatch-" + hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return rootErr(err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && keepMode {
		err = root.Chmod(tmp, mode)
	}
	if err == nil {
		err = w.step("rename", name, func() error { return root.Rename(tmp, filepath.FromSlash(name)) })
	}
	if err != nil {
		_ = root.Remove(tmp)
		return err
	}
	return nil
}
