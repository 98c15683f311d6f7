package applypatch

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Errors that callers may test for with [errors.Is]. They arrive wrapped
// in an [*OpError] that names the operation and the file.
var (
	// ErrNotExist: an updated, deleted or moved file does not exist.
	ErrNotExist = errors.New("file does not exist")
	// ErrExist: an added file, or the destination of a move, already exists.
	ErrExist = errors.New("file already exists")
	// ErrPath: the path is absolute, empty, or escapes the workspace root.
	ErrPath = errors.New("path must be relative and inside the workspace")
	// ErrProtected: the path policy forbids writing the path.
	ErrProtected = errors.New("path is protected")
	// ErrNotRegular: the path is a directory, a symbolic link or another
	// non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrNotDir: a parent of the path is a file, so the path can be
	// neither read nor created.
	ErrNotDir = errors.New("not a directory")
)

// errIsDir is the error for a file operation on a directory.
var errIsDir = fmt.Errorf("%w: it is a directory", ErrNotRegular)

// notDir is the error for a path under dir, a file.
func notDir(dir string) error { return fmt.Errorf("%w: %s is a file", ErrNotDir, dir) }

// OpError reports the file operation that failed and why.
type OpError struct {
	Kind Kind
	Path string
	Err  error
}

func (e *OpError) Error() string { return e.Kind.String() + " " + e.Path + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

// HunkError reports a hunk of an update that could not be located. Its
// message lists the lines that were looked for and the closest lines that
// do exist in the file, so that a model can correct its patch in one try.
type HunkError struct {
	Hunk, Hunks int // 1-based index of the hunk, and the number of hunks
	PatchLine   int // line of the hunk in the patch or diff text; 0 if unknown
	msg         string
}

func (e *HunkError) Error() string {
	where := fmt.Sprintf("hunk %d of %d", e.Hunk, e.Hunks)
	if e.PatchLine > 0 {
		where += fmt.Sprintf(" (patch line %d)", e.PatchLine)
	}
	return where + ": " + e.msg
}

// cleanPath validates a patch path and returns its clean slash form.
func cleanPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) ||
		filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", ErrPath
	}
	c := path.Clean(filepath.ToSlash(p))
	if c == "." || !filepath.IsLocal(filepath.FromSlash(c)) {
		return "", ErrPath
	}
	return c, nil
}

// edit replaces del old lines at old line index at with the lines ins.
type edit struct {
	at, del int
	ins     []string
}

// updateText applies the hunks of an update to src and returns the new
// content and the edits made, in order.
func updateText(src string, hunks []Hunk) (string, []edit, error) {
	t := newText(src)
	var edits []edit
	cursor := 0
	for hi := range hunks {
		h := &hunks[hi]
		herr := func(format string, args ...any) error {
			return &HunkError{Hunk: hi + 1, Hunks: len(hunks), PatchLine: h.PatchLine, msg: fmt.Sprintf(format, args...)}
		}
		// Anchors narrow the search: each is looked for after the previous.
		anchored := false
		for ai, a := range h.Anchors {
			i := t.seek([]string{a}, cursor, len(t.lines))
			if i < 0 && ai == 0 && t.seek([]string{a}, 0, cursor) >= 0 {
				anchored = true // already passed: the search stays where it is
				continue
			}
			if i < 0 {
				if len(h.Anchors) == 1 && h.hasOld() {
					break // a lone anchor is advisory when the hunk has context
				}
				return "", nil, herr("could not find the @@ line %q at or after line %d%s", a, cursor+1, nearestLine(t, a))
			}
			cursor = i + 1
			anchored = true
		}
		lines := h.Lines
		old, _ := oldNewOf(lines)
		at, next, pass := -1, -1, 0
		var ambiguous error
		for {
			switch {
			case len(old) == 0 && !anchored:
				at = len(t.lines) // pure insertion without anchor: append
			case len(old) == 0:
				at = cursor
			case h.EndOfFile:
				if at = t.seekEnd(old, cursor); at < 0 {
					at, next, pass = t.seekBlock(old, cursor, len(t.lines), true)
				}
			default:
				at, next, pass = t.seekBlock(old, cursor, len(t.lines), true)
			}
			if next >= 0 {
				// An inexact match that could be in two places is a guess
				// too far: let the model say which (unless the retry below
				// finds a clean match).
				if ambiguous == nil {
					ambiguous = herr("these lines match only %s, and at more than one place (lines %d and %d); add context lines or an @@ line to say which:\n%s",
						passNames[pass], at+1, next+1, quoteLines(old, 8))
				}
				at = -1
			}
			if at >= 0 {
				break
			}
			// A trailing blank context line usually stands for the
			// separator before the next section: retry without it.
			n := len(lines)
			for n > 0 && lines[n-1].Op == ' ' && strings.TrimSpace(lines[n-1].Text) == "" {
				n--
			}
			if n == len(lines) && ambiguous != nil {
				return "", nil, ambiguous
			}
			if n == len(lines) {
				return "", nil, herr("could not find these lines at or after line %d:\n%s%s", cursor+1, quoteLines(old, 8), nearestBlock(t, old, cursor))
			}
			lines = lines[:n]
			old, _ = oldNewOf(lines)
		}
		// Turn the runs of removed and added lines into edits.
		oi := at
		var cur *edit
		for _, l := range lines {
			switch l.Op {
			case ' ':
				oi++
				cur = nil
			case '-', '+':
				if cur == nil {
					edits = append(edits, edit{at: oi})
					cur = &edits[len(edits)-1]
				}
				if l.Op == '-' {
					cur.del++
					oi++
				} else {
					cur.ins = append(cur.ins, l.Text)
				}
			}
		}
		cursor = at + len(old)
	}
	return render(t, edits), edits, nil
}

