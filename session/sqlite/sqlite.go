// Package sqlite is a [session.Store] in a SQLite file, through a pure-Go
// driver (modernc.org/sqlite: no cgo, so go install stays simple).
//
//	st, err := sqlite.Open(ctx, filepath.Join(stateDir, "sessions.db"), nil)
//	if err != nil { ... }
//	defer st.Close()
//	c, err := st.Load(ctx, convID, nil)
//
// The file is in WAL mode, so readers never wait for the writer; writers
// wait for each other up to Options.BusyTimeout, also across processes
// sharing the file. Each item is one row keyed by (conversation, index):
// an append writes only its new rows, and loading the last N items reads an
// index range. The schema carries its version (PRAGMA user_version) and an
// application id; Open migrates an older file, and refuses, naming the file,
// one that is corrupt, belongs to another program or was written by a newer
// version.
//
// The driver is modernc.org/sqlite rather than github.com/ncruces/go-sqlite3:
// both are pure Go, but modernc built cold in about a quarter of the time
// here and adds about 7.5 MB to a program instead of about 11 MB.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	driver "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
)

// Options configure a Store. The zero value uses the defaults.
type Options struct {
	// BusyTimeout bounds how long a write waits for another process's
	// write to finish before it fails. Zero means 5 seconds.
	BusyTimeout time.Duration
	// Durable makes each commit wait until it is on disk
	// (synchronous=FULL). By default (synchronous=NORMAL) a commit survives
	// a crash of the process but the last commits may be lost, never torn,
	// when the machine loses power.
	Durable bool
}

// Store is a [session.Store] in a SQLite file. It is safe for concurrent
// use, also by several processes sharing the file. Close may be called
// more than once.
type Store struct {
	path string
	r    *sql.DB // readers
	w    *sql.DB // the writer: one connection, transactions BEGIN IMMEDIATE
}

var _ session.Store = (*Store)(nil)

// applicationID marks the file as a session store ("agls").
const applicationID = 0x61676c73

