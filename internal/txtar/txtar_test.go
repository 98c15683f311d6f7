package txtar

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseFormatRoundTrip(t *testing.T) {
	in := "a comment\n-- one.txt --\nhello\n-- empty --\n-- two --\nx\n-- not a marker\ny\n"
	comment, files := Parse(in)
	assert.Equal(t, "a comment\n", comment)
	assert.Equal(t, []File{
		{Name: "one.txt", Data: "hello\n"},
		{Name: "empty", Data: ""},
		{Name: "two", Data: "x\n-- not a marker\ny\n"},
	}, files)
	assert.Equal(t, in, Format(comment, files))

	comment, files = Parse("only a comment")
	assert.Equal(t, "only a comment", comment)
	assert.Empty(t, files)
}
