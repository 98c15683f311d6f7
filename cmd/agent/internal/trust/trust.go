// Package trust remembers which folders the user trusts to run their own
// configuration: the workspace files that can start programs or widen
// permissions (a project's .mcp.json today; project hooks and settings when
// the command reads them). A folder is trusted with the content it had: the
// store keeps a SHA-256 of each file the user agreed to, and a file whose
// content differs, or a file the user never saw, is not covered.
//
//	s := trust.NewStore(filepath.Join(stateDir, "trusted.json"))
//	files := map[string]string{".mcp.json": trust.Hash(data)}
//	f, ok, err := s.Lookup(root)
//	if ok && len(f.Changed(files)) == 0 {
//		// load the workspace's configuration
//	}
//	err = s.Grant(root, files, time.Now()) // the user said yes
//
// The store is one JSON file, written whole through a temporary file and a
// rename, under an advisory lock so that two commands granting at once keep
// both grants.
package trust

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Version is the version of the store's file format.
const Version = 1

// Folder is one trusted folder.
type Folder struct {
	// Path is the folder: the root of a repository (the directory holding
	// .git), or a workspace outside any repository. It is absolute and
	// clean.
	Path string `json:"path"`
	// Files maps each trusted file, as a slash-separated path relative to
	// Path, to the [Hash] of the content the user agreed to.
	Files map[string]string `json:"files"`
	// Time is when the folder was last granted.
	Time time.Time `json:"time"`
}

// Changed returns the names of files (relative path to [Hash]) whose
// content f does not cover: files f never saw and files whose hash
// differs, sorted. A nil result means f covers all of them.
func (f Folder) Changed(files map[string]string) []string {
	var out []string
	for name, h := range files {
		if f.Files[name] != h {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Hash returns the content hash the store keeps for a file: "sha256:"
// followed by the hex digest of data.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Store is the trusted folders of one user, kept in a file. Its methods
// may be called concurrently, also by several processes.
type Store struct {
	path string
}

// NewStore returns the store kept in the file at path. The file and its
// directory are created by the first [Store.Grant]; a missing file is an
// empty store.
func NewStore(path string) *Store { return &Store{path: path} }

// Path returns the store's file.
func (s *Store) Path() string { return s.path }

// storeFile is the JSON document.
type storeFile struct {
	V       int      `json:"v"`
	Folders []Folder `json:"folders"`
}

// parse reads a store document. It rejects unknown versions, folders
// without an absolute clean path, duplicate folders and malformed hashes,
// so that a hand-edited file that does not say what it seems to is an
// error rather than a silent grant.
func parse(data []byte) ([]Folder, error) {
	var sf storeFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return nil, fmt.Errorf("not a trust store: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a trust store: data after the JSON object")
	}
	if sf.V != Version {
		return nil, fmt.Errorf("version %d, want %d", sf.V, Version)
	}
	seen := map[string]bool{}
	for i, f := range sf.Folders {
		if !filepath.IsAbs(f.Path) || filepath.Clean(f.Path) != f.Path {
			return nil, fmt.Errorf("folders[%d]: path %q is not an absolute clean path", i, f.Path)
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("folders[%d]: %s is listed twice", i, f.Path)
		}
		seen[f.Path] = true
		for name, h := range f.Files {
			if name == "" || strings.HasPrefix(name, "/") || !validHash(h) {
				return nil, fmt.Errorf("folders[%d]: file %q: want a relative path and a sha256:HEX hash, got %q", i, name, h)
			}
		}
	}
	return sf.Folders, nil
}

func validHash(h string) bool {
	hx, ok := strings.CutPrefix(h, "sha256:")
	if !ok || len(hx) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(hx)
	return err == nil && strings.ToLower(hx) == hx
}

// load reads the store; a missing file is an empty store.
func (s *Store) load() ([]Folder, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("trust store: %w", err)
	}
	folders, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("trust store %s: %w (fix it, or delete it and trust your folders again)", s.path, err)
	}
	return folders, nil
}

// List returns the trusted folders, sorted by path.
func (s *Store) List() ([]Folder, error) {
	folders, err := s.load()
	if err != nil {
		return nil, err
	}
	slices.SortFunc(folders, func(a, b Folder) int { return strings.Compare(a.Path, b.Path) })
	return folders, nil
}

// Lookup returns the record of the folder at path (absolute and clean), if
// it is trusted.
func (s *Store) Lookup(path string) (Folder, bool, error) {
	folders, err := s.load()
	if err != nil {
		return Folder{}, false, err
	}
	for _, f := range folders {
		if f.Path == path {
			return f, true, nil
		}
	}
	return Folder{}, false, nil
}

// Grant trusts the folder at path (absolute) with files (relative path to
// [Hash]). Files the folder was trusted with before stay trusted unless
// files names them with another hash: a repository whose subdirectories
// hold different configurations keeps each one the user agreed to.
func (s *Store) Grant(path string, files map[string]string, now time.Time) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("trust %s: not an absolute path", path)
	}
	path = filepath.Clean(path)
	for name, h := range files {
		if name == "" || strings.HasPrefix(name, "/") || !validHash(h) {
			return fmt.Errorf("trust %s: file %q: want a relative path and a sha256:HEX hash", path, name)
		}
	}
	return s.update(func(folders []Folder) []Folder {
		i := slices.IndexFunc(folders, func(f Folder) bool { return f.Path == path })
		if i < 0 {
			folders = append(folders, Folder{Path: path})
			i = len(folders) - 1
		}
		merged := maps.Clone(folders[i].Files)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, files)
		folders[i].Files, folders[i].Time = merged, now.UTC()
		return folders
	})
}

// Revoke forgets the folder at path. It reports whether the folder was
// trusted.
func (s *Store) Revoke(path string) (bool, error) {
	path = filepath.Clean(path)
	found := false
	err := s.update(func(folders []Folder) []Folder {
		n := len(folders)
		folders = slices.DeleteFunc(folders, func(f Folder) bool { return f.Path == path })
		found = len(folders) < n
		return folders
	})
	return found, err
}

// update applies change to the stored folders under the store's lock and
// writes the result atomically.
func (s *Store) update(change func([]Folder) []Folder) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	lock, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("trust store: lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) // closing would unlock too

	folders, err := s.load()
	if err != nil {
		return err
	}
	folders = change(folders)
	if folders == nil {
		folders = []Folder{} // "folders": [] rather than null
	}
	slices.SortFunc(folders, func(a, b Folder) int { return strings.Compare(a.Path, b.Path) })
	data, err := json.MarshalIndent(storeFile{V: Version, Folders: folders}, "", "  ")
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".trusted-*.json")
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path)
	}
	if err != nil {
		return fmt.Errorf("trust store: %w", err)
	}
	return nil
}
