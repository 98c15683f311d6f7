package applypatch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCreateRule guards the one rule of created files (issue 13): in a bare
// create_file diff as in an envelope "*** Add File", each '+' line is one
// newline-terminated line.
func TestCreateRule(t *testing.T) {
	for _, tc := range []struct{ name, diff, want string }{
		{"empty", "", ""},
		{"final newline", "+a\n+b\n", "a\nb\n"},
		{"no final newline", "+a\n+b", "a\nb\n"},
		{"lone plus last", "+a\n+", "a\n\n"},
		{"lone plus last with newline", "+a\n+\n", "a\n\n"},
		{"only a lone plus", "+", "\n"},
		{"crlf", "+a\r\n+b\r\n", "a\nb\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCreate(tc.diff)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "bare create")
			body := tc.diff
			if body != "" && body[len(body)-1] != '\n' {
				body += "\n"
			}
			p, err := Parse("*** Begin Patch\n*** Add File: x\n" + body + "*** End Patch\n")
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Ops[0].Content, "envelope Add File")
		})
	}
	_, err := ParseCreate("+a\n\n+b\n")
	assert.ErrorContains(t, err, `line 2: unexpected line "" in a created file`)
}
