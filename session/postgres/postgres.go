// Package postgres is a [session.Store] in PostgreSQL, through pgx. It is a
// module of its own, so programs that keep their sessions in SQLite or in
// memory never download pgx.
//
//	st, err := postgres.Open(ctx, "postgres://app@db.internal/app", nil)
//	if err != nil { ... }
//	defer st.Close()
//	c, err := st.Load(ctx, convID, nil)
//
// The store keeps its tables (agentloop_conversations, agentloop_items,
// agentloop_pending and agentloop_schema_migrations) in the first schema of
// the connection's search_path; give search_path in the URL to choose
// another. Each item is one row keyed by (conversation, index): an append
// writes only its new rows (one statement for all of them), and loading
// the last N items reads an index range. Open applies the missing schema
// migrations under an advisory lock, so replicas starting together migrate
// once. Items, metadata and continuations are bytea: kept byte-for-byte
// (jsonb would reorder keys and respace).
//
// Appends are serialised per conversation by an optimistic version check
// (an UPDATE ... WHERE version = $n, which waits for a concurrent one and
// then finds the version changed); TakePending is a single UPDATE of a row
// locked FOR UPDATE, so two takes cannot both succeed.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
)

// Options configure a Store. There are none yet; a nil *Options is the
// default.
type Options struct{}

// Store is a [session.Store] in PostgreSQL. It is safe for concurrent use,
// also by many processes sharing the database. Close may be called more
// than once.
type Store struct {
	pool *pgxpool.Pool
	own  bool   // Close closes pool
	name string // the database, for errors
}

var _ session.Store = (*Store)(nil)

// migrations[i] brings the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE agentloop_conversations (
		id          text PRIMARY KEY,
		version     bigint NOT NULL,
		length      bigint NOT NULL,
		base        bigint NOT NULL,
		response_id text NOT NULL,
		meta        bytea,
		created     timestamptz NOT NULL,
		updated     timestamptz NOT NULL
	);
	CREATE INDEX agentloop_conversations_by_updated ON agentloop_conversations (updated DESC, id);
	CREATE TABLE agentloop_items (
		conversation text NOT NULL,
		seq          bigint NOT NULL,  -- the item's index in its conversation
		item         bytea NOT NULL,   -- the item's JSON, byte-for-byte
		size         integer NOT NULL, -- octet_length(item), for token budgets
		response_id  text NOT NULL,    -- the conversation's, after the append that added the item
		base         bigint NOT NULL,  -- likewise
		PRIMARY KEY (conversation, seq)
	);
	CREATE TABLE agentloop_pending (
		id           text PRIMARY KEY,
		conversation text NOT NULL,
		state        bytea,       -- NULL once taken
		created      timestamptz NOT NULL,
		taken        timestamptz  -- NULL until taken
	);
	CREATE INDEX agentloop_pending_by_conversation ON agentloop_pending (conversation);`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// Open connects to the database at url (a libpq or pgx URL or key=value
// string) with a pool of its own, which Close closes, and migrates the
// schema. A nil opts uses the defaults.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: session store: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: session store: %w", err)
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// New returns a Store on pool, which stays the caller's to close, and
// migrates the schema. A nil opts uses the defaults.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	c := pool.Config().ConnConfig
	s := &Store{pool: pool, name: fmt.Sprintf("database %q on %s:%d", c.Database, c.Host, c.Port)}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) fail(err error) error {
	return fmt.Errorf("postgres: session store (%s): %w", s.name, err)
}

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('agentloop_schema_migrations'))`); err != nil {
			return s.fail(err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS agentloop_schema_migrations (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return s.fail(err)
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM agentloop_schema_migrations`).Scan(&version); err != nil {
			return s.fail(err)
		}
		if version > len(migrations) {
			return fmt.Errorf("postgres: session store (%s) has schema version %d, newer than this program's %d; upgrade the program", s.name, version, len(migrations))
		}
		for v := version; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return s.fail(fmt.Errorf("migrate schema to version %d: %w", v+1, err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO agentloop_schema_migrations (version) VALUES ($1)`, v+1); err != nil {
				return s.fail(err)
			}
		}
		return nil
	})
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool if Open created it.
func (s *Store) Close() error {
	if s.own {
		s.pool.Close() // idempotent
	}
	return nil
}

