package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// Store keeps conversations and pending continuations. Implementations are
// safe for concurrent use, also by several processes sharing one database,
// and pass the conformance suite in session/sessiontest.
type Store interface {
	// Load returns the conversation conv with the items that opts selects.
	// A conversation that does not exist loads empty, with Version 0.
	// A nil opts loads every item of the current context.
	Load(ctx context.Context, conv string, opts *LoadOptions) (*Conversation, error)

	// Append adds t to conv in one transaction, if conv is still at
	// version; it returns the new version (version+1). Appending at
	// version 0 creates the conversation. When another writer appended
	// first, or version 0 is given for a conversation that exists, Append
	// changes nothing and returns a [*ConflictError].
	Append(ctx context.Context, conv string, version int64, t Turn) (int64, error)

	// PutPending keeps state, a continuation of a run of conv, under id.
	// conv must exist ([ErrNotFound] otherwise) and id must be new
	// ([ErrExists] otherwise, also once taken).
	PutPending(ctx context.Context, conv, id string, state []byte) error

	// TakePending returns the continuation kept under id and marks it
	// taken, exactly once: a second take returns [ErrPendingTaken], an
	// unknown id [ErrNotFound].
	TakePending(ctx context.Context, id string) ([]byte, error)

	// List returns the conversations, the most recently updated first.
	// A nil opts lists all of them.
	List(ctx context.Context, opts *ListOptions) ([]Info, error)

	// Delete removes conv, its items and its pending continuations. It
	// returns [ErrNotFound] when conv does not exist.
	Delete(ctx context.Context, conv string) error

	// Branch creates the conversation to from the first n items of from,
	// with from's metadata and the response id and context as they were
	// after item n-1 (see [Info.ResponseID] for a branch inside a turn).
	// It returns [ErrNotFound] when from does not exist, [ErrExists] when
	// to does, and an error when n is beyond from's length. The new
	// conversation is at version 1.
	Branch(ctx context.Context, from string, n int64, to string) error
}

// Conversation is what [Store.Load] returns.
type Conversation struct {
	Info
	// Items are the loaded items; Items[i] has index Start+i.
	Items []responses.Item
	// Start is the index of Items[0] in the conversation (Len when no item
	// was loaded).
	Start int64
}

// Info describes a conversation.
type Info struct {
	ID string
	// Version counts the appends; 0 means the conversation does not exist.
	Version int64
	// Len is the number of items stored.
	Len int64
	// Base is the index of the first item of the current context: the
	// first item of the last compacted append, 0 if none.
	Base int64
	// ResponseID is the last response id given to Append, "" if none (a
	// conversation in stateless mode). Chaining from it continues the
	// conversation server side; a branch made inside a turn keeps the
	// response id of that turn, which includes the turn's later items.
	ResponseID string
	// Meta is the application's JSON about the conversation (a title, the
	// model), as last given to Append; nil if never given.
	Meta json.RawMessage
	// Created and Updated are the times of the first and last append.
	Created, Updated time.Time
}

// Turn is what one [Store.Append] adds: usually the new items of a turn or
// of a run.
type Turn struct {
	// Items are appended in order, byte-for-byte. Zero items is allowed
	// (to update ResponseID or Meta).
	Items []responses.Item
	// ResponseID, when not empty, becomes the conversation's last
	// response id; empty leaves it unchanged.
	ResponseID string
	// Compacted says Items are a compacted context that replaces all
	// earlier items as what is sent to the model; the earlier items stay
	// stored (LoadOptions.History loads them).
	Compacted bool
	// Meta, when not nil, replaces the conversation's metadata. It must
	// be valid JSON.
	Meta json.RawMessage
	// Pending, when not nil, is stored as by [Store.PutPending] in the
	// same transaction.
	Pending *Pending
}

// Pending is a continuation to keep with a [Turn].
type Pending struct {
	ID    string
	State []byte
	// Replaces, when not empty, names an earlier continuation that this
	// one supersedes: it is taken (as by [Store.TakePending], its state
	// dropped) in the same transaction, if it is still pending.
	Replaces string
}

// LoadOptions selects the items [Store.Load] returns. The zero value loads
// the whole current context (from the last compaction on).
type LoadOptions struct {
	// Last loads at most the last Last items; zero means no limit, a
	// negative value loads no item (only the conversation's Info).
	Last int
	// Tokens loads, from the newest item back, at most about Tokens tokens,
	// estimated by [EstimateTokens]; zero means no limit.
	Tokens int
	// History starts at the first item stored rather than at the last
	// compaction.
	History bool
}

// ListOptions bounds [Store.List].
type ListOptions struct {
	// Limit is the most conversations returned; zero means no limit.
	Limit int
}

var (
	// ErrConflict is matched by the [*ConflictError] of an Append that
	// lost a race.
	ErrConflict = errors.New("session: conflict")
	// ErrNotFound reports a conversation or pending continuation that does
	// not exist.
	ErrNotFound = errors.New("session: not found")
	// ErrExists reports a conversation or pending id that is already used.
	ErrExists = errors.New("session: already exists")
	// ErrPendingTaken reports a pending continuation that was already
	// taken.
	ErrPendingTaken = errors.New("session: pending continuation already taken")
)

// ConflictError reports an Append at a version that is no longer the
// conversation's: another writer appended first. It matches [ErrConflict].
type ConflictError struct {
	Conversation string
	Expected     int64 // the version the caller gave
	Actual       int64 // the conversation's version (0: it does not exist)
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("session: conversation %q is at version %d, not %d: another run appended to it first; reload it and try again",
		e.Conversation, e.Actual, e.Expected)
}

// Is reports whether target is [ErrConflict].
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
