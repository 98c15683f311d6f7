// Package session stores the agent command's sessions in a SQLite database
// (sessions.db under the sessions directory) through the library's
// session store (session/sqlite), so a session survives a crash of the
// command: with [Session.Recorder] attached to a run, every completed turn
// (its response id, items and tool outputs) is saved as it completes, and a
// session resumed after kill -9 continues after its last completed turn.
//
// A session is one conversation of the store, whose metadata holds the
// header (model, mode, workspace), the number of tasks, the outputs not
// yet sent and the "approve always" keys:
//
//	s, err := session.Create(dir, session.Header{Model: "gpt-5-codex"})
//	...
//	s.AppendPrompt("fix the test")
//	s.AppendItems(items)
//	s.AppendResult(session.Result{ResponseID: id})
//	...
//	s, err = session.Open(dir, "")     // the latest session
//	prev, transcript, pending := s.State() // how to continue
//
// One process at a time has a session open: [Open] of a session that
// another agent process has open fails with an error matching [ErrBusy].
//
// Sessions of earlier versions, one JSON-lines file each, are copied into
// the database the first time the directory is opened; the files are kept,
// and MIGRATED.txt beside them says what was copied and what was dropped
// (a half-written last line).
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	store "github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sqlite"
)

// Version is the version of the header format, in the header's "v".
const Version = 1

// DBName is the name of the database file in the sessions directory.
const DBName = "sessions.db"

var (
	// ErrNotFound is returned by Open when there is no such session (or
	// none at all when the id is empty).
	ErrNotFound = errors.New("no such session")
	// ErrBusy is matched by the error of Open when another agent process
	// has the session open.
	ErrBusy = errors.New("session in use")
)

// Header describes a session.
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

// Result is what ends a task.
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

// meta is the store metadata of a session.
type meta struct {
	Header   Header           `json:"header"`
	Tasks    int              `json:"tasks"`
	Pending  []responses.Item `json:"pending,omitempty"`
	Approved []string         `json:"approved,omitempty"`
	Result   *Result          `json:"result,omitempty"`
	Running  bool             `json:"running,omitempty"` // a task started and has not recorded its end
	// Prompt is the first line of the session's first prompt, clipped,
	// for the list of sessions.
	Prompt string `json:"prompt,omitempty"`
	// PendingStored says the pending outputs are among the items (a turn
	// recorded them).
	PendingStored bool `json:"pending_stored,omitempty"`
}

// Session is an open session. Its methods are safe for concurrent use.
type Session struct {
	Header Header
	dir    string

	mu            sync.Mutex
	st            *sqlite.Store // nil before Save and after Close
	lock          *os.File
	closed        bool
	version       int64
	prevID        string
	transcript    []responses.Item
	pending       []responses.Item
	approved      []string
	tasks         int
	running       bool
	result        *Result
	unsaved       []responses.Item // items appended before Save
	recording     bool             // a Recorder recorded the current task
	pendingStored bool             // the pending outputs are among the items
	recorded      int              // items of the current run recorded by it
	prompt        string           // the first prompt's first line, clipped
	notes         []string
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

func newSession(dir string, h Header) *Session {
	if h.Created.IsZero() {
		h.Created = time.Now()
	}
	if h.ID == "" {
		h.ID = NewID(h.Created)
	}
	h.V, h.Type = Version, "session"
	return &Session{Header: h, dir: dir}
}

// Create starts a new session in dir (created if missing) and saves it.
// h.ID and h.Created are filled in when empty.
func Create(dir string, h Header) (*Session, error) {
	s := newSession(dir, h)
	if err := s.Save(); err != nil {
		return nil, err
	}
	return s, nil
}

// New returns a new session that is not saved until [Session.Save] (or
// the first turn its Recorder records): a task that never got a response
// leaves no session behind. What is appended before is kept in memory and
// saved by Save.
func New(dir string, h Header) *Session { return newSession(dir, h) }

// Save saves a session made by [New], and from then on everything as it
// is appended. It does nothing for a session already saved.
func (s *Session) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.save()
}

func (s *Session) save() error {
	if s.st != nil {
		return nil
	}
	if s.closed {
		return fmt.Errorf("session %s is closed", s.Header.ID)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	st, notes, err := openStore(s.dir)
	if err != nil {
		return err
	}
	s.notes = append(s.notes, notes...)
	lock, err := lockSession(s.dir, s.Header.ID)
	if err != nil {
		st.Close()
		return err
	}
	s.st, s.lock = st, lock
	items := s.unsaved
	s.unsaved = nil
	if err := s.appendLocked(items, "", false); err != nil {
		s.unsaved = items
		s.releaseLocked()
		return err
	}
	return nil
}

// Saved reports whether the session is saved.
func (s *Session) Saved() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st != nil
}