// Load implements [session.Store.Load].
func (s *Store) Load(ctx context.Context, conv string, opts *session.LoadOptions) (*session.Conversation, error) {
	if conv == "" {
		return nil, errors.New("postgres: load: empty conversation id")
	}
	c := &session.Conversation{Info: session.Info{ID: conv}}
	// One snapshot for the header and the items.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT version, length, base, response_id, meta, created, updated
			FROM agentloop_conversations WHERE id = $1`, conv).Scan(&c.Version, &c.Len, &c.Base, &c.ResponseID, &c.Meta, &c.Created, &c.Updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		lo, hi := opts.Range(c.Info)
		if opts != nil && opts.Tokens > 0 && lo < hi {
			if lo, err = budget(ctx, tx, conv, lo, hi, opts.Tokens); err != nil {
				return err
			}
		}
		c.Start = lo
		if lo >= hi {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT item FROM agentloop_items WHERE conversation = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`, conv, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		c.Items = make([]responses.Item, 0, hi-lo)
		for rows.Next() {
			var it responses.Item
			if err := it.UnmarshalJSON(rows.RawValues()[0]); err != nil { // copies
				return fmt.Errorf("item %d: %w", lo+int64(len(c.Items)), err)
			}
			c.Items = append(c.Items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.fail(fmt.Errorf("load %q: %w", conv, err))
	}
	drop := opts.Trim(c.Items)
	c.Items, c.Start = c.Items[drop:], c.Start+int64(drop)
	if len(c.Items) == 0 {
		c.Items = nil
	}
	return c, nil
}

// budget returns the first index of [lo, hi) from which the items fit
// tokens, reading only their sizes, newest first.
func budget(ctx context.Context, tx pgx.Tx, conv string, lo, hi int64, tokens int) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT size FROM agentloop_items WHERE conversation = $1 AND seq >= $2 AND seq < $3 ORDER BY seq DESC`, conv, lo, hi)
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

// Append implements [session.Store.Append].
func (s *Store) Append(ctx context.Context, conv string, version int64, t session.Turn) (int64, error) {
	if conv == "" {
		return 0, errors.New("postgres: append: empty conversation id")
	}
	if err := session.CheckTurn(t); err != nil {
		return 0, err
	}
	n := int64(len(t.Items))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var start, base int64
		var responseID string
		var err error
		if version == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO agentloop_conversations (id, version, length, base, response_id, meta, created, updated)
				VALUES ($1, 1, $2, 0, $3, $4, now(), now()) ON CONFLICT (id) DO NOTHING
				RETURNING 0, base, response_id`, conv, n, t.ResponseID, []byte(t.Meta)).Scan(&start, &base, &responseID)
		} else {
			err = tx.QueryRow(ctx, `UPDATE agentloop_conversations SET
					version = version + 1,
					base = CASE WHEN $1 THEN length ELSE base END,
					length = length + $2,
					response_id = CASE WHEN $3 = '' THEN response_id ELSE $3 END,
					meta = coalesce($4, meta),
					updated = now()
				WHERE id = $5 AND version = $6
				RETURNING length - $2, base, response_id`,
				t.Compacted, n, t.ResponseID, []byte(t.Meta), conv, version).Scan(&start, &base, &responseID)
		}
		if errors.Is(err, pgx.ErrNoRows) {
			ce := &session.ConflictError{Conversation: conv, Expected: version}
			if err := tx.QueryRow(ctx, `SELECT version FROM agentloop_conversations WHERE id = $1`, conv).Scan(&ce.Actual); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return s.fail(err)
			}
			return ce
		}
		if err != nil {
			return s.fail(fmt.Errorf("append to %q: %w", conv, err))
		}
		if n > 0 {
			raws := make([][]byte, n)
			for i, it := range t.Items {
				raws[i] = it.Raw()
			}
			_, err := tx.Exec(ctx, `INSERT INTO agentloop_items (conversation, seq, item, size, response_id, base)
				SELECT $1, $2 + t.ord - 1, t.item, octet_length(t.item), $3, $4
				FROM unnest($5::bytea[]) WITH ORDINALITY AS t(item, ord)`, conv, start, responseID, base, raws)
			if err != nil {
				return s.fail(fmt.Errorf("append to %q: %w", conv, err))
			}
		}
		if t.Pending != nil {
			if r := t.Pending.Replaces; r != "" {
				if _, err := tx.Exec(ctx, `UPDATE agentloop_pending SET state = NULL, taken = now() WHERE id = $1 AND taken IS NULL`, r); err != nil {
					return s.fail(fmt.Errorf("take pending %q: %w", r, err))
				}
			}
			return s.putPending(ctx, tx, conv, t.Pending.ID, t.Pending.State)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return version + 1, nil
}

