package session

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentloop/agentloop/responses"
	store "github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sqlite"
)

// MigratedName is the file that records the migration of the session
// files of earlier versions; while it exists they are not read again.
const MigratedName = "MIGRATED.txt"

// openStore opens the database in dir, first migrating the session files
// of earlier versions once. It returns what the migration had to say.
func openStore(dir string) (*sqlite.Store, []string, error) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, DBName), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	notes, err := migrate(ctx, st, dir)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, notes, nil
}

// migrate copies the JSON-lines session files of dir into st, once.
func migrate(ctx context.Context, st *sqlite.Store, dir string) ([]string, error) {
	marker := filepath.Join(dir, MigratedName)
	if _, err := os.Stat(marker); err == nil {
		return nil, nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) == 0 {
		return nil, nil
	}
	slices.Sort(files)
	var notes []string
	n := 0
	for _, path := range files {
		id := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		if !IsID(id) {
			continue
		}
		note, err := migrateFile(ctx, st, path, id)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: not migrated: %v", filepath.Base(path), err))
			continue
		}
		n++
		if note != "" {
			notes = append(notes, note)
		}
	}
	report := fmt.Sprintf("%s: %d session files of an earlier version were copied into %s; the files are kept but no longer read.\n",
		time.Now().UTC().Format(time.RFC3339), n, DBName)
	for _, note := range notes {
		report += note + "\n"
	}
	if err := os.WriteFile(marker, []byte(report), 0o600); err != nil {
		return notes, fmt.Errorf("session: record the migration: %w", err)
	}
	return append([]string{fmt.Sprintf("migrated %d session files into %s", n, filepath.Join(dir, DBName))}, notes...), nil
}

// migrateFile copies one session file; it says what it dropped.
func migrateFile(ctx context.Context, st *sqlite.Store, path, id string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := parseFile(data)
	if err != nil {
		return "", err
	}
	f.meta.Header.ID = id
	b, err := json.Marshal(f.meta)
	if err != nil {
		return "", err
	}
	_, err = st.Append(ctx, id, 0, store.Turn{Items: f.items, ResponseID: f.prevID, Meta: b})
	if errors.Is(err, store.ErrConflict) {
		return "", nil // migrated already (by another process)
	}
	if err != nil {
		return "", err
	}
	if f.dropped != "" {
		return fmt.Sprintf("%s: %s", filepath.Base(path), f.dropped), nil
	}
	return "", nil
}

// line is a line of a session file of version 1.
type line struct {
	Type   string          `json:"type"`
	Time   time.Time       `json:"time,omitzero"`
	Text   string          `json:"text,omitempty"`
	Item   *responses.Item `json:"item,omitempty"`
	Result *Result         `json:"result,omitempty"`
}

// file is what a session file of version 1 holds.
type file struct {
	meta    meta
	items   []responses.Item
	prevID  string
	dropped string // what was dropped: a half-written last line
}

// parseFile reads a session file of version 1. Every whole line is kept;
// a half-written last line (a crash while writing it) is dropped and
// described in dropped. A bad line before the last is an error.
func parseFile(data []byte) (*file, error) {
	f := &file{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 256<<20)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if n == 1 {
			if err := json.Unmarshal(b, &f.meta.Header); err != nil || f.meta.Header.Type != "session" {
				return nil, fmt.Errorf("line 1: not a session header")
			}
			if f.meta.Header.V != Version {
				return nil, fmt.Errorf("format version %d, want %d", f.meta.Header.V, Version)
			}
			continue
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			if !sc.Scan() {
				f.dropped = fmt.Sprintf("dropped its half-written last line %d (%d bytes: %.40q)", n, len(b), b)
				break
			}
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch l.Type {
		case "prompt":
			f.meta.Tasks++
			if f.meta.Prompt == "" {
				f.meta.Prompt = promptLine(l.Text)
			}
		case "item":
			if l.Item != nil && len(l.Item.Raw()) > 0 {
				f.items = append(f.items, *l.Item)
			}
		case "result":
			if r := l.Result; r != nil {
				if r.ResponseID != "" {
					f.prevID = r.ResponseID
				}
				f.meta.Pending = r.Pending
				if r.Approved != nil {
					f.meta.Approved = r.Approved
				}
				f.meta.Result = r
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("empty file")
	}
	return f, nil
}
