// Package txtar reads and writes the txtar archives the project's scenario
// tests keep in testdata: a free-form comment, then files, each introduced by
// a "-- name --" line.
package txtar

import "strings"

// File is one file of an archive.
type File struct {
	Name string
	Data string // its lines, each ending in a newline
}

// Parse splits s into its comment and files. A line of the form
// "-- name --" starts a file; everything else belongs to the file (or the
// comment) above it.
func Parse(s string) (comment string, files []File) {
	var cur *File
	var b strings.Builder
	flush := func() {
		if cur != nil {
			cur.Data = b.String()
			files = append(files, *cur)
		} else {
			comment = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		l := strings.TrimRight(line, "\n")
		if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") && len(l) > 6 {
			flush()
			cur = &File{Name: strings.TrimSpace(l[3 : len(l)-3])}
			continue
		}
		b.WriteString(line)
	}
	flush()
	return comment, files
}

// Format is the inverse of [Parse].
func Format(comment string, files []File) string {
	var b strings.Builder
	b.WriteString(comment)
	for _, f := range files {
		b.WriteString("-- " + f.Name + " --\n" + f.Data)
	}
	return b.String()
}
