package shell

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	deny := []denyRule{{name: "~/.ssh", path: "/h/.ssh"}, {name: "/etc/shadow", path: "/etc/shadow"}}
	w := []string{"/ws", "/t"}
	for _, tc := range []struct {
		name, stderr string
		network      bool
		denied       bool
		note         string
	}{
		{"deny-read", "cat: /h/.ssh/id: Permission denied\n", false, true, "~/.ssh"},
		{"quoted", "cp: cannot open '/etc/shadow' for reading: Permission denied\n", false, true, "/etc/shadow"},
		{"read-only outside", "touch: cannot touch '../x': Read-only file system\n", false, true, ""},
		{"read-only, no path", "sh: 1: cannot create x: Read-only file system\n", false, true, ""},
		{"inside the workspace", "ls: cannot open directory 'd': Permission denied\n", false, false, ""},
		{"inside the temp dir", "bash: /t/x: Permission denied\n", false, false, ""},
		{"no path", "kill: (1) - Operation not permitted\n", false, false, ""},
		{"network", "curl: (6) Could not resolve host: example.com\n", false, true, ""},
		{"network allowed", "curl: (6) Could not resolve host: example.com\n", true, false, ""},
		{"test failure", "--- FAIL: TestX\nexpected 1, got 2\n", false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := classify(tc.stderr, "/ws", w, deny, tc.network)
			assert.Equal(t, tc.denied, f.denied)
			if tc.note != "" {
				assert.Len(t, f.notes, 1)
				assert.Contains(t, strings.Join(f.notes, ""), "deny-read rule "+tc.note+"]")
			} else {
				assert.Empty(t, f.notes)
			}
		})
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"cat: /h/.ssh/id: Permission denied", "touch: cannot touch ‘x’: Read-only file system",
		"'unterminated: Permission denied", "“a” `b' \"c\": Operation not permitted", "",
	} {
		f.Add(s)
	}
	deny := []denyRule{{name: "~/.ssh", path: "/h/.ssh"}}
	f.Fuzz(func(t *testing.T, stderr string) {
		got := classify(stderr, "/ws", []string{"/ws"}, deny, false)
		if len(got.notes) > 0 && !got.denied {
			t.Fatalf("a deny-read note without a denial: %+v", got)
		}
		for _, p := range pathsIn(stderr) {
			if p == "" {
				t.Fatalf("empty path from %q", stderr)
			}
		}
	})
}
