package postgres_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/postgres"
	"github.com/agentloop/agentloop/session/sessiontest"
)

// serverURL returns AGENTLOOP_POSTGRES_URL, a throw-away database. Without
// it the test is skipped, or fails when CI=true.
func serverURL(t testing.TB) string {
	u := os.Getenv("AGENTLOOP_POSTGRES_URL")
	if u == "" {
		msg := "AGENTLOOP_POSTGRES_URL is not set: give it the URL of a throw-away PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run the PostgreSQL store's tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// withSearchPath returns base with search_path set to schema (letters,
// digits and underscores). The rest of base is kept as it is: re-encoding
// its query would turn the spaces of an options parameter into "+", which
// the server does not read back.
func withSearchPath(base, schema string) string {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		if strings.Contains(base, "?") {
			return base + "&search_path=" + schema
		}
		return base + "?search_path=" + schema
	}
	return base + " search_path=" + schema
}

// schema creates an empty schema, dropped at the end of the test, and
// returns the URL whose search_path is that schema.
func schema(t testing.TB) string {
	base := serverURL(t)
	name := "t_" + session.NewID()
	admin := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30e9)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		require.NoError(t, err)
	}
	admin("CREATE SCHEMA " + name)
	t.Cleanup(func() { admin("DROP SCHEMA " + name + " CASCADE") })
	return withSearchPath(base, name)
}

func open(t testing.TB, u string) *postgres.Store {
	st, err := postgres.Open(context.Background(), u, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

func TestConformance(t *testing.T) {
	serverURL(t)
	sessiontest.Run(t, sessiontest.Suite{
		New: func(t *testing.T) session.Store { return open(t, schema(t)) },
		Shared: func(t *testing.T) (session.Store, string) {
			u := schema(t)
			return open(t, u), u
		},
		Open: func(ctx context.Context, addr string) (session.Store, error) { return postgres.Open(ctx, addr, nil) },
	})
}

// TestMigrateConcurrently opens one empty schema from several stores at
// once: the advisory lock lets one migrate and the others see it done.
func TestMigrateConcurrently(t *testing.T) {
	u := schema(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			st, err := postgres.Open(t.Context(), u, nil)
			if assert.NoError(t, err) {
				assert.NoError(t, st.Close())
			}
		})
	}
	wg.Wait()
	st := open(t, u)
	var n int
	require.NoError(t, st.Pool().QueryRow(t.Context(), "SELECT count(*) FROM agentloop_schema_migrations").Scan(&n))
	assert.Equal(t, postgres.SchemaVersion, n)
}

func TestNewerSchemaRefused(t *testing.T) {
	u := schema(t)
	st := open(t, u)
	_, err := st.Pool().Exec(t.Context(), "INSERT INTO agentloop_schema_migrations (version) VALUES (99)")
	require.NoError(t, err)
	_, err = postgres.Open(t.Context(), u, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has schema version 99, newer than this program's")
	assert.Contains(t, err.Error(), "database")
}

func TestBadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://%zz", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres: session store")
}

func BenchmarkStore(b *testing.B) {
	sessiontest.Bench(b, func(b *testing.B) session.Store { return open(b, schema(b)) })
}
