package applypatch

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedPatches returns the patches and diffs of the txtar cases, as seeds.
func seedPatches(f *testing.F) (patches, diffs []string) {
	paths, err := filepath.Glob("testdata/*.txtar")
	require.NoError(f, err)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(f, err)
		_, secs := parseTxtar(string(raw))
		for _, s := range secs {
			name, data := sectionData(s)
			switch name {
			case "patch":
				patches = append(patches, data)
			case "diff":
				diffs = append(diffs, data)
			}
		}
	}
	return patches, diffs
}

// FuzzWorkspaceApply applies arbitrary patches to a small workspace next
// to a directory it must never touch. It checks that Apply never panics,
// never writes outside the root, changes nothing when it fails, and agrees
// with the pure Apply when it succeeds.
func FuzzWorkspaceApply(f *testing.F) {
	patches, _ := seedPatches(f)
	for _, p := range patches {
		f.Add("a\nb\nc\n", p)
	}
	f.Add("x\r\ny\r\n", "*** Begin Patch\n*** Update File: a.txt\n@@\n x\n-y\n+z\n*** End Patch")
	f.Add("a", "*** Begin Patch\n*** Update File: link/o.txt\n@@\n-o\n+p\n*** End Patch")
	f.Add("a", "*** Begin Patch\n*** Add File: ../outside/n.txt\n+p\n*** End Patch")
	f.Add("a", "*** Begin Patch\n*** Update File: a.txt\n*** Move to: link/a.txt\n*** End Patch")
	f.Fuzz(func(t *testing.T, content, patch string) {
		base := t.TempDir()
		dir, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
		require.NoError(t, os.MkdirAll(outside, 0o755))
		write(t, filepath.Join(outside, "o.txt"), "o\n")
		require.NoError(t, os.Symlink("../outside", filepath.Join(dir, "link")))
		files := map[string]string{"a.txt": content, "sub/b.txt": "b\n" + content, "f.txt": "f\n"}
		for name, c := range files {
			write(t, filepath.Join(dir, name), c)
		}
		p, err := Parse(patch)
		if err != nil {
			return
		}
		ws, err := NewWorkspace(dir, nil)
		require.NoError(t, err)
		_, err = ws.Apply(t.Context(), p)
		assert.Equal(t, map[string]string{"o.txt": "o\n"}, readTree(t, outside), "nothing outside the root changes")
		got := readTree(t, dir)
		if err != nil {
			assert.Equal(t, files, got, "a failed patch leaves every file byte-identical")
			return
		}
		// The pure core knows nothing of the link and the sub directory.
		if strings.Contains(patch, "link") || strings.Contains(patch, "sub") {
			return
		}
		want, perr := Apply(files, p)
		require.NoError(t, perr, "the workspace applied what the pure Apply refuses")
		assert.Equal(t, want, got)
	})
}

// FuzzApplyDiff applies arbitrary bare diffs to arbitrary text.
func FuzzApplyDiff(f *testing.F) {
	_, diffs := seedPatches(f)
	for _, d := range diffs {
		f.Add("a\nb\nc\n", d)
		f.Add("a\r\nb\r\n", d)
	}
	f.Fuzz(func(t *testing.T, content, diff string) {
		out, err := ApplyDiff(content, diff)
		if err != nil {
			assert.Empty(t, out)
			return
		}
		// A newline-terminated file stays newline-terminated. (The converse
		// cannot be checked: an empty last line added to a file without a
		// final newline looks like one.)
		if strings.HasSuffix(content, "\n") && out != "" {
			assert.True(t, strings.HasSuffix(out, "\n"), "final newline kept")
		}
	})
}

// FuzzMakeDiff checks that a generated diff turns old into new.
func FuzzMakeDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\n")
	f.Add("x\nx\nx\ny\nx\n", "x\nx\nz\ny\nx\n")
	f.Add("", "a\n")
	f.Add("a\n", "")
	f.Add("  x\nx\n", "  x\ny\n")
	f.Fuzz(func(t *testing.T, old, new string) {
		old, new = roundTripPair(old, new)
		d := MakeDiff(old, new)
		if d == "" {
			assert.Equal(t, newText(old).lines, newText(new).lines)
			return
		}
		got, err := ApplyDiff(old, d)
		require.NoError(t, err, "diff:\n%s", d)
		assert.Equal(t, new, got, "diff:\n%s", d)
	})
}