// Open opens the session id in dir, or the most recently updated one when
// id is empty. It returns an error wrapping ErrNotFound when there is
// none, and one wrapping ErrBusy when another agent process has it open.
func Open(dir, id string) (*Session, error) {
	if id != "" && !IsID(id) {
		return nil, fmt.Errorf("session %q: %w (ids look like 20260102T150405-a1b2c3)", id, ErrNotFound)
	}
	if _, err := os.Stat(dir); err != nil {
		if id == "" {
			return nil, fmt.Errorf("no saved sessions in %s: %w", dir, ErrNotFound)
		}
		return nil, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	st, notes, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	if id == "" {
		if id, err = latest(st, dir); err != nil {
			st.Close()
			return nil, err
		}
	}
	s := &Session{dir: dir, st: st, notes: notes}
	if c, err := st.Load(context.Background(), id, &store.LoadOptions{Last: -1}); err != nil || c.Version == 0 {
		st.Close()
		if err == nil {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	lock, err := lockSession(dir, id)
	if err != nil {
		st.Close()
		return nil, err
	}
	s.lock = lock
	// Loaded under the lock: the process that held it may have recorded
	// more before it let go.
	if err := s.load(id); err != nil {
		s.Close()
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	return s, nil
}

// load reads the session id from the store.
func (s *Session) load(id string) error {
	ctx := context.Background()
	c, err := s.st.Load(ctx, id, &store.LoadOptions{Last: -1})
	if err != nil {
		return err
	}
	if c.Version == 0 {
		return ErrNotFound
	}
	var m meta
	if err := json.Unmarshal(c.Meta, &m); err != nil || m.Header.Type != "session" {
		return fmt.Errorf("not a session of the agent command (in %s)", s.st.Path())
	}
	if m.Header.V != Version {
		return fmt.Errorf("format version %d, want %d", m.Header.V, Version)
	}
	if m.Header.Stateless {
		if c, err = s.st.Load(ctx, id, &store.LoadOptions{History: true}); err != nil {
			return err
		}
	}
	s.Header, s.version, s.prevID = m.Header, c.Version, c.ResponseID
	s.transcript, s.pending, s.approved, s.tasks, s.result = c.Items, m.Pending, m.Approved, m.Tasks, m.Result
	s.running, s.pendingStored, s.prompt = m.Running, m.PendingStored, m.Prompt
	return nil
}

// Latest returns the id of the session updated last in dir.
func Latest(dir string) (string, error) {
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("no saved sessions in %s: %w", dir, ErrNotFound)
	}
	st, _, err := openStore(dir)
	if err != nil {
		return "", err
	}
	defer st.Close()
	return latest(st, dir)
}

func latest(st *sqlite.Store, dir string) (string, error) {
	infos, err := st.List(context.Background(), nil)
	if err != nil {
		return "", err
	}
	for _, in := range infos {
		if IsID(in.ID) {
			return in.ID, nil
		}
	}
	return "", fmt.Errorf("no saved sessions in %s: %w", dir, ErrNotFound)
}

// appendLocked appends items (and the session's metadata) to the store;
// s.mu is held and the session is saved.
func (s *Session) appendLocked(items []responses.Item, responseID string, running bool) error {
	s.running = running
	m := meta{Header: s.Header, Tasks: s.tasks, Pending: s.pending, Approved: s.approved, Result: s.result, Running: running, PendingStored: s.pendingStored, Prompt: s.prompt}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	v, err := s.st.Append(context.Background(), s.Header.ID, s.version, store.Turn{Items: items, ResponseID: responseID, Meta: b})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("session %s was changed by another agent process; resume it again to continue from there: %w", s.Header.ID, err)
		}
		return fmt.Errorf("session %s: %w", s.Header.ID, err)
	}
	s.version = v
	if responseID != "" {
		s.prevID = responseID
	}
	if s.Header.Stateless {
		s.transcript = append(s.transcript, items...)
	}
	return nil
}

// write appends, or keeps for Save.
func (s *Session) write(items []responses.Item, responseID string, running bool) error {
	if s.closed {
		return fmt.Errorf("session %s is closed", s.Header.ID)
	}
	if s.st == nil {
		s.unsaved = append(s.unsaved, items...)
		if responseID != "" {
			s.prevID = responseID
		}
		s.running = running
		return nil
	}
	return s.appendLocked(items, responseID, running)
}

// ID returns the session's id.
func (s *Session) ID() string { return s.Header.ID }

// Path returns the database that keeps the session.
func (s *Session) Path() string { return filepath.Join(s.dir, DBName) }

// Notes returns what opening the sessions directory had to say: sessions
// migrated from files, and lines dropped from them.
func (s *Session) Notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes)
}

