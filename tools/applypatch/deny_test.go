package applypatch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const stealKey = "*** Begin Patch\n*** Update File: %s\n@@\n-secret\n+stolen\n*** End Patch\n"

// TestDenyRead covers the deny-read rules the txtar cases cannot: links,
// a workspace reached through a link, and entries outside the workspace.
func TestDenyRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup builds the workspace under base and returns the root to
		// open, the DenyRead entries and the path to patch.
		setup   func(t *testing.T, base string) (root string, deny []string, target string)
		wantErr string
	}{
		{"link inside the root to a denied directory", func(t *testing.T, base string) (string, []string, string) {
			write(t, filepath.Join(base, "home/.ssh/id"), "secret\n")
			require.NoError(t, os.Symlink(".ssh", filepath.Join(base, "home/keys")))
			return filepath.Join(base, "home"), []string{filepath.Join(base, "home/.ssh")}, "keys/id"
		}, `update keys/id: access denied by the deny-read rule "`},
		{"root reached through a link, rule on the real path", func(t *testing.T, base string) (string, []string, string) {
			write(t, filepath.Join(base, "real/.ssh/id"), "secret\n")
			require.NoError(t, os.Symlink("real", filepath.Join(base, "alias")))
			return filepath.Join(base, "alias"), []string{filepath.Join(base, "real/.ssh")}, ".ssh/id"
		}, "access denied by the deny-read rule"},
		{"root reached through a link, rule on the link path", func(t *testing.T, base string) (string, []string, string) {
			write(t, filepath.Join(base, "real/.ssh/id"), "secret\n")
			require.NoError(t, os.Symlink("real", filepath.Join(base, "alias")))
			return filepath.Join(base, "alias"), []string{filepath.Join(base, "alias/.ssh")}, ".ssh/id"
		}, "access denied by the deny-read rule"},
		{"pattern over the root's parent", func(t *testing.T, base string) (string, []string, string) {
			write(t, filepath.Join(base, "ws/.ssh/id"), "secret\n")
			return filepath.Join(base, "ws"), []string{filepath.Join(base, "**/.ssh")}, ".ssh/id"
		}, "access denied by the deny-read rule"},
		{"rules outside the workspace deny nothing in it", func(t *testing.T, base string) (string, []string, string) {
			write(t, filepath.Join(base, "ws/.ssh/id"), "secret\n")
			return filepath.Join(base, "ws"), []string{filepath.Join(base, ".ssh"), filepath.Join(base, "other/**"), "/etc/shadow"}, ".ssh/id"
		}, ""},
		{"the root itself is never denied", func(t *testing.T, base string) (string, []string, string) {
			write(t, filepath.Join(base, "ws/.ssh/id"), "secret\n")
			return filepath.Join(base, "ws"), []string{filepath.Join(base, "ws"), base, filepath.Join(base, "w*")}, ".ssh/id"
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			root, deny, target := tc.setup(t, base)
			before := readTree(t, base)
			ws, err := NewWorkspace(root, &Options{DenyRead: deny})
			require.NoError(t, err)
			p, err := Parse(fmt.Sprintf(stealKey, target))
			require.NoError(t, err)
			_, err = ws.Apply(t.Context(), p)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrReadDenied)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Equal(t, before, readTree(t, base), "a denied patch changes nothing")
		})
	}
}

func TestDenyReadInvalid(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ entry, want string }{
		{"~/.ssh", "expand ~"},
		{".ssh", "want an absolute path"},
		{"", "want an absolute path"},
		{"/x/[", "invalid doublestar pattern"},
	} {
		_, err := NewWorkspace(dir, &Options{DenyRead: []string{tc.entry}})
		assert.ErrorContains(t, err, tc.want, "entry %q", tc.entry)
	}
}
