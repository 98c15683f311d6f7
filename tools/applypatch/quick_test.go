package applypatch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickApplyDiff(t *testing.T) {
	for _, tc := range []struct{ name, in, diff, want, err string }{
		{"simple", "a\nb\nc\n", "@@\n a\n-b\n+B\n c\n", "a\nB\nc\n", ""},
		{"no final nl", "a\nb", "-b\n+B\n", "a\nB", ""},
		{"append bare", "a\nb\n", "@@\n+x\n", "a\nb\nx\n", ""},
		{"append no nl", "a\nb", "@@\n+x\n", "a\nb\nx", ""},
		{"crlf", "a\r\nb\r\n", " a\n-b\n+B\n", "a\r\nB\r\n", ""},
		{"mixed", "one\r\ntwo\nthree\r\n", " one\n two\n-three\n+THREE\n", "one\r\ntwo\nTHREE\r\n", ""},
		{"anchor insert", "[s1]\nk=1\n[s2]\n", "@@ [s1]\n+new=1\n", "[s1]\nnew=1\nk=1\n[s2]\n", ""},
		{"eof last", "x\ny\nx\ny\n", " x\n-y\n+Y\n*** End of File\n", "x\ny\nx\nY\n", ""},
		{"punct", "x – y\n", "-x - y\n+z\n", "z\n", ""},
		{"exact later", "  x\nx\n", "-x\n+y\n", "  x\ny\n", ""},
		{"blank sep", "a\nb\nc\n", "@@\n-a\n+A\n\n@@\n-c\n+C\n", "A\nb\nC\n", ""},
		{"not found", "a\nb\n", "-zzz\n+q\n", "", "zzz"},
		{"delete all", "a\nb\n", "-a\n-b\n", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ApplyDiff(tc.in, tc.diff)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				t.Log(err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestQuickMakeDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"
	nw := "a\nB\nc\nd\ne\nf\ng\nh\ni\nJ\nk\nl\n"
	d := MakeDiff(old, nw)
	t.Log(d)
	got, err := ApplyDiff(old, d)
	require.NoError(t, err)
	assert.Equal(t, nw, got)
	c := FileChange{Kind: Update, Path: "x", Old: old, New: nw}
	t.Log(c.Diff())
}
