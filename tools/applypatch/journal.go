package applypatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// A call that carries an idempotency key ([tools.AttemptFrom]: a durable
// driver that may run it again after a crash) is journaled: before its
// patch writes anything, the tool records under the key what each file it
// touches holds before and what it will hold after (SHA-256 hashes) and
// the summary it answers with. When a call with the same key comes again:
//
//   - every file already holds what the patch produces: the patch was
//     applied; the call answers the same summary and writes nothing;
//   - every file still holds what it held before: nothing was written;
//     the patch is applied as usual;
//   - some do and some do not (the process died while writing): the call
//     fails, naming the files, and writes nothing.
//
// A call without a key (the in-process loop) is not journaled.

// journalTTL is how long a journal entry is kept.
const journalTTL = 7 * 24 * time.Hour

// journalEntry is what a keyed call recorded before it wrote.
type journalEntry struct {
	Patch   string            `json:"patch"`   // SHA-256 of the patch text
	Before  map[string]string `json:"before"`  // path: hash of its content, "" for no file
	After   map[string]string `json:"after"`   // path: hash of its content once patched, "" for no file
	Summary string            `json:"summary"` // the call's answer
}

func hashOf(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// journalDir returns the directory of the tool's journal.
func (t *Tool) journalDir() string {
	if t.opts.JournalDir != "" {
		return t.opts.JournalDir
	}
	return filepath.Join(os.TempDir(), "agentloop-applypatch")
}

// journalPath returns the file of key's entry: one per workspace and key.
func (t *Tool) journalPath(key string) string {
	return filepath.Join(t.journalDir(), hashOf(t.ws.dir+"\x00"+key)+".json")
}

// entryOf returns the journal entry of a patch about to be written.
func entryOf(patchText string, r *Result) *journalEntry {
	e := &journalEntry{Patch: hashOf(patchText), Before: map[string]string{}, After: map[string]string{}, Summary: r.Summary()}
	before := func(path, h string) {
		if _, ok := e.Before[path]; !ok {
			e.Before[path] = h
		}
	}
	for _, c := range r.Changes {
		switch {
		case c.Kind == Add:
			before(c.Path, "")
		case c.From != "":
			before(c.From, hashOf(c.Old))
			before(c.Path, "")
			e.After[c.From] = ""
		default:
			before(c.Path, hashOf(c.Old))
		}
		if c.Kind == Delete {
			e.After[c.Path] = ""
		} else {
			e.After[c.Path] = hashOf(c.New)
		}
	}
	return e
}

// record writes key's entry before the patch writes: to a temporary file
// renamed into place, synced, so that a crash leaves the whole entry or
// none. It also removes entries older than a week.
func (t *Tool) record(key string, e *journalEntry) error {
	dir := t.journalDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("applypatch: journal: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("applypatch: journal: %w", err)
	}
	f, err := os.CreateTemp(dir, ".entry-*")
	if err != nil {
		return fmt.Errorf("applypatch: journal: %w", err)
	}
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), t.journalPath(key))
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("applypatch: journal: %w", werr)
	}
	t.sweep(dir)
	return nil
}

// sweep removes the journal entries older than journalTTL.
func (t *Tool) sweep(dir string) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range des {
		if fi, err := de.Info(); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > journalTTL {
			_ = os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// replay answers a keyed call whose key has an entry whose files already
// hold the patch's result, or fails one that was interrupted while writing;
// done is false when the patch should be applied as usual.
func (t *Tool) replay(ctx context.Context, call tools.Call, key, patchText string) (out responses.Item, done bool, err error) {
	b, err := os.ReadFile(t.journalPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return responses.Item{}, false, nil
	}
	if err != nil {
		return responses.Item{}, true, fmt.Errorf("applypatch: journal: %w", err)
	}
	var e journalEntry
	if err := json.Unmarshal(b, &e); err != nil || e.Patch != hashOf(patchText) {
		return responses.Item{}, false, nil // not this patch's entry
	}
	paths := make([]string, 0, len(e.After))
	for p := range e.After {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	now, err := t.ws.hashes(ctx, paths)
	if err != nil {
		return responses.Item{}, true, err
	}
	var applied, not []string
	for _, p := range paths {
		switch now[p] {
		case e.After[p]:
			applied = append(applied, p)
		default:
			not = append(not, p)
		}
	}
	switch {
	case len(not) == 0:
		t.ws.log.Info("applypatch: the patch was already applied by an earlier attempt of this call; nothing written", "call_id", call.CallID)
		return tools.TextOutput(call, e.Summary, false), true, nil
	case len(applied) == 0:
		return responses.Item{}, false, nil
	}
	for _, p := range not {
		if now[p] != e.Before[p] {
			// Changed by something else since: apply as usual, which
			// checks the patch against what is there now.
			return responses.Item{}, false, nil
		}
	}
	return responses.Item{}, true, fmt.Errorf("an earlier attempt of this call was interrupted while writing its patch: %s already hold the result, %s do not; nothing was written now: check the files and send a patch for what is missing",
		strings.Join(applied, ", "), strings.Join(not, ", "))
}

// hashes returns the hash of the content of each path ("" for no file),
// read as a patch reads them.
func (w *Workspace) hashes(ctx context.Context, paths []string) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return nil, fmt.Errorf("applypatch: open workspace: %w", err)
	}
	defer root.Close()
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		if err := w.check(p); err != nil {
			return nil, err
		}
		fi, err := root.Lstat(filepath.FromSlash(p))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out[p] = ""
			continue
		case err != nil:
			return nil, rootErr(err)
		case !fi.Mode().IsRegular():
			out[p] = "not a regular file"
			continue
		}
		b, err := root.ReadFile(filepath.FromSlash(p))
		if err != nil {
			return nil, rootErr(err)
		}
		out[p] = hashOf(string(b))
	}
	return out, nil
}