// AppendPrompt records the prompt of a new task.
func (s *Session) AppendPrompt(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks++
	if s.prompt == "" {
		s.prompt = promptLine(text)
	}
	s.recording, s.recorded = false, 0
	return s.write(nil, "", true)
}

// AppendItems records conversation items. In stateless mode they must be
// exactly the items to replay, in order. After a task whose run had the
// session's Recorder, which recorded its items as they came, it does
// nothing.
func (s *Session) AppendItems(items []responses.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recording {
		return nil
	}
	if s.Header.Stateless && s.st == nil {
		s.transcript = append(s.transcript, items...)
	}
	return s.write(items, "", s.running)
}

// AppendResult records the end of a task. An empty ResponseID keeps the
// previous one (the task produced no response).
func (s *Session) AppendResult(r Result) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	s.pending = r.Pending
	if r.Approved != nil {
		s.approved = r.Approved
	}
	s.result = &r
	s.pendingStored = s.recording && len(r.Pending) > 0
	s.recording = false
	return s.write(nil, r.ResponseID, false)
}

// State returns how to continue the conversation: the last response id
// (chained mode), the items recorded (stateless mode: the transcript to
// replay), and outputs that must be sent before the next input (in
// stateless mode, only those the transcript does not hold yet).
func (s *Session) State() (prevID string, transcript, pending []responses.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending = slices.Clone(s.pending)
	if s.Header.Stateless && len(pending) > 0 {
		stored := map[string]bool{}
		for _, it := range s.transcript {
			stored[string(it.Raw())] = true
		}
		pending = slices.DeleteFunc(pending, func(it responses.Item) bool { return stored[string(it.Raw())] })
	}
	return s.prevID, slices.Clone(s.transcript), pending
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

// Interrupted reports whether the last task did not record its end: its
// process was killed. Its completed turns are saved, and State continues
// after the last of them.
func (s *Session) Interrupted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Close closes the session and lets other processes open it. It is safe
// to call more than once.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.releaseLocked()
}

func (s *Session) releaseLocked() error {
	var err error
	if s.st != nil {
		err = s.st.Close()
		s.st = nil
	}
	if s.lock != nil {
		unlock(s.lock)
		s.lock = nil
	}
	return err
}

// Recorder returns the recorder to attach to a task's run
// ([agent.WithRecorder]): it saves every completed turn as it completes
// (saving a new session at its first turn), so a process killed during
// the task loses no completed turn, and State continues after the last
// one. The task's AppendItems is then a no-op.
func (s *Session) Recorder() agent.Recorder { return (*recorder)(s) }

type recorder Session

func (r *recorder) Start(ctx context.Context, input []responses.Item) error {
	s := (*Session)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recording, s.recorded = true, 0
	items := input
	if s.pendingStored {
		// The unsent outputs are stored already, by the turn that
		// produced them.
		stored := map[string]bool{}
		for _, it := range s.pending {
			stored[string(it.Raw())] = true
		}
		items = slices.DeleteFunc(slices.Clone(input), func(it responses.Item) bool { return stored[string(it.Raw())] })
	}
	return s.write(items, "", true)
}

func (r *recorder) Turn(ctx context.Context, t *agent.RecordedTurn) error {
	s := (*Session)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		if err := s.save(); err != nil {
			return err
		}
	}
	s.pending, s.pendingStored = slices.Clone(t.State.Input), true
	if len(t.State.AlwaysApproved) > 0 {
		s.approved = slices.Clone(t.State.AlwaysApproved)
	}
	if err := s.write(t.Items, t.ResponseID, true); err != nil {
		return err
	}
	s.recorded += len(t.Items)
	return nil
}

func (r *recorder) End(ctx context.Context, res *agent.Result, err error) error {
	s := (*Session)(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(res.Items) <= s.recorded || s.st == nil && res.ResponseID == "" {
		return nil
	}
	if err := s.save(); err != nil {
		return err
	}
	items := res.Items[s.recorded:]
	s.recorded = len(res.Items)
	return s.write(items, res.ResponseID, true)
}