func (h *Hunk) hasOld() bool {
	for _, l := range h.Lines {
		if l.Op != '+' {
			return true
		}
	}
	return false
}

func oldNewOf(lines []Line) (old, new []string) {
	h := Hunk{Lines: lines}
	return h.oldNew()
}

// render applies edits (sorted by position) to t. Untouched lines keep
// their bytes and endings; new lines take the file's line ending; the
// file's final-newline state is kept.
func render(t *text, edits []edit) string {
	if len(edits) == 0 {
		return t.src
	}
	size := len(t.src)
	for _, e := range edits {
		for _, l := range e.ins {
			size += len(l) + len(t.nl)
		}
	}
	var b strings.Builder
	b.Grow(size)
	open := false // the output ends with a line lacking its line break
	emit := func(s string) {
		if open {
			b.WriteString(t.nl)
		}
		b.WriteString(s)
	}
	pos := 0
	for _, e := range edits {
		if e.at > pos {
			emit(t.src[t.start[pos]:t.start[e.at]])
			open = e.at == len(t.lines) && !t.finalNL
		}
		for _, l := range e.ins {
			emit(l)
			b.WriteString(t.nl)
			open = false
		}
		pos = e.at + e.del
	}
	if pos < len(t.lines) {
		emit(t.src[t.start[pos]:])
		open = !t.finalNL
	}
	out := b.String()
	if !t.finalNL && !open {
		out = strings.TrimSuffix(out, t.nl) // keep the missing final newline
	}
	return out
}

// quoteLines renders lines indented for an error message, at most max.
func quoteLines(lines []string, max int) string {
	var b strings.Builder
	for i, l := range lines {
		if i == max {
			fmt.Fprintf(&b, "    … (%d more)\n", len(lines)-max)
			break
		}
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

// numbered renders lines [from, to) of t with their 1-based numbers.
func numbered(t *text, from, to int) string {
	var b strings.Builder
	for i := max(from, 0); i < min(to, len(t.lines)); i++ {
		fmt.Fprintf(&b, "%6d  %s\n", i+1, t.lines[i])
	}
	return b.String()
}

// nearestBlock describes where the file comes closest to block: the start
// at which the most block lines (trimmed, punctuation mapped) line up,
// preferring starts after the cursor.
func nearestBlock(t *text, block []string, cursor int) string {
	idx := t.buildIndex(passPunct)
	votes := make(map[int]int)
	for j, b := range block {
		pos := idx.positions(normalize(passPunct, b))
		if len(pos) > 64 {
			continue // too common to say anything (blank lines, braces)
		}
		for _, p := range pos {
			votes[int(p)-j]++
		}
	}
	// Most votes first; among equals, the nearest start after the cursor,
	// else the nearest before it.
	best, bestV := 0, 0
	rank := func(s int) int {
		if s >= cursor {
			return len(t.lines) - s + len(t.lines)
		}
		return s
	}
	for s, v := range votes {
		if v > bestV || v == bestV && rank(s) > rank(best) {
			best, bestV = s, v
		}
	}
	if bestV == 0 {
		if len(t.lines) == 0 {
			return "The file is empty.\n"
		}
		return fmt.Sprintf("None of them is in the file. Lines %d-%d, where the search started, are:\n%s",
			cursor+1, min(cursor+len(block)+2, len(t.lines)), numbered(t, cursor, cursor+len(block)+2))
	}
	from, to := best-1, best+len(block)+1
	from, to = max(from, 0), min(to, len(t.lines))
	return fmt.Sprintf("The closest lines in the file (%d of %d lines match) are %d-%d:\n%s",
		bestV, len(block), from+1, to, numbered(t, from, to))
}

// nearestLine names the file lines that share the most words with line.
func nearestLine(t *text, line string) string {
	words := strings.Fields(mapPunct(line))
	if len(words) == 0 || len(t.lines) == 0 {
		return ""
	}
	type cand struct{ i, score int }
	var best []cand
	for i, l := range t.normLines(passPunct) {
		score := 0
		for _, w := range words {
			if strings.Contains(l, w) {
				score += len(w)
			}
		}
		if score > 0 {
			best = append(best, cand{i, score})
		}
	}
	if len(best) == 0 {
		return "; no line of the file resembles it"
	}
	sort.SliceStable(best, func(a, b int) bool { return best[a].score > best[b].score })
	var b strings.Builder
	b.WriteString("; the closest lines in the file are:\n")
	for _, c := range best[:min(3, len(best))] {
		b.WriteString(numbered(t, c.i, c.i+1))
	}
	return b.String()
}
