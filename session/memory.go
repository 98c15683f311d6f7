package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// Memory is a [Store] in memory, for tests and examples. It is safe for
// concurrent use; its contents end with the process.
type Memory struct {
	mu      sync.Mutex
	convs   map[string]*memConv
	pending map[string]*memPending
}

type memConv struct {
	info  Info
	items []memItem
}

// memItem is an item with the conversation's response id and base as they
// were after the append that added it, for Branch.
type memItem struct {
	item       responses.Item
	responseID string
	base       int64
}

type memPending struct {
	conv  string
	state []byte
	taken bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{convs: map[string]*memConv{}, pending: map[string]*memPending{}}
}

// Load implements [Store.Load].
func (m *Memory) Load(ctx context.Context, conv string, opts *LoadOptions) (*Conversation, error) {
	if err := checkID("conversation", conv); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.convs[conv]
	if c == nil {
		return &Conversation{Info: Info{ID: conv}}, nil
	}
	lo, hi := opts.Range(c.info)
	items := make([]responses.Item, 0, hi-lo)
	for _, it := range c.items[lo:hi] {
		items = append(items, it.item)
	}
	drop := opts.Trim(items)
	out := &Conversation{Info: c.info, Items: items[drop:], Start: lo + int64(drop)}
	out.Meta = bytes.Clone(c.info.Meta)
	return out, nil
}

// Append implements [Store.Append].
func (m *Memory) Append(ctx context.Context, conv string, version int64, t Turn) (int64, error) {
	if err := checkTurn(conv, t); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.convs[conv]
	var actual int64
	if c != nil {
		actual = c.info.Version
	}
	if actual != version {
		return 0, &ConflictError{Conversation: conv, Expected: version, Actual: actual}
	}
	if t.Pending != nil && m.pending[t.Pending.ID] != nil {
		return 0, fmt.Errorf("session: pending id %q: %w", t.Pending.ID, ErrExists)
	}
	now := time.Now()
	if c == nil {
		c = &memConv{info: Info{ID: conv, Created: now}}
		m.convs[conv] = c
	}
	if t.Compacted {
		c.info.Base = c.info.Len
	}
	if t.ResponseID != "" {
		c.info.ResponseID = t.ResponseID
	}
	if t.Meta != nil {
		c.info.Meta = bytes.Clone(t.Meta)
	}
	for _, it := range t.Items {
		c.items = append(c.items, memItem{item: it, // an Item's JSON is immutable
			responseID: c.info.ResponseID, base: c.info.Base})
	}
	c.info.Len = int64(len(c.items))
	c.info.Version++
	c.info.Updated = now
	if t.Pending != nil {
		if p := m.pending[t.Pending.Replaces]; p != nil && !p.taken {
			p.taken, p.state = true, nil
		}
		m.pending[t.Pending.ID] = &memPending{conv: conv, state: bytes.Clone(t.Pending.State)}
	}
	return c.info.Version, nil
}

// PutPending implements [Store.PutPending].
func (m *Memory) PutPending(ctx context.Context, conv, id string, state []byte) error {
	if err := checkID("conversation", conv); err != nil {
		return err
	}
	if err := checkID("pending", id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.convs[conv] == nil {
		return fmt.Errorf("session: conversation %q: %w", conv, ErrNotFound)
	}
	if m.pending[id] != nil {
		return fmt.Errorf("session: pending id %q: %w", id, ErrExists)
	}
	m.pending[id] = &memPending{conv: conv, state: bytes.Clone(state)}
	return nil
}

// TakePending implements [Store.TakePending].
func (m *Memory) TakePending(ctx context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pending[id]
	switch {
	case p == nil:
		return nil, fmt.Errorf("session: pending id %q: %w", id, ErrNotFound)
	case p.taken:
		return nil, fmt.Errorf("session: pending id %q: %w", id, ErrPendingTaken)
	}
	p.taken = true
	state := p.state
	p.state = nil
	return state, nil
}

// List implements [Store.List].
func (m *Memory) List(ctx context.Context, opts *ListOptions) ([]Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Info, 0, len(m.convs))
	for _, c := range m.convs {
		info := c.info
		info.Meta = bytes.Clone(info.Meta)
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if opts != nil && opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}

// Delete implements [Store.Delete].
func (m *Memory) Delete(ctx context.Context, conv string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.convs[conv] == nil {
		return fmt.Errorf("session: conversation %q: %w", conv, ErrNotFound)
	}
	delete(m.convs, conv)
	for id, p := range m.pending {
		if p.conv == conv {
			delete(m.pending, id)
		}
	}
	return nil
}

// Branch implements [Store.Branch].
func (m *Memory) Branch(ctx context.Context, from string, n int64, to string) error {
	if err := checkID("conversation", to); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.convs[from]
	if c == nil {
		return fmt.Errorf("session: branch from conversation %q: %w", from, ErrNotFound)
	}
	if m.convs[to] != nil {
		return fmt.Errorf("session: branch to conversation %q: %w", to, ErrExists)
	}
	if err := CheckBranch(from, n, c.info.Len); err != nil {
		return err
	}
	now := time.Now()
	b := &memConv{info: Info{ID: to, Version: 1, Len: n, Meta: bytes.Clone(c.info.Meta), Created: now, Updated: now}}
	b.items = slices.Clone(c.items[:n])
	if n > 0 {
		last := c.items[n-1]
		b.info.ResponseID, b.info.Base = last.responseID, last.base
	}
	m.convs[to] = b
	return nil
}

// CheckBranch returns an error when n is not a valid length of a branch of
// the conversation from, whose length is length. It is meant for Store
// implementations.
func CheckBranch(from string, n, length int64) error {
	if n < 0 || n > length {
		return fmt.Errorf("session: branch conversation %q at item %d: it has %d items", from, n, length)
	}
	return nil
}

func checkTurn(conv string, t Turn) error {
	if err := checkID("conversation", conv); err != nil {
		return err
	}
	return CheckTurn(t)
}

// CheckTurn returns an error when t cannot be appended: an item that is not
// a JSON object, metadata that is not JSON, an empty pending id. It is
// meant for Store implementations.
func CheckTurn(t Turn) error {
	for i, it := range t.Items {
		if raw := it.Raw(); len(raw) == 0 || raw[0] != '{' {
			return fmt.Errorf("session: append: item %d is not a JSON object (build items with responses.NewItem)", i)
		}
	}
	if t.Meta != nil && !json.Valid(t.Meta) {
		return errors.New("session: append: Meta is not valid JSON")
	}
	if t.Pending != nil {
		return checkID("pending", t.Pending.ID)
	}
	return nil
}

func checkID(kind, id string) error {
	if id == "" {
		return fmt.Errorf("session: empty %s id", kind)
	}
	return nil
}
