package applypatch

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/agentloop/agentloop/responses"
)

// Markers of the envelope form.
const (
	beginPatch = "*** Begin Patch"
	endPatch   = "*** End Patch"
	addFile    = "*** Add File: "
	deleteFile = "*** Delete File: "
	updateFile = "*** Update File: "
	moveTo     = "*** Move to: "
	endOfFile  = "*** End of File"
)

// ParseError reports a patch that is not well-formed. Line is 1-based within
// the patch text (or within the diff of an operation), zero when the error
// concerns the whole text.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("invalid patch: line %d: %s", e.Line, e.Msg)
	}
	return "invalid patch: " + e.Msg
}

func parseErr(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// splitLines splits patch text into lines, dropping "\r" before "\n" and
// the empty element after a final newline.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

var heredocStart = regexp.MustCompile(`^(?:(?:apply_patch|applypatch)\s*)?<<-?\s*(?:'([A-Za-z_]\w*)'|"([A-Za-z_]\w*)"|([A-Za-z_]\w*))$`)

// Parse parses a patch in the envelope form: "*** Begin Patch", then Add
// File, Delete File and Update File operations (an update may start with
// "*** Move to:"), then "*** End Patch". As Codex does, it accepts markers
// padded with whitespace and a heredoc wrapper (<<'EOF' … EOF, optionally
// preceded by the word apply_patch). Errors are [*ParseError]s.
//
// Parse checks only the form: paths are checked, and hunks located, when
// the patch is applied.
func Parse(text string) (*Patch, error) {
	lines := splitLines(text)
	// Trim blank lines around the text, remembering the offset for line
	// numbers.
	first := 0
	for first < len(lines) && strings.TrimSpace(lines[first]) == "" {
		first++
	}
	last := len(lines)
	for last > first && strings.TrimSpace(lines[last-1]) == "" {
		last--
	}
	if first == last {
		return nil, parseErr(0, "the patch is empty; it must start with %q and end with %q", beginPatch, endPatch)
	}
	if strings.TrimSpace(lines[first]) != beginPatch {
		if m := heredocStart.FindStringSubmatch(strings.TrimSpace(lines[first])); m != nil && last-first >= 4 {
			delim := m[1] + m[2] + m[3]
			if strings.TrimSpace(lines[last-1]) == delim {
				first++
				last--
			}
		}
	}
	if strings.TrimSpace(lines[first]) != beginPatch {
		return nil, parseErr(first+1, "the first line of the patch must be %q, got %q", beginPatch, lines[first])
	}
	if strings.TrimSpace(lines[last-1]) != endPatch || last-1 == first {
		return nil, parseErr(last, "the last line of the patch must be %q, got %q", endPatch, lines[last-1])
	}
	p := &Patch{}
	i := first + 1
	end := last - 1
	for i < end {
		line := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(line, addFile):
			op := Op{Kind: Add, Path: strings.TrimSpace(line[len(addFile):])}
			if op.Path == "" {
				return nil, parseErr(i+1, "%q needs a path", strings.TrimSpace(addFile))
			}
			i++
			content, n := addedLines(lines[i:end])
			i += n
			if i < end && !isHeader(lines[i]) {
				return nil, parseErr(i+1, "unexpected line %q in added file %s: every line of an added file starts with '+' (write '+' alone for an empty line)", lines[i], op.Path)
			}
			op.Content = content
			p.Ops = append(p.Ops, op)
		case strings.HasPrefix(line, deleteFile):
			op := Op{Kind: Delete, Path: strings.TrimSpace(line[len(deleteFile):])}
			if op.Path == "" {
				return nil, parseErr(i+1, "%q needs a path", strings.TrimSpace(deleteFile))
			}
			p.Ops = append(p.Ops, op)
			i++
			if i < end && !isHeader(lines[i]) {
				return nil, parseErr(i+1, "unexpected line %q after %q: a deleted file takes no lines", lines[i], line)
			}
		case strings.HasPrefix(line, updateFile):
			op := Op{Kind: Update, Path: strings.TrimSpace(line[len(updateFile):])}
			if op.Path == "" {
				return nil, parseErr(i+1, "%q needs a path", strings.TrimSpace(updateFile))
			}
			i++
			if i < end && strings.HasPrefix(strings.TrimSpace(lines[i]), moveTo) {
				op.MoveTo = strings.TrimSpace(strings.TrimSpace(lines[i])[len(moveTo):])
				if op.MoveTo == "" {
					return nil, parseErr(i+1, "%q needs a path", strings.TrimSpace(moveTo))
				}
				i++
			}
			hunks, next, err := parseHunks(lines[:end], i, true)
			if err != nil {
				return nil, err
			}
			if len(hunks) == 0 && op.MoveTo == "" {
				return nil, parseErr(i+1, "update of %s has no hunks: give at least one section of ' ', '-' and '+' lines", op.Path)
			}
			op.Hunks = hunks
			p.Ops = append(p.Ops, op)
			i = next
		case line == endPatch:
			return nil, parseErr(i+1, "content after %q", endPatch)
		default:
			return nil, parseErr(i+1, "%q is not a valid operation header; valid headers are %q, %q and %q", lines[i],
				addFile+"{path}", deleteFile+"{path}", updateFile+"{path}")
		}
	}
	if len(p.Ops) == 0 {
		return nil, parseErr(0, "the patch contains no file operations")
	}
	return p, nil
}

