package applypatch

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// applyUnified applies a unified diff of one file strictly (by line
// numbers, every context and removed line checked), to check that the
// diffs shown to approvers say exactly what changes.
func applyUnified(old, diff string) (string, error) {
	type line struct {
		text string
		nl   bool
	}
	split := func(s string) []line {
		var ls []line
		for s != "" {
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				ls = append(ls, line{s, false})
				break
			}
			ls = append(ls, line{s[:i], true})
			s = s[i+1:]
		}
		return ls
	}
	if diff == "" {
		return old, nil
	}
	src := split(old)
	var out []line
	pos := 0
	dl := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")
	for i := 0; i < len(dl); i++ {
		l := dl[i]
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++") || strings.HasPrefix(l, "rename ") {
			continue
		}
		if !strings.HasPrefix(l, "@@ -") {
			return "", fmt.Errorf("line %d: want a hunk header, got %q", i+1, l)
		}
		var os_, oc, ns, nc int
		f := strings.Fields(l)
		parse := func(r string) (int, int) {
			a, b, ok := strings.Cut(r[1:], ",")
			s, _ := strconv.Atoi(a)
			c := 1
			if ok {
				c, _ = strconv.Atoi(b)
			}
			return s, c
		}
		os_, oc = parse(f[1])
		ns, nc = parse(f[2])
		start := os_ - 1
		if oc == 0 {
			start = os_
		}
		if start < pos {
			return "", fmt.Errorf("hunk %q overlaps", l)
		}
		out = append(out, src[pos:start]...)
		if ns-1 != len(out) && !(nc == 0 && ns == len(out)) {
			return "", fmt.Errorf("hunk %q: new start %d, have %d lines", l, ns, len(out))
		}
		pos = start
		for i+1 < len(dl) && !strings.HasPrefix(dl[i+1], "@@") && !strings.HasPrefix(dl[i+1], "---") {
			i++
			b := dl[i]
			noNL := i+1 < len(dl) && dl[i+1] == `\ No newline at end of file`
			switch b[0] {
			case ' ', '-':
				if pos >= len(src) || src[pos].text != b[1:] || src[pos].nl == noNL {
					return "", fmt.Errorf("line %d: %q does not match the file", i+1, b)
				}
				if b[0] == ' ' {
					out = append(out, src[pos])
				}
				pos++
			case '+':
				out = append(out, line{b[1:], !noNL})
			case '\\':
			default:
				return "", fmt.Errorf("line %d: bad line %q", i+1, b)
			}
		}
	}
	out = append(out, src[pos:]...)
	var b strings.Builder
	for _, l := range out {
		b.WriteString(l.text)
		if l.nl {
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

func TestUnifiedDiffApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "c", "", "d", "}"}
	gen := func() string {
		n := r.IntN(12)
		var b strings.Builder
		for i := range n {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
			if i < n-1 || r.IntN(3) > 0 {
				b.WriteByte('\n')
			}
		}
		return b.String()
	}
	for i := range 3000 {
		old, new := gen(), gen()
		c := FileChange{Kind: Update, Path: "f", Old: old, New: new}
		d := c.Diff()
		got, err := applyUnified(old, d)
		require.NoError(t, err, "case %d: %q -> %q\n%s", i, old, new, d)
		require.Equal(t, new, got, "case %d\n%s", i, d)
	}
}

// TestUnifiedDiffOfEdits checks the diffs built from the edits a patch
// made (rather than from a line diff), including the change of an
// unterminated last line.
func TestUnifiedDiffOfEdits(t *testing.T) {
	for _, tc := range []struct{ name, old, diff, want string }{
		{"replace", "a\nb\nc\n", "@@\n a\n-b\n+B\n c\n", "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"append after unterminated line", "a\nb", "@@\n+c\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"},
		{"replace last and append", "a\nb", "@@\n-b\n+B\n@@\n+c\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+B\n+c\n\\ No newline at end of file\n"},
		{"insert at top", "a\nb\n", "@@\n+x\n a\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n+x\n a\n b\n"},
		{"empty file", "", "@@\n+x\n", "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Patch{Ops: []Op{{Kind: Update, Path: "f", Hunks: mustDiff(t, tc.diff)}}}
			changes, err := plan(p, func(string) (string, bool, error) { return tc.old, true, nil })
			require.NoError(t, err)
			require.Len(t, changes, 1)
			require.NotNil(t, changes[0].edits)
			d := changes[0].Diff()
			assert.Equal(t, tc.want, d)
			got, err := applyUnified(tc.old, d)
			require.NoError(t, err)
			assert.Equal(t, changes[0].New, got)
		})
	}
}

func TestDiffHeaders(t *testing.T) {
	add := FileChange{Kind: Add, Path: "n", New: "x\n"}
	assert.Equal(t, "--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n", add.Diff())
	del := FileChange{Kind: Delete, Path: "d", Old: "x"}
	assert.Equal(t, "--- a/d\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\\ No newline at end of file\n", del.Diff())
	mv := FileChange{Kind: Update, Path: "b", From: "a", Old: "x\n", New: "x\n"}
	assert.Equal(t, "rename from a\nrename to b\n--- a/a\n+++ b/b\n", mv.Diff())
	same := FileChange{Kind: Update, Path: "s", Old: "x\n", New: "x\n"}
	assert.Equal(t, "", same.Diff())
}

func TestApplyUnifiedIsStrict(t *testing.T) {
	_, err := applyUnified("a\n", "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-b\n+c\n")
	assert.Error(t, err, "a removed line that differs")
	_, err = applyUnified("a", "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+c\n")
	assert.Error(t, err, "a missing no-newline marker")
}