// migrations[i] brings the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE conversations (
		id          TEXT PRIMARY KEY,
		version     INTEGER NOT NULL,
		length      INTEGER NOT NULL,
		base        INTEGER NOT NULL,
		response_id TEXT NOT NULL,
		meta        BLOB,
		created     INTEGER NOT NULL, -- Unix microseconds
		updated     INTEGER NOT NULL
	) STRICT;
	CREATE INDEX conversations_by_updated ON conversations (updated DESC, id);
	CREATE TABLE items (
		conversation TEXT NOT NULL,
		seq          INTEGER NOT NULL, -- the item's index in its conversation
		item         BLOB NOT NULL,    -- the item's JSON, byte-for-byte
		size         INTEGER NOT NULL, -- length(item), for token budgets
		response_id  TEXT NOT NULL,    -- the conversation's, after the append that added the item
		base         INTEGER NOT NULL, -- likewise
		PRIMARY KEY (conversation, seq)
	) STRICT;
	CREATE TABLE pending (
		id           TEXT PRIMARY KEY,
		conversation TEXT NOT NULL,
		state        BLOB,    -- NULL once taken
		created      INTEGER NOT NULL,
		taken        INTEGER  -- when it was taken, NULL before
	) STRICT;
	CREATE INDEX pending_by_conversation ON pending (conversation);`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// Open opens the session store in the SQLite file at path, creating it (but
// not its directory) if needed and migrating its schema. A nil opts uses
// the defaults.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if path == "" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: open session store %q: give a plain file name", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("sqlite: session store %s is a directory; give a file name", path)
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("sqlite: session store %s: its directory: %w", path, err)
	}
	sync := "NORMAL"
	if o.Durable {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	s := &Store{path: path}
	var err error
	if s.r, err = sql.Open("sqlite", dsn); err != nil {
		return nil, s.fail(err)
	}
	if s.w, err = sql.Open("sqlite", dsn+"&_txlock=immediate"); err != nil {
		_ = s.r.Close()
		return nil, s.fail(err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetConnMaxIdleTime(0)
	if err := s.migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// fail wraps err with the file's name and, for a file that is not a
// database, what to do.
func (s *Store) fail(err error) error {
	var e *driver.Error
	if errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_NOTADB || e.Code()&0xff == sqlite3.SQLITE_CORRUPT) {
		return fmt.Errorf("sqlite: session store %s is corrupt or not a SQLite database (%w); move it away to start afresh", s.path, err)
	}
	return fmt.Errorf("sqlite: session store %s: %w", s.path, err)
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(err)
	}
	defer tx.Rollback()
	var app, version int
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return s.fail(err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.fail(err)
	}
	switch {
	case app == 0 && version == 0:
		var tables []string
		rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
		if err != nil {
			return s.fail(err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return s.fail(err)
			}
			tables = append(tables, name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.fail(err)
		}
		if len(tables) > 0 {
			return fmt.Errorf("sqlite: %s is a SQLite database of another program (tables %s), not a session store; give another file", s.path, strings.Join(tables, ", "))
		}
	case app != applicationID:
		return fmt.Errorf("sqlite: %s is a SQLite database of another program (application id %#x), not a session store; give another file", s.path, app)
	case version > len(migrations):
		return fmt.Errorf("sqlite: session store %s has schema version %d, newer than this program's %d; upgrade the program", s.path, version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return s.fail(fmt.Errorf("migrate schema to version %d: %w", v+1, err))
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, len(migrations))); err != nil {
		return s.fail(err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(err)
	}
	return nil
}

// Path returns the file's name.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Load implements [session.Store.Load].
func (s *Store) Load(ctx context.Context, conv string, opts *session.LoadOptions) (*session.Conversation, error) {
	if conv == "" {
		return nil, errors.New("sqlite: load: empty conversation id")
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail(err)
	}
	defer tx.Rollback()
	c := &session.Conversation{Info: session.Info{ID: conv}}
	var meta []byte
	var created, updated int64
	err = tx.QueryRowContext(ctx, `SELECT version, length, base, response_id, meta, created, updated
		FROM conversations WHERE id = ?`, conv).Scan(&c.Version, &c.Len, &c.Base, &c.ResponseID, &meta, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return nil, s.fail(fmt.Errorf("load %q: %w", conv, err))
	}
	c.Meta, c.Created, c.Updated = meta, time.UnixMicro(created), time.UnixMicro(updated)
	lo, hi := opts.Range(c.Info)
	if opts != nil && opts.Tokens > 0 && lo < hi {
		if lo, err = s.budget(ctx, tx, conv, lo, hi, opts.Tokens); err != nil {
			return nil, s.fail(fmt.Errorf("load %q: %w", conv, err))
		}
	}
	c.Start = lo
	if lo < hi {
		rows, err := tx.QueryContext(ctx, `SELECT item FROM items WHERE conversation = ? AND seq >= ? AND seq < ? ORDER BY seq`, conv, lo, hi)
		if err != nil {
			return nil, s.fail(fmt.Errorf("load %q: %w", conv, err))
		}
		defer rows.Close()
		c.Items = make([]responses.Item, 0, hi-lo)
		for rows.Next() {
			var raw sql.RawBytes
			if err := rows.Scan(&raw); err != nil {
				return nil, s.fail(fmt.Errorf("load %q: %w", conv, err))
			}
			var it responses.Item
			if err := it.UnmarshalJSON(raw); err != nil {
				return nil, s.fail(fmt.Errorf("load %q: item %d: %w", conv, lo+int64(len(c.Items)), err))
			}
			c.Items = append(c.Items, it)
		}
		if err := rows.Err(); err != nil {
			return nil, s.fail(fmt.Errorf("load %q: %w", conv, err))
		}
		drop := opts.Trim(c.Items)
		c.Items, c.Start = c.Items[drop:], lo+int64(drop)
	}
	return c, nil
}

// budget returns the first index of [lo, hi) from which the items fit
// tokens, reading only their sizes, newest first.
func (s *Store) budget(ctx context.Context, tx *sql.Tx, conv string, lo, hi int64, tokens int) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT size FROM items WHERE conversation = ? AND seq >= ? AND seq < ? ORDER BY seq DESC`, conv, lo, hi)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	start, sum := hi, 0
	for rows.Next() {
		var size int
		if err := rows.Scan(&size); err != nil {
			return 0, err
		}
		if sum += session.TokensOfSize(size); sum > tokens {
			break
		}
		start--
	}
	return start, rows.Err()
}

