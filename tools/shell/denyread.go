package shell

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// DefaultDenyRead returns the paths that sandboxed commands cannot read by
// default: the user's credential stores under home (~/.ssh, ~/.gnupg,
// ~/.aws, ~/.config/gcloud, ~/.azure, ~/.kube, ~/.docker/config.json,
// ~/.netrc, ~/.git-credentials), the shadow password files (/etc/shadow,
// /etc/gshadow and their backups ending in "-") and, when stateDir is not
// empty, the calling program's own state directory (its credentials and
// sessions). An empty home leaves out the paths under it.
//
// Use it to fill [Executor.DenyRead] together with paths of your own:
//
//	x.DenyRead = append(shell.DefaultDenyRead(home, stateDir), "/srv/secrets")
func DefaultDenyRead(home, stateDir string) []string {
	var out []string
	if home != "" {
		for _, p := range []string{".ssh", ".gnupg", ".aws", ".config/gcloud", ".azure", ".kube",
			".docker/config.json", ".netrc", ".git-credentials"} {
			out = append(out, filepath.Join(home, p))
		}
	}
	out = append(out, "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-")
	if stateDir != "" {
		out = append(out, filepath.Clean(stateDir))
	}
	return out
}

// denyRule is one entry of Executor.DenyRead.
type denyRule struct {
	name string // as the user wrote it, with home shown as ~
	path string // absolute and clean
}

// newDenyRules checks and expands the deny-read list; home replaces a
// leading "~/". A nil list means DefaultDenyRead(home, "").
func newDenyRules(list []string, home string) ([]denyRule, error) {
	if list == nil {
		list = DefaultDenyRead(home, "")
	}
	var out []denyRule
	for _, p := range list {
		abs := p
		if rest, ok := strings.CutPrefix(p, "~/"); ok {
			if home == "" {
				return nil, fmt.Errorf("deny-read path %q: no HOME to expand ~ with", p)
			}
			abs = filepath.Join(home, rest)
		}
		if !filepath.IsAbs(abs) {
			return nil, fmt.Errorf("deny-read path %q is not absolute (write /abs/path or ~/path)", p)
		}
		abs = filepath.Clean(abs)
		name := abs
		if home != "" && within(home, abs) && abs != home {
			name = "~/" + strings.TrimPrefix(abs, strings.TrimSuffix(home, "/")+"/")
		}
		out = append(out, denyRule{name: name, path: abs})
	}
	return out, nil
}

// homeOf returns HOME from env, else this user's home directory.
func homeOf(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "HOME="); ok && filepath.IsAbs(v) {
			return filepath.Clean(v)
		}
	}
	h, _ := os.UserHomeDir()
	return h
}

// deniedByTail returns the rule whose last path element is the first of the
// relative path rel (skipping leading "./" and "../").
func deniedByTail(rules []denyRule, rel string) (denyRule, bool) {
	first := ""
	for _, e := range strings.Split(filepath.ToSlash(filepath.Clean(rel)), "/") {
		if e != "." && e != ".." {
			first = e
			break
		}
	}
	for _, r := range rules {
		if first != "" && filepath.Base(r.path) == first {
			return r, true
		}
	}
	return denyRule{}, false
}

// deniedBy returns the rule that denies reading p (absolute and clean).
func deniedBy(rules []denyRule, p string) (denyRule, bool) {
	for _, r := range rules {
		if within(r.path, p) {
			return r, true
		}
		// The rule's target when it is a symbolic link (e.g. ~/.ssh -> /data/ssh).
		if t, err := filepath.EvalSymlinks(r.path); err == nil && t != r.path && within(t, p) {
			return r, true
		}
	}
	return denyRule{}, false
}

// Sandbox denials are told from other failures by the command's stderr;
// see "Sandbox denials" in the package documentation.
var (
	rofsPhrases = []string{"read-only file system"}
	permPhrases = []string{"permission denied", "operation not permitted"}
	netPhrases  = []string{"network is unreachable", "temporary failure in name resolution", "could not resolve host"}
)

// sandboxFailure is what classify learned from a failed command's stderr.
type sandboxFailure struct {
	denied bool     // the sandbox blocked something the command tried
	notes  []string // one line per deny-read rule that blocked a read
}

