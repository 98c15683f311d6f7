package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sessiontest"
	"github.com/agentloop/agentloop/session/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	st, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

func TestConformance(t *testing.T) {
	sessiontest.Run(t, sessiontest.Suite{
		New: func(t *testing.T) session.Store { return open(t, filepath.Join(t.TempDir(), "s.db")) },
		Shared: func(t *testing.T) (session.Store, string) {
			path := filepath.Join(t.TempDir(), "s.db")
			return open(t, path), path
		},
		Open: func(ctx context.Context, addr string) (session.Store, error) { return sqlite.Open(ctx, addr, nil) },
	})
}

func BenchmarkStore(b *testing.B) {
	sessiontest.Bench(b, func(b *testing.B) session.Store {
		st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "s.db"), nil)
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, st.Close()) })
		return st
	})
}

func BenchmarkDurable(b *testing.B) {
	sessiontest.Bench(b, func(b *testing.B) session.Store {
		st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "s.db"), &sqlite.Options{Durable: true})
		require.NoError(b, err)
		b.Cleanup(func() { require.NoError(b, st.Close()) })
		return st
	})
}
