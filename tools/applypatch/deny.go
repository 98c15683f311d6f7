package applypatch

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// ErrReadDenied: the path matches one of Options.DenyRead, so a patch may
// neither read nor write it. The error names the rule.
var ErrReadDenied = errors.New("access denied by the deny-read rule")

// denyRule is one entry of Options.DenyRead.
type denyRule struct {
	rule    string // as the caller gave it, for the error
	pattern string // clean, slash-separated, absolute
	literal bool   // no pattern syntax: compare, do not match
}

// newDenyRules validates the DenyRead entries.
func newDenyRules(entries []string) ([]denyRule, error) {
	var rules []denyRule
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e, "~"):
			return nil, fmt.Errorf("applypatch: deny-read path %q: expand ~ to the home directory first", e)
		case e == "" || !filepath.IsAbs(e):
			return nil, fmt.Errorf("applypatch: deny-read path %q: want an absolute path or an absolute doublestar pattern", e)
		}
		p := filepath.ToSlash(filepath.Clean(e))
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("applypatch: deny-read path %q: invalid doublestar pattern", e)
		}
		literal := !strings.ContainsAny(p, `*?[{\`)
		rules = append(rules, denyRule{rule: e, pattern: p, literal: literal})
	}
	return rules, nil
}

// denied returns the error for name (a clean slash path inside the
// workspace) when a deny-read rule covers it, nil otherwise.
//
// A rule covers the path it names and everything under it: name is denied
// when the rule matches the absolute path of name or of one of its parent
// directories below the root. The root and its ancestors are never
// matched, so a rule naming the home directory does not deny a workspace
// inside it. name is checked twice: as written under the root, and with
// the symbolic links of its existing parent directories resolved, so that
// an in-workspace link to a denied directory does not get round a rule.
func (w *Workspace) denied(name string) error {
	if len(w.deny) == 0 {
		return nil
	}
	if r := w.matchDeny(w.dir, name); r != "" {
		return fmt.Errorf("%w %q", ErrReadDenied, r)
	}
	if root, rel, ok := w.resolve(name); ok {
		if r := w.matchDeny(root, rel); r != "" {
			return fmt.Errorf("%w %q", ErrReadDenied, r)
		}
	}
	return nil
}

// matchDeny returns the first rule that matches root/rel or one of its
// parents below root.
func (w *Workspace) matchDeny(root, rel string) string {
	root = filepath.ToSlash(root)
	for i := 1; i <= len(rel); i++ {
		if i < len(rel) && rel[i] != '/' {
			continue
		}
		abs := path.Join(root, rel[:i])
		for _, r := range w.deny {
			if r.literal && abs == r.pattern {
				return r.rule
			}
			if !r.literal {
				if ok, _ := doublestar.Match(r.pattern, abs); ok {
					return r.rule
				}
			}
		}
	}
	return ""
}

// resolve returns name with the symbolic links of its longest existing
// parent directory resolved, relative to the resolved root. ok is false
// when that cannot be told, or when the result lies outside the root
// (which the os.Root refuses anyway).
func (w *Workspace) resolve(name string) (root, rel string, ok bool) {
	dir, rest := path.Dir(name), path.Base(name)
	for {
		real, err := filepath.EvalSymlinks(filepath.Join(w.dir, filepath.FromSlash(dir)))
		if err == nil {
			r, err := filepath.Rel(w.realDir, real)
			if err != nil || !filepath.IsLocal(r) && r != "." {
				return "", "", false
			}
			return w.realDir, path.Join(filepath.ToSlash(r), rest), true
		}
		if dir == "." {
			return "", "", false
		}
		dir, rest = path.Dir(dir), path.Join(path.Base(dir), rest)
	}
}