// classify reads the stderr of a command that failed in a sandbox whose
// writable directories are writable (the command's working directory was
// dir) and tells whether the failure was the sandbox's: a line with a
// read-only file system, permission or network error (network only when
// the sandbox has none) that names a path the sandbox confines: one under
// a deny-read rule; one outside the writable directories, where the error
// is EROFS, or EACCES/EPERM on a path this process could write (so the
// file's own permissions did not cause it). A read-only file system error
// that names no path counts too.
func classify(stderr, dir string, writable []string, deny []denyRule, network bool) sandboxFailure {
	var f sandboxFailure
	seen := map[string]bool{}
	for line := range strings.Lines(stderr) {
		lower := strings.ToLower(line)
		if !network && containsAny(lower, netPhrases) {
			f.denied = true
			continue
		}
		rofs := containsAny(lower, rofsPhrases)
		if !rofs && !containsAny(lower, permPhrases) {
			continue
		}
		paths := pathsIn(line)
		if len(paths) == 0 && rofs {
			f.denied = true
		}
		for _, p := range paths {
			rel := ""
			if !filepath.IsAbs(p) {
				rel = p
				p = filepath.Join(dir, p)
			}
			p = filepath.Clean(p)
			r, ok := deniedBy(deny, p)
			if !ok && rel != "" {
				// The command may have changed directory: a relative
				// path that starts with a rule's last element (.ssh/id)
				// is taken to be under that rule.
				r, ok = deniedByTail(deny, rel)
			}
			if ok {
				f.denied = true
				if !seen[r.name] {
					seen[r.name] = true
					f.notes = append(f.notes, fmt.Sprintf("[sandbox: reading %s is denied by the deny-read rule %s]", p, r.name))
				}
				continue
			}
			if slices.ContainsFunc(writable, func(w string) bool { return within(w, p) }) {
				continue
			}
			if rofs || hostWritable(p) {
				f.denied = true
			}
		}
	}
	return f
}

func containsAny(s string, subs []string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// pathsIn returns the paths an error line names: its quoted strings ('…',
// "…", ‘…’, “…”, `…') and its words that contain a slash.
func pathsIn(line string) []string {
	var out []string
	rest := line
	for {
		i := strings.IndexAny(rest, "'\"‘“`")
		if i < 0 {
			break
		}
		open, size := utf8.DecodeRuneInString(rest[i:])
		closer := map[rune]string{'\'': "'", '"': "\"", '‘': "’", '“': "”", '`': "'"}[open]
		j := strings.Index(rest[i+size:], closer)
		if j < 0 {
			break
		}
		if q := rest[i+size : i+size+j]; q != "" && !strings.ContainsAny(q, "\n") {
			out = append(out, q)
		}
		rest = rest[i+size+j+len(closer):]
	}
	for _, w := range strings.Fields(line) {
		w = strings.Trim(w, ":,;()[]'\"‘’“”`")
		if strings.Contains(w, "/") && !strings.Contains(w, "://") {
			out = append(out, w)
		}
	}
	return out
}

// hostWritable reports whether this process may write p, or create it in
// its nearest existing parent directory.
func hostWritable(p string) bool {
	for {
		if _, err := os.Lstat(p); err == nil {
			return accessWrite(p)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return false
		}
		p = parent
	}
}

func accessWrite(p string) bool { return unix.Access(p, unix.W_OK) == nil }

// MatchDenyRead reports whether path (absolute) is denied by the deny-read
// list (as [Executor.DenyRead]: absolute paths or "~/" ones, expanded with
// home; nil means [DefaultDenyRead](home, "")), and returns the rule that
// denies it as a note would name it ("~/.ssh"). Symbolic links in the
// rules are followed; path is taken as given. Other tools that read files
// for the model, such as apply_patch, use it to honour the same list.
func MatchDenyRead(list []string, home, path string) (rule string, denied bool, err error) {
	rules, err := newDenyRules(list, home)
	if err != nil {
		return "", false, err
	}
	r, ok := deniedBy(rules, filepath.Clean(path))
	return r.name, ok, nil
}
