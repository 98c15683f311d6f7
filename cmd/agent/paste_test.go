package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPastedImages(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	png := []byte("\x89PNG\r\n\x1a\n")
	for _, p := range []string{filepath.Join(dir, "shot.png"), filepath.Join(dir, "my shot.jpg"), filepath.Join(home, "h.webp")} {
		require.NoError(t, os.WriteFile(p, png, 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "dir.png"), 0o755))
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"what is wrong in shot.png?", []string{filepath.Join(dir, "shot.png")}},
		{"look at " + filepath.Join(dir, "shot.png"), []string{filepath.Join(dir, "shot.png")}},
		{`compare 'my shot.jpg' and my\ shot.jpg`, []string{filepath.Join(dir, "my shot.jpg"), filepath.Join(dir, "my shot.jpg")}},
		{`"` + filepath.Join(dir, "my shot.jpg") + `"`, []string{filepath.Join(dir, "my shot.jpg")}},
		{"~/h.webp", []string{filepath.Join(home, "h.webp")}},
		{"missing.png and notes.txt and dir.png", nil},
		{"fix the failing test", nil},
	} {
		assert.Equal(t, tc.want, pastedImages(tc.line, dir, home), tc.line)
	}
}