func (s *Store) putPending(ctx context.Context, tx pgx.Tx, conv, id string, state []byte) error {
	if state == nil {
		state = []byte{}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO agentloop_pending (id, conversation, state, created) VALUES ($1, $2, $3, now()) ON CONFLICT (id) DO NOTHING`, id, conv, state)
	if err != nil {
		return s.fail(fmt.Errorf("put pending %q: %w", id, err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: pending id %q: %w", id, session.ErrExists)
	}
	return nil
}

// PutPending implements [session.Store.PutPending].
func (s *Store) PutPending(ctx context.Context, conv, id string, state []byte) error {
	if conv == "" || id == "" {
		return errors.New("postgres: put pending: empty conversation id or empty pending id")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// FOR SHARE: a concurrent Delete of conv waits, or makes us fail.
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM agentloop_conversations WHERE id = $1 FOR SHARE`, conv).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: conversation %q: %w", conv, session.ErrNotFound)
		}
		if err != nil {
			return s.fail(err)
		}
		return s.putPending(ctx, tx, conv, id, state)
	})
}

// TakePending implements [session.Store.TakePending].
func (s *Store) TakePending(ctx context.Context, id string) ([]byte, error) {
	var state []byte
	err := s.pool.QueryRow(ctx, `UPDATE agentloop_pending p SET state = NULL, taken = now()
		FROM (SELECT id, state FROM agentloop_pending WHERE id = $1 AND taken IS NULL FOR UPDATE) old
		WHERE p.id = old.id
		RETURNING old.state`, id).Scan(&state)
	if err == nil {
		return state, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, s.fail(fmt.Errorf("take pending %q: %w", id, err))
	}
	var taken bool
	err = s.pool.QueryRow(ctx, `SELECT taken IS NOT NULL FROM agentloop_pending WHERE id = $1`, id).Scan(&taken)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("postgres: pending id %q: %w", id, session.ErrNotFound)
	case err != nil:
		return nil, s.fail(fmt.Errorf("take pending %q: %w", id, err))
	}
	return nil, fmt.Errorf("postgres: pending id %q: %w", id, session.ErrPendingTaken)
}

// List implements [session.Store.List].
func (s *Store) List(ctx context.Context, opts *session.ListOptions) ([]session.Info, error) {
	var limit *int
	if opts != nil && opts.Limit > 0 {
		limit = &opts.Limit
	}
	rows, err := s.pool.Query(ctx, `SELECT id, version, length, base, response_id, meta, created, updated
		FROM agentloop_conversations ORDER BY updated DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []session.Info
	for rows.Next() {
		var i session.Info
		if err := rows.Scan(&i.ID, &i.Version, &i.Len, &i.Base, &i.ResponseID, &i.Meta, &i.Created, &i.Updated); err != nil {
			return nil, s.fail(err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err)
	}
	return out, nil
}

// Delete implements [session.Store.Delete].
func (s *Store) Delete(ctx context.Context, conv string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM agentloop_conversations WHERE id = $1`, conv)
		if err != nil {
			return s.fail(err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: conversation %q: %w", conv, session.ErrNotFound)
		}
		for _, q := range []string{`DELETE FROM agentloop_items WHERE conversation = $1`, `DELETE FROM agentloop_pending WHERE conversation = $1`} {
			if _, err := tx.Exec(ctx, q, conv); err != nil {
				return s.fail(err)
			}
		}
		return nil
	})
}

// Branch implements [session.Store.Branch].
func (s *Store) Branch(ctx context.Context, from string, n int64, to string) error {
	if to == "" {
		return errors.New("postgres: branch: empty conversation id")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var length int64
		var meta []byte
		err := tx.QueryRow(ctx, `SELECT length, meta FROM agentloop_conversations WHERE id = $1 FOR SHARE`, from).Scan(&length, &meta)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: branch from conversation %q: %w", from, session.ErrNotFound)
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
			if err := tx.QueryRow(ctx, `SELECT response_id, base FROM agentloop_items WHERE conversation = $1 AND seq = $2`, from, n-1).Scan(&responseID, &base); err != nil {
				return s.fail(err)
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO agentloop_conversations (id, version, length, base, response_id, meta, created, updated)
			VALUES ($1, 1, $2, $3, $4, $5, now(), now()) ON CONFLICT (id) DO NOTHING`, to, n, base, responseID, meta)
		if err != nil {
			return s.fail(err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: branch to conversation %q: %w", to, session.ErrExists)
		}
		_, err = tx.Exec(ctx, `INSERT INTO agentloop_items (conversation, seq, item, size, response_id, base)
			SELECT $1, seq, item, size, response_id, base FROM agentloop_items WHERE conversation = $2 AND seq < $3`, to, from, n)
		if err != nil {
			return s.fail(err)
		}
		return nil
	})
}