// isHeader reports whether line (trimmed) starts an operation or ends the
// patch.
func isHeader(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, addFile) || strings.HasPrefix(t, deleteFile) ||
		strings.HasPrefix(t, updateFile) || t == endPatch
}

// parseHunks parses the sections of an update starting at lines[i]. In the
// envelope it stops at the next operation header and returns its index; in
// a bare diff it reads to the end.
func parseHunks(lines []string, i int, envelope bool) ([]Hunk, int, error) {
	var hunks []Hunk
	afterEOF := false
	for i < len(lines) {
		line := lines[i]
		if envelope && isHeader(line) {
			break
		}
		if afterEOF && strings.TrimSpace(line) == "" {
			i++ // blank lines after "*** End of File" separate sections
			continue
		}
		if !envelope && strings.TrimSpace(line) == endPatch {
			for j := i + 1; j < len(lines); j++ {
				if strings.TrimSpace(lines[j]) != "" {
					return nil, 0, parseErr(j+1, "content after %q: a diff ends there", endPatch)
				}
			}
			break
		}
		h := Hunk{PatchLine: i + 1}
		for i < len(lines) && strings.HasPrefix(lines[i], "@@") {
			if len(lines[i]) > 2 && lines[i][2] != ' ' {
				return nil, 0, parseErr(i+1, "invalid @@ line %q: write \"@@\" alone, or \"@@ \" (with a space) followed by the text of a line before the change", lines[i])
			}
			a := lines[i][min(3, len(lines[i])):]
			if strings.TrimSpace(a) != "" {
				h.Anchors = append(h.Anchors, a)
			}
			i++
		}
		if h.PatchLine == i+1 && len(hunks) > 0 {
			return nil, 0, parseErr(i+1, "unexpected line %q: every section after the first starts with an @@ line", line)
		}
	body:
		for ; i < len(lines); i++ {
			l := lines[i]
			switch {
			case l == "":
				h.Lines = append(h.Lines, Line{Op: ' '})
			case l[0] == ' ' || l[0] == '-' || l[0] == '+':
				h.Lines = append(h.Lines, Line{Op: l[0], Text: l[1:]})
			case strings.TrimRightFunc(l, unicode.IsSpace) == endOfFile:
				if len(h.Lines) == 0 {
					return nil, 0, parseErr(i+1, "%q must follow the lines of a section", endOfFile)
				}
				h.EndOfFile = true
				i++
				break body
			case strings.HasPrefix(l, "@@"):
				break body
			case envelope && isHeader(l) && !unicode.IsSpace(rune(l[0])):
				break body // inside a section, a marker starts the line
			case !envelope && strings.TrimRightFunc(l, unicode.IsSpace) == endPatch:
				break body
			default:
				return nil, 0, parseErr(i+1, "unexpected line %q: each line of a section starts with ' ' (context), '-' (removed) or '+' (added)", l)
			}
		}
		if len(h.Lines) == 0 {
			return nil, 0, parseErr(h.PatchLine, "section has no lines: an @@ line must be followed by ' ', '-' or '+' lines")
		}
		afterEOF = h.EndOfFile
		hunks = append(hunks, h)
	}
	return hunks, i, nil
}

