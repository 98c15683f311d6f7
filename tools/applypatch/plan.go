package applypatch

import (
	"path"
	"strings"
)

// FileChange is the effect of a patch on one file.
type FileChange struct {
	Kind Kind   // Add, Update (a move is an Update with From set) or Delete
	Path string // the file written, or deleted
	From string // for a moved file, the path it was moved from (and deleted)
	Old  string // the content before; empty for Add
	New  string // the content after; empty for Delete

	// Added and Removed count the lines the change adds and removes.
	Added, Removed int

	edits []edit // the exact edits when one update made the change
}

// state is the content of one path while a patch is planned.
type state struct {
	content string
	exists  bool
	origin  string // the original path whose file this content continues
	edits   []edit // edits from the original, while exactly one update made them
	updates int
}

// loader reads an original file; exists is false for a missing file. It
// returns an error for files that cannot be patched (directories, links).
type loader func(path string) (content string, exists bool, err error)

// plan computes the effect of p on the files load returns, without
// writing anything. Operations apply in order, each to the result of the
// previous ones. It returns the changes in the order their paths were
// first touched.
func plan(p *Patch, load loader) ([]FileChange, error) {
	if p == nil || len(p.Ops) == 0 {
		return nil, parseErr(0, "the patch contains no file operations")
	}
	orig := map[string]state{}
	cur := map[string]*state{}
	var order []string
	get := func(path string) (*state, error) {
		if s, ok := cur[path]; ok {
			return s, nil
		}
		c, ok, err := load(path)
		if err != nil {
			return nil, err
		}
		s := state{content: c, exists: ok, origin: path}
		orig[path] = s
		cur[path] = &s
		order = append(order, path)
		return &s, nil
	}
	// conflict checks that a file may be created at name given what the
	// patch did so far: no parent of it is a file, and it is not the
	// directory of a file. (What was there before, load checks.)
	conflict := func(name string) error {
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if s, ok := cur[d]; ok && s.exists {
				return notDir(d)
			}
		}
		prefix := name + "/"
		for k, s := range cur {
			if s.exists && strings.HasPrefix(k, prefix) {
				return errIsDir
			}
		}
		return nil
	}
	for _, op := range p.Ops {
		fail := func(path string, err error) error { return &OpError{Kind: op.Kind, Path: path, Err: err} }
		pth, err := cleanPath(op.Path)
		if err != nil {
			return nil, fail(op.Path, err)
		}
		s, err := get(pth)
		if err != nil {
			return nil, fail(pth, err)
		}
		switch op.Kind {
		case Add:
			if s.exists {
				return nil, fail(pth, ErrExist)
			}
			if err := conflict(pth); err != nil {
				return nil, fail(pth, err)
			}
			*s = state{content: op.Content, exists: true}
		case Delete:
			if !s.exists {
				return nil, fail(pth, ErrNotExist)
			}
			*s = state{}
		case Update:
			if !s.exists {
				return nil, fail(pth, ErrNotExist)
			}
			if len(op.Hunks) > 0 {
				content, edits, err := updateText(s.content, op.Hunks)
				if err != nil {
					return nil, fail(pth, err)
				}
				s.content = content
				s.edits = edits
				s.updates++
			}
			if op.MoveTo != "" {
				dst, err := cleanPath(op.MoveTo)
				if err != nil {
					return nil, fail(op.MoveTo, err)
				}
				if dst != pth {
					d, err := get(dst)
					if err != nil {
						return nil, fail(dst, err)
					}
					if d.exists {
						return nil, &OpError{Kind: op.Kind, Path: dst, Err: ErrExist}
					}
					if err := conflict(dst); err != nil {
						return nil, fail(dst, err)
					}
					*d = *s
					*s = state{}
				}
			}
		default:
			return nil, fail(pth, parseErr(0, "unknown operation kind %d", int(op.Kind)))
		}
	}
	// A path whose content now lives at a path that did not exist is
	// renamed; any other path that held content and no longer does is
	// deleted.
	renamedTo := map[string]string{}
	for _, path := range order {
		before, after := orig[path], cur[path]
		if o := after.origin; after.exists && !before.exists && o != "" && o != path && !cur[o].exists {
			renamedTo[o] = path
		}
	}
	renamedFrom := map[string]string{}
	for from, to := range renamedTo {
		renamedFrom[to] = from
	}
	var changes []FileChange
	for _, path := range order {
		before, after := orig[path], cur[path]
		var c FileChange
		switch {
		case !after.exists && !before.exists:
			continue
		case !after.exists:
			if _, ok := renamedTo[path]; ok {
				continue // reported with its new path
			}
			c = FileChange{Kind: Delete, Path: path, Old: before.content}
		case before.exists:
			c = FileChange{Kind: Update, Path: path, Old: before.content, New: after.content}
		case renamedFrom[path] != "":
			from := renamedFrom[path]
			c = FileChange{Kind: Update, Path: path, From: from, Old: orig[from].content, New: after.content}
		default:
			c = FileChange{Kind: Add, Path: path, New: after.content}
		}
		src := c.From
		if src == "" {
			src = path
		}
		if c.Kind == Update && after.updates == 1 && after.origin == src {
			c.edits = after.edits
		}
		c.Added, c.Removed = c.count()
		changes = append(changes, c)
	}
	return changes, nil
}

// Apply applies p to files, a map from slash-separated relative path to
// content, and returns the new set of files; files itself is not modified.
// Every operation is checked before anything is returned: an error means
// no change. As on disk, directories are where files are: a file cannot be
// created under a path that is a file ([ErrNotDir]) nor at a path that is
// a directory ([ErrNotRegular]). Apply does no I/O; [Workspace.Apply] does the same on disk.
func Apply(files map[string]string, p *Patch) (map[string]string, error) {
	changes, err := plan(p, func(name string) (string, bool, error) {
		if c, ok := files[name]; ok {
			return c, true, nil
		}
		// Directories are implied by the paths of their files; a path under
		// a file, or over a directory, fails as it does on disk.
		for d := path.Dir(name); d != "."; d = path.Dir(d) {
			if _, ok := files[d]; ok {
				return "", false, notDir(d)
			}
		}
		prefix := name + "/"
		for k := range files {
			if strings.HasPrefix(k, prefix) {
				return "", false, errIsDir
			}
		}
		return "", false, nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(files)+len(changes))
	for k, v := range files {
		out[k] = v
	}
	for _, c := range changes {
		if c.From != "" {
			delete(out, c.From)
		}
		if c.Kind == Delete {
			delete(out, c.Path)
		} else {
			out[c.Path] = c.New
		}
	}
	return out, nil
}

// ApplyDiff applies the bare V4A diff of an update (see [ParseDiff]) to
// the content of one file and returns the new content.
func ApplyDiff(content, diff string) (string, error) {
	hunks, err := ParseDiff(diff)
	if err != nil {
		return "", err
	}
	out, _, err := updateText(content, hunks)
	return out, err
}