// write runs f in a write transaction (BEGIN IMMEDIATE).
func (s *Store) write(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.fail(err)
	}
	return nil
}

// Append implements [session.Store.Append].
func (s *Store) Append(ctx context.Context, conv string, version int64, t session.Turn) (int64, error) {
	if conv == "" {
		return 0, errors.New("sqlite: append: empty conversation id")
	}
	if err := session.CheckTurn(t); err != nil {
		return 0, err
	}
	now := time.Now().UnixMicro()
	n := int64(len(t.Items))
	err := s.write(ctx, func(tx *sql.Tx) error {
		var length, base int64
		var responseID string
		var err error
		if version == 0 {
			err = tx.QueryRowContext(ctx, `INSERT INTO conversations (id, version, length, base, response_id, meta, created, updated)
				VALUES (?, 1, ?, 0, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
				RETURNING base, response_id`, conv, n, t.ResponseID, []byte(t.Meta), now, now).Scan(&base, &responseID)
		} else {
			err = tx.QueryRowContext(ctx, `UPDATE conversations SET
					version = version + 1,
					base = CASE WHEN ? THEN length ELSE base END,
					length = length + ?,
					response_id = CASE WHEN ? = '' THEN response_id ELSE ? END,
					meta = COALESCE(?, meta),
					updated = ?
				WHERE id = ? AND version = ?
				RETURNING length - ?, base, response_id`,
				t.Compacted, n, t.ResponseID, t.ResponseID, []byte(t.Meta), now, conv, version, n).Scan(&length, &base, &responseID)
		}
		if errors.Is(err, sql.ErrNoRows) {
			ce := &session.ConflictError{Conversation: conv, Expected: version}
			if err := tx.QueryRowContext(ctx, `SELECT version FROM conversations WHERE id = ?`, conv).Scan(&ce.Actual); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return s.fail(err)
			}
			return ce
		}
		if err != nil {
			return s.fail(fmt.Errorf("append to %q: %w", conv, err))
		}
		if err := insertItems(ctx, tx, conv, length, responseID, base, t.Items); err != nil {
			return s.fail(fmt.Errorf("append to %q: %w", conv, err))
		}
		if t.Pending != nil {
			if r := t.Pending.Replaces; r != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE pending SET state = NULL, taken = ? WHERE id = ? AND taken IS NULL`, now, r); err != nil {
					return s.fail(fmt.Errorf("take pending %q: %w", r, err))
				}
			}
			return s.putPending(ctx, tx, conv, t.Pending.ID, t.Pending.State, now)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return version + 1, nil
}

// insertRows is how many items one INSERT statement writes (6 parameters
// each, well below SQLite's limit of 32766).
const insertRows = 256

// insertItems writes items as the rows from index first on, a few hundred
// per statement: one statement per row costs twice as much.
func insertItems(ctx context.Context, tx *sql.Tx, conv string, first int64, responseID string, base int64, items []responses.Item) error {
	for len(items) > 0 {
		chunk := items[:min(len(items), insertRows)]
		var q strings.Builder
		q.WriteString("INSERT INTO items (conversation, seq, item, size, response_id, base) VALUES ")
		args := make([]any, 0, 6*len(chunk))
		for i, it := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			raw := it.Raw()
			args = append(args, conv, first+int64(i), []byte(raw), len(raw), responseID, base)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		items, first = items[len(chunk):], first+int64(len(chunk))
	}
	return nil
}

func (s *Store) putPending(ctx context.Context, tx *sql.Tx, conv, id string, state []byte, now int64) error {
	if state == nil {
		state = []byte{}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO pending (id, conversation, state, created) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, id, conv, state, now)
	if err != nil {
		return s.fail(fmt.Errorf("put pending %q: %w", id, err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: pending id %q: %w", id, session.ErrExists)
	}
	return nil
}

// PutPending implements [session.Store.PutPending].
func (s *Store) PutPending(ctx context.Context, conv, id string, state []byte) error {
	if conv == "" || id == "" {
		return errors.New("sqlite: put pending: empty conversation id or empty pending id")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, conv).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: conversation %q: %w", conv, session.ErrNotFound)
		}
		if err != nil {
			return s.fail(err)
		}
		return s.putPending(ctx, tx, conv, id, state, time.Now().UnixMicro())
	})
}

// TakePending implements [session.Store.TakePending].
func (s *Store) TakePending(ctx context.Context, id string) ([]byte, error) {
	var state []byte
	err := s.write(ctx, func(tx *sql.Tx) error {
		var taken sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT state, taken FROM pending WHERE id = ?`, id).Scan(&state, &taken)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: pending id %q: %w", id, session.ErrNotFound)
		case err != nil:
			return s.fail(err)
		case taken.Valid:
			return fmt.Errorf("sqlite: pending id %q: %w", id, session.ErrPendingTaken)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pending SET state = NULL, taken = ? WHERE id = ?`, time.Now().UnixMicro(), id); err != nil {
			return s.fail(err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return state, nil
}

// List implements [session.Store.List].
func (s *Store) List(ctx context.Context, opts *session.ListOptions) ([]session.Info, error) {
	limit := -1
	if opts != nil && opts.Limit > 0 {
		limit = opts.Limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, version, length, base, response_id, meta, created, updated
		FROM conversations ORDER BY updated DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []session.Info
	for rows.Next() {
		var i session.Info
		var created, updated int64
		var meta []byte
		if err := rows.Scan(&i.ID, &i.Version, &i.Len, &i.Base, &i.ResponseID, &meta, &created, &updated); err != nil {
			return nil, s.fail(err)
		}
		i.Meta, i.Created, i.Updated = meta, time.UnixMicro(created), time.UnixMicro(updated)
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err)
	}
	return out, nil
}

// Delete implements [session.Store.Delete].
func (s *Store) Delete(ctx context.Context, conv string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, conv)
		if err != nil {
			return s.fail(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: conversation %q: %w", conv, session.ErrNotFound)
		}
		for _, q := range []string{`DELETE FROM items WHERE conversation = ?`, `DELETE FROM pending WHERE conversation = ?`} {
			if _, err := tx.ExecContext(ctx, q, conv); err != nil {
				return s.fail(err)
			}
		}
		return nil
	})
}

// Branch implements [session.Store.Branch].
func (s *Store) Branch(ctx context.Context, from string, n int64, to string) error {
	if to == "" {
		return errors.New("sqlite: branch: empty conversation id")
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var length int64
		var meta []byte
		err := tx.QueryRowContext(ctx, `SELECT length, meta FROM conversations WHERE id = ?`, from).Scan(&length, &meta)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: branch from conversation %q: %w", from, session.ErrNotFound)
		}
		if err != nil {
			return s.fail(err)
		}
		if err := session.CheckBranch(from, n, length); err != nil {
			return err
		}
		var responseID string
		var base int64
		if n > 0 {
			if err := tx.QueryRowContext(ctx, `SELECT response_id, base FROM items WHERE conversation = ? AND seq = ?`, from, n-1).Scan(&responseID, &base); err != nil {
				return s.fail(err)
			}
		}
		now := time.Now().UnixMicro()
		res, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, version, length, base, response_id, meta, created, updated)
			VALUES (?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, to, n, base, responseID, meta, now, now)
		if err != nil {
			return s.fail(err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("sqlite: branch to conversation %q: %w", to, session.ErrExists)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO items (conversation, seq, item, size, response_id, base)
			SELECT ?, seq, item, size, response_id, base FROM items WHERE conversation = ? AND seq < ?`, to, from, n)
		if err != nil {
			return s.fail(err)
		}
		return nil
	})
}
