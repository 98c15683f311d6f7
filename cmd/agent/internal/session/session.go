// Package session stores the agent command's sessions: one JSON-lines file
// per session under a directory, appended to as the session goes on, so a
// crash loses at most the line being written.
//
// A file starts with a header line (type "session"). Each task adds a
// "prompt" line, "item" lines (the conversation items the task produced;
// in stateless mode exactly what must be replayed) and a "result" line with
// the id of the last response and the outputs not yet sent, which is all
// that is needed to continue:
//
//	s, err := session.Create(dir, session.Header{Model: "gpt-5-codex"})
//	...
//	s.AppendPrompt("fix the test")
//	s.AppendItems(items)
//	s.AppendResult(session.Result{ResponseID: id})
//	...
//	s, err = session.Open(dir, "")     // the latest session
//	prev, transcript, pending := s.State() // how to continue
package session

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// Version is the version of the file format, in the header's "v".
const Version = 1

// ErrNotFound is returned by Open when there is no such session (or none
// at all when the id is empty).
var ErrNotFound = errors.New("no such session")

// Header is the first line of a session file.
type Header struct {
	V         int       `json:"v"`
	Type      string    `json:"type"` // "session"
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	Model     string    `json:"model"`
	Provider  string    `json:"provider,omitempty"`
	BaseURL   string    `json:"base_url,omitempty"`
	Dir       string    `json:"dir,omitempty"`
	Stateless bool      `json:"stateless,omitempty"`
}

// Result is the line that ends a task.
type Result struct {
	Time       time.Time        `json:"time"`
	ResponseID string           `json:"response_id,omitempty"`
	Pending    []responses.Item `json:"pending,omitempty"`  // outputs to send with the next input
	Approved   []string         `json:"approved,omitempty"` // "approve always" keys granted so far
	Usage      responses.Usage  `json:"usage"`
	Turns      int              `json:"turns"`
	ToolCalls  int              `json:"tool_calls"`
	StopReason string           `json:"stop_reason,omitempty"`
	Error      string           `json:"error,omitempty"`
}

type line struct {
	Type   string          `json:"type"`
	Time   time.Time       `json:"time,omitzero"`
	Text   string          `json:"text,omitempty"`
	Item   *responses.Item `json:"item,omitempty"`
	Result *Result         `json:"result,omitempty"`
}

// Session is an open session file. Its methods are safe for concurrent use.
type Session struct {
	Header Header
	path   string

	mu         sync.Mutex
	f          *os.File
	prevID     string
	transcript []responses.Item
	pending    []responses.Item
	approved   []string
	tasks      int
}

var idPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}-[0-9a-f]{6}$`)

// IsID reports whether s has the form of a session id.
func IsID(s string) bool { return idPattern.MatchString(s) }

// NewID returns a new session id: the UTC time and a random suffix, so ids
// sort by creation time.
func NewID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Create starts a new session file in dir (created if missing) and writes
// its header. h.ID and h.Created are filled in when empty.
func Create(dir string, h Header) (*Session, error) {
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	if h.ID == "" {
		h.ID = NewID(h.Created)
	}
	h.V, h.Type = Version, "session"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	path := filepath.Join(dir, h.ID+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s := &Session{Header: h, path: path, f: f}
	if err := s.write(h); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Open opens the session id in dir for appending, or the most recently
// written one when id is empty. It returns an error wrapping ErrNotFound
// when there is none.
func Open(dir, id string) (*Session, error) {
	if id == "" {
		latest, err := Latest(dir)
		if err != nil {
			return nil, err
		}
		id = latest
	}
	if !IsID(id) {
		return nil, fmt.Errorf("session %q: %w (ids look like 20260102T150405-a1b2c3)", id, ErrNotFound)
	}
	path := filepath.Join(dir, id+".jsonl")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s := &Session{path: path}
	if err := s.load(data); err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	s.f = f
	return s, nil
}

// Latest returns the id of the session written last in dir.
func Latest(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("session: %w", err)
	}
	var best string
	var bestTime time.Time
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".jsonl")
		if !ok || !IsID(id) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if t := info.ModTime(); best == "" || t.After(bestTime) || (t.Equal(bestTime) && id > best) {
			best, bestTime = id, t
		}
	}
	if best == "" {
		return "", fmt.Errorf("no saved sessions in %s: %w", dir, ErrNotFound)
	}
	return best, nil
}

func (s *Session) load(data []byte) error {
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
			if err := json.Unmarshal(b, &s.Header); err != nil || s.Header.Type != "session" {
				return fmt.Errorf("line 1: not a session header")
			}
			if s.Header.V != Version {
				return fmt.Errorf("format version %d, want %d", s.Header.V, Version)
			}
			continue
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			// A torn last line (a crash while writing) is ignored.
			if !sc.Scan() {
				break
			}
			return fmt.Errorf("line %d: %w", n, err)
		}
		switch l.Type {
		case "prompt":
			s.tasks++
		case "item":
			if l.Item != nil {
				s.transcript = append(s.transcript, *l.Item)
			}
		case "result":
			if l.Result != nil {
				s.applyResult(*l.Result)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("empty file")
	}
	return nil
}

func (s *Session) applyResult(r Result) {
	if r.ResponseID != "" {
		s.prevID = r.ResponseID
	}
	s.pending = r.Pending
	if r.Approved != nil {
		s.approved = r.Approved
	}
}

func (s *Session) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	b = append(b, '\n')
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

// ID returns the session's id.
func (s *Session) ID() string { return s.Header.ID }

// Path returns the session file's path.
func (s *Session) Path() string { return s.path }

// AppendPrompt records the prompt of a new task.
func (s *Session) AppendPrompt(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks++
	return s.write(line{Type: "prompt", Time: time.Now(), Text: text})
}

// AppendItems records conversation items. In stateless mode they must be
// exactly the items to replay, in order.
func (s *Session) AppendItems(items []responses.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range items {
		if err := s.write(line{Type: "item", Item: &items[i]}); err != nil {
			return err
		}
		s.transcript = append(s.transcript, items[i])
	}
	return nil
}

// AppendResult records the end of a task. An empty ResponseID keeps the
// previous one (the task produced no response).
func (s *Session) AppendResult(r Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	s.applyResult(r)
	return s.write(line{Type: "result", Time: r.Time, Result: &r})
}

// State returns how to continue the conversation: the last response id
// (chained mode), the items recorded (stateless mode: the transcript to
// replay), and outputs that must be sent before the next input.
func (s *Session) State() (prevID string, transcript, pending []responses.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prevID, slices.Clone(s.transcript), slices.Clone(s.pending)
}

// Approved returns the "approve always" keys the session has granted, as
// its last result recorded them.
func (s *Session) Approved() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.approved)
}

// Tasks returns the number of tasks recorded.
func (s *Session) Tasks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks
}

// Close closes the file. It is safe to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
