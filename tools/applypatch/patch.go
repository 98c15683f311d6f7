package applypatch

import (
	"strings"
)

// Kind says what a file operation does.
type Kind int

const (
	// Add creates a file that must not exist yet.
	Add Kind = iota + 1
	// Update edits an existing file with hunks, optionally moving it.
	Update
	// Delete removes an existing regular file.
	Delete
)

func (k Kind) String() string {
	switch k {
	case Add:
		return "add"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "Kind(?)"
}

// letter is the one-letter code used in summaries (A, M, D).
func (k Kind) letter() string {
	switch k {
	case Add:
		return "A"
	case Delete:
		return "D"
	}
	return "M"
}

// Patch is a parsed V4A patch: file operations applied in order.
type Patch struct {
	Ops []Op
}

// Op is one file operation of a [Patch].
type Op struct {
	Kind Kind
	// Path is the file, relative to the workspace root, slash-separated.
	Path string
	// MoveTo, for Update only, renames the file after editing it.
	MoveTo string
	// Content, for Add only, is the whole new file.
	Content string
	// Hunks, for Update only, are the edits in file order.
	Hunks []Hunk
}

// Hunk is one section of an update: optional @@ anchors that narrow the
// search, then change lines. V4A calls it a section, Codex a chunk.
type Hunk struct {
	// Anchors are the texts of the hunk's "@@ text" lines, outermost first
	// (for example a class, then a method). A bare "@@" adds nothing.
	Anchors []string
	// Lines are the context, removed and added lines in order.
	Lines []Line
	// EndOfFile says the hunk's old lines end the file ("*** End of File").
	EndOfFile bool
	// PatchLine is the 1-based line of the patch text where the hunk starts,
	// for error messages; zero when unknown.
	PatchLine int
}

// Line is one change line of a hunk.
type Line struct {
	Op   byte   // ' ' context, '-' removed, '+' added
	Text string // without the prefix and without the line ending
}

// oldNew returns the hunk's old text (context and removed lines) and new
// text (context and added lines).
func (h *Hunk) oldNew() (old, new []string) {
	for _, l := range h.Lines {
		switch l.Op {
		case ' ':
			old = append(old, l.Text)
			new = append(new, l.Text)
		case '-':
			old = append(old, l.Text)
		case '+':
			new = append(new, l.Text)
		}
	}
	return old, new
}

// String renders p as an envelope ("*** Begin Patch" … "*** End Patch"),
// which [Parse] reads back into an equal Patch. Content that does not end
// with a newline cannot be expressed in an Add operation and gains one.
func (p *Patch) String() string {
	var b strings.Builder
	b.WriteString("*** Begin Patch\n")
	for _, op := range p.Ops {
		switch op.Kind {
		case Add:
			b.WriteString("*** Add File: " + op.Path + "\n")
			for _, l := range splitContent(op.Content) {
				b.WriteString("+" + l + "\n")
			}
		case Delete:
			b.WriteString("*** Delete File: " + op.Path + "\n")
		case Update:
			b.WriteString("*** Update File: " + op.Path + "\n")
			if op.MoveTo != "" {
				b.WriteString("*** Move to: " + op.MoveTo + "\n")
			}
			writeHunks(&b, op.Hunks)
		}
	}
	b.WriteString("*** End Patch\n")
	return b.String()
}

// writeHunks writes hunks in the bare V4A form.
func writeHunks(b *strings.Builder, hunks []Hunk) {
	for _, h := range hunks {
		if len(h.Anchors) == 0 {
			b.WriteString("@@\n")
		}
		for _, a := range h.Anchors {
			b.WriteString("@@ " + a + "\n")
		}
		for _, l := range h.Lines {
			b.WriteByte(l.Op)
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
		if h.EndOfFile {
			b.WriteString("*** End of File\n")
		}
	}
}

// splitContent splits text into lines without their endings ("\n" or
// "\r\n"); a final line ending does not start another line.
func splitContent(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}