// ParseDiff parses the bare V4A diff of an update operation (the
// update_file diff of an apply_patch_call): one or more sections, the first
// of which may omit its @@ line. An empty diff is an error.
func ParseDiff(diff string) ([]Hunk, error) {
	lines := splitLines(diff)
	if len(lines) == 0 || strings.TrimSpace(diff) == "" {
		return nil, parseErr(0, "the diff is empty")
	}
	hunks, _, err := parseHunks(lines, 0, false)
	if err != nil {
		return nil, err
	}
	if len(hunks) == 0 {
		return nil, parseErr(0, "the diff has no sections")
	}
	return hunks, nil
}

// addedLines reads the '+' lines at the start of lines (split by
// [splitLines]) and returns the content they make and how many there are.
// It is the one rule of both forms of a created file: each '+' line is one
// newline-terminated line of the file, so a lone '+' is an empty line.
func addedLines(lines []string) (content string, n int) {
	size := 0
	for n < len(lines) && strings.HasPrefix(lines[n], "+") {
		size += len(lines[n])
		n++
	}
	var b strings.Builder
	b.Grow(size)
	for _, l := range lines[:n] {
		b.WriteString(l[1:])
		b.WriteByte('\n')
	}
	return b.String(), n
}

// ParseCreate returns the content of a file from the bare diff of a create
// operation, in which every line starts with '+'. It follows the rule of
// "*** Add File" in the envelope form: each '+' line is one
// newline-terminated line of the file, whether or not the diff ends with a
// newline, and a last lone '+' is an empty last line. An empty diff is an
// empty file.
func ParseCreate(diff string) (string, error) {
	lines := splitLines(diff)
	content, n := addedLines(lines)
	if n < len(lines) {
		return "", parseErr(n+1, "unexpected line %q in a created file: every line starts with '+' (write '+' alone for an empty line)", lines[n])
	}
	return content, nil
}

// ParseOperation returns the one-operation patch of an apply_patch_call's
// operation: create_file (a diff of '+' lines, see [ParseCreate]),
// update_file (a bare diff, see [ParseDiff]) or delete_file.
func ParseOperation(op responses.ApplyPatchOperation) (*Patch, error) {
	return parseOperation(op.Type, op.Path, op.Diff, "")
}

func parseOperation(typ, path, diff, move string) (*Patch, error) {
	if strings.TrimSpace(path) == "" {
		return nil, parseErr(0, "operation %s has no path", typ)
	}
	switch typ {
	case "create_file":
		content, err := ParseCreate(diff)
		if err != nil {
			return nil, err
		}
		return &Patch{Ops: []Op{{Kind: Add, Path: path, Content: content}}}, nil
	case "update_file":
		if move != "" && strings.TrimSpace(diff) == "" {
			return &Patch{Ops: []Op{{Kind: Update, Path: path, MoveTo: move}}}, nil
		}
		hunks, err := ParseDiff(diff)
		if err != nil {
			return nil, err
		}
		return &Patch{Ops: []Op{{Kind: Update, Path: path, MoveTo: move, Hunks: hunks}}}, nil
	case "delete_file":
		if strings.TrimSpace(diff) != "" {
			return nil, parseErr(0, "delete_file takes no diff")
		}
		return &Patch{Ops: []Op{{Kind: Delete, Path: path}}}, nil
	}
	return nil, parseErr(0, "unknown operation type %q: want create_file, update_file or delete_file", typ)
}
