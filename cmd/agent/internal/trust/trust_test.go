package trust

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestGrantLookupRevoke(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "state", "trusted.json"))
	_, ok, err := s.Lookup("/src/a")
	require.NoError(t, err)
	assert.False(t, ok, "a missing file is an empty store")

	v1 := map[string]string{".mcp.json": Hash([]byte("one"))}
	require.NoError(t, s.Grant("/src/a", v1, t0))
	f, ok, err := s.Lookup("/src/a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, Folder{Path: "/src/a", Files: v1, Time: t0}, f)
	assert.Empty(t, f.Changed(v1))

	st, err := os.Stat(s.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the store is private")

	// Another subdirectory's config is added; the first stays trusted.
	sub := map[string]string{"sub/.mcp.json": Hash([]byte("two"))}
	require.NoError(t, s.Grant("/src/a", sub, t0.Add(time.Hour)))
	f, _, err = s.Lookup("/src/a")
	require.NoError(t, err)
	assert.Empty(t, f.Changed(v1))
	assert.Empty(t, f.Changed(sub))
	assert.Equal(t, t0.Add(time.Hour), f.Time)

	require.NoError(t, s.Grant("/src/b", nil, t0))
	list, err := s.List()
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "/src/a", list[0].Path)
	assert.Equal(t, "/src/b", list[1].Path)

	found, err := s.Revoke("/src/a/")
	require.NoError(t, err)
	assert.True(t, found, "the path is cleaned")
	found, err = s.Revoke("/src/a")
	require.NoError(t, err)
	assert.False(t, found)
	list, err = s.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "/src/b", list[0].Path)
}

func TestChanged(t *testing.T) {
	f := Folder{Path: "/r", Files: map[string]string{".mcp.json": Hash([]byte("a")), "x/.mcp.json": Hash([]byte("x"))}}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"nothing to cover", nil, nil},
		{"same content", map[string]string{".mcp.json": Hash([]byte("a"))}, nil},
		{"edited", map[string]string{".mcp.json": Hash([]byte("a "))}, []string{".mcp.json"}},
		{"new file", map[string]string{".mcp.json": Hash([]byte("a")), "y/.mcp.json": Hash([]byte("y"))}, []string{"y/.mcp.json"}},
		{"sorted", map[string]string{"z": Hash(nil), "b": Hash(nil)}, []string{"b", "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, f.Changed(tc.files))
		})
	}
}

func TestBadStore(t *testing.T) {
	h := Hash([]byte("x"))
	for _, tc := range []struct{ name, data, want string }{
		{"not json", "{", "not a trust store"},
		{"unknown field", `{"v":1,"folders":[],"extra":1}`, "unknown field"},
		{"version", `{"v":2,"folders":[]}`, "version 2, want 1"},
		{"relative", `{"v":1,"folders":[{"path":"src"}]}`, "not an absolute clean path"},
		{"unclean", `{"v":1,"folders":[{"path":"/a/../b"}]}`, "not an absolute clean path"},
		{"twice", `{"v":1,"folders":[{"path":"/a"},{"path":"/a"}]}`, "listed twice"},
		{"bad hash", `{"v":1,"folders":[{"path":"/a","files":{".mcp.json":"md5:00"}}]}`, "sha256:HEX"},
		{"absolute file", `{"v":1,"folders":[{"path":"/a","files":{"/etc/x":"` + h + `"}}]}`, "relative path"},
		{"trailing", `{"v":1,"folders":[]} {}`, "data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trusted.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.data), 0o600))
			s := NewStore(path)
			_, _, err := s.Lookup("/a")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path, "the error names the file")
			assert.Contains(t, err.Error(), "delete it", "and says what to do")
			assert.Error(t, s.Grant("/a", nil, t0), "a broken store is not overwritten")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.data, string(data))
		})
	}
}

func TestGrantRejects(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "trusted.json"))
	assert.ErrorContains(t, s.Grant("rel", nil, t0), "not an absolute path")
	assert.ErrorContains(t, s.Grant("/a", map[string]string{"x": "nope"}, t0), "sha256:HEX")
	assert.NoFileExists(t, s.Path())
}

// Grants from many writers at once are all kept: the lock serialises the
// read-modify-write.
func TestConcurrentGrants(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "trusted.json"))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			// A separate Store per writer, as separate processes would have.
			assert.NoError(t, NewStore(s.Path()).Grant(filepath.Join("/src", string(rune('a'+i))), nil, t0))
		})
	}
	wg.Wait()
	list, err := s.List()
	require.NoError(t, err)
	assert.Len(t, list, 16)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"v":1,"folders":[{"path":"/a","files":{".mcp.json":"` + Hash(nil) + `"},"time":"2026-01-02T03:04:05Z"}]}`))
	f.Add([]byte(`{"v":1,"folders":[]}`))
	f.Add([]byte(`{"v":1,"folders":null}`))
	f.Add([]byte(`{"v":1,"folders":[{"path":"/a"},{"path":"/a/"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		folders, err := parse(data)
		if err != nil {
			return
		}
		// What parses is valid, and survives a round trip unchanged.
		for _, fo := range folders {
			if !filepath.IsAbs(fo.Path) || filepath.Clean(fo.Path) != fo.Path {
				t.Fatalf("accepted path %q", fo.Path)
			}
			for _, h := range fo.Files {
				if !validHash(h) {
					t.Fatalf("accepted hash %q", h)
				}
			}
		}
		out, err := json.Marshal(storeFile{V: Version, Folders: folders})
		if err != nil {
			t.Fatal(err)
		}
		again, err := parse(out)
		if err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		out2, _ := json.Marshal(storeFile{V: Version, Folders: again})
		if string(out) != string(out2) {
			t.Fatalf("round trip changed:\n%s\n%s", out, out2)
		}
	})
}