// roundTripPair makes old and new expressible as a V4A update: LF line
// endings, and the same final-newline state (an empty file counts as
// newline-terminated).
func roundTripPair(old, new string) (string, string) {
	old = strings.ReplaceAll(old, "\r", "")
	new = strings.ReplaceAll(new, "\r", "")
	if old != "" && !strings.HasSuffix(old, "\n") {
		old += "\n"
	}
	if new != "" && !strings.HasSuffix(new, "\n") {
		new += "\n"
	}
	return old, new
}

// TestRoundTrip is the property test: for random (old, new) pairs, the
// diff MakeDiff produces applies to old and gives new. The lines come from
// a small alphabet, so blocks repeat and fuzzy passes have chances to
// match in the wrong place, and include lines that look like markers.
func TestRoundTrip(t *testing.T) {
	alphabet := []string{"a", "b", "c", "", " a", "a ", "\ta", "x – y", "x - y", "@@", "@@ a", "*** End Patch",
		"*** End of File", "-a", "+a", " ", "}", "naïve"}
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(n int) []string {
		ls := make([]string, n)
		for i := range ls {
			ls[i] = alphabet[r.IntN(len(alphabet))]
		}
		return ls
	}
	for i := range 3000 {
		a := gen(r.IntN(30))
		// new: a with random edits.
		var b []string
		for j := 0; j <= len(a); j++ {
			switch r.IntN(6) {
			case 0: // delete
			case 1: // insert
				b = append(b, gen(1+r.IntN(3))...)
				if j < len(a) {
					b = append(b, a[j])
				}
			case 2: // replace
				b = append(b, gen(1)...)
			default:
				if j < len(a) {
					b = append(b, a[j])
				}
			}
		}
		join := func(ls []string) string {
			if len(ls) == 0 {
				return ""
			}
			return strings.Join(ls, "\n") + "\n"
		}
		old, new := join(a), join(b)
		if i%2 == 1 && len(a) > 0 && len(b) > 0 && a[len(a)-1] != "" && b[len(b)-1] != "" { // no final newline on either side
			old, new = strings.TrimSuffix(old, "\n"), strings.TrimSuffix(new, "\n")
		}
		d := MakeDiff(old, new)
		got, err := ApplyDiff(old, d)
		if d == "" {
			require.Equal(t, old, new)
			continue
		}
		require.NoError(t, err, "case %d\nold:\n%q\nnew:\n%q\ndiff:\n%s", i, old, new, d)
		require.Equal(t, new, got, "case %d\nold:\n%q\ndiff:\n%s", i, old, d)
		// The envelope form too, through the pure multi-file Apply.
		p := &Patch{Ops: []Op{{Kind: Update, Path: "f", Hunks: mustDiff(t, d)}}}
		back, err := Parse(p.String())
		require.NoError(t, err)
		out, err := Apply(map[string]string{"f": old}, back)
		require.NoError(t, err)
		require.Equal(t, new, out["f"])
	}
}

func mustDiff(t *testing.T, d string) []Hunk {
	h, err := ParseDiff(d)
	require.NoError(t, err)
	return h
}

// FuzzParseCreate checks the one rule of created files: a bare create diff
// makes the same file as the same '+' lines in an envelope "*** Add File".
func FuzzParseCreate(f *testing.F) {
	for _, d := range []string{"", "+a", "+a\n", "+a\n+", "+a\n+\n", "+\n+\n", "+a\r\n+b", "a", "+a\n\n"} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, diff string) {
		content, err := ParseCreate(diff)
		if err != nil {
			assert.Empty(t, content)
			return
		}
		assert.True(t, content == "" || strings.HasSuffix(content, "\n"), "a created file ends with a newline")
		body := diff
		if body != "" && !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		if body == "" {
			return // an envelope Add needs no lines; covered by TestCreateRule
		}
		p, err := Parse("*** Begin Patch\n*** Add File: x\n" + body + "*** End Patch\n")
		require.NoError(t, err)
		assert.Equal(t, content, p.Ops[0].Content, "bare and envelope creates agree")
	})
}
