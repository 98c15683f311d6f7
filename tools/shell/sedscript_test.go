package shell

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSedScriptReadOnly(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   bool
	}{
		{"1,200p", true},
		{"p", true},
		{"s/foo/bar/g", true},
		{"s|a/b|c|2p", true},
		{`s/x\/y/z/`, true},
		{"/^#/d", true},
		{"/start/,/end/{p;q}", true},
		{"$!N; s/\\n/ /", true},
		{"10q", true},
		{"/a/I,+3p", true},
		{"0~2d", true},
		{"y/abc/xyz/", true},
		{"1i\\\nheader", true},
		{"a appended text", true},
		{"r other.txt", true},
		{":a;N;$!ba;s/\\n/,/g", true},
		{"# comment\np", true},
		{"w out.txt", false},
		{"1,5w out.txt", false},
		{"s/a/b/w out.txt", false},
		{"s/a/b/gw out.txt", false},
		{"s/.*/date/e", false},
		{"e ls", false},
		{"W out", false},
		{"/x/!e rm", false},
		{"s/a/b", false},
		{"v", false},
		{"1,", false},
		{"pw x", false},
	} {
		assert.Equal(t, tc.want, sedScriptReadOnly(tc.script), "%q", tc.script)
	}
}

func FuzzSedScriptReadOnly(f *testing.F) {
	for _, s := range []string{"1,200p", "s/a/b/w f", "/x/{p;q}", "y/ab/cd/", "a\\\ntext", "e", "s|\\||x|g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := sedScriptReadOnly(s)
		assert.Equal(t, got, sedScriptReadOnly(s), "deterministic")
		// Whatever follows, a script that starts by writing is not read-only.
		assert.False(t, sedScriptReadOnly("w /x\n"+s))
		assert.False(t, sedScriptReadOnly("1e date\n"+s))
	})
}
