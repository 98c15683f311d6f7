package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sqlite"
)

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite", foreign)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY); PRAGMA application_id = 42")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	tables := filepath.Join(dir, "tables.db")
	db, err = sql.Open("sqlite", tables)
	require.NoError(t, err)
	_, err = db.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	newer := filepath.Join(dir, "newer.db")
	st, err := sqlite.Open(t.Context(), newer, nil)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	db, err = sql.Open("sqlite", newer)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA user_version = 99")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	good := filepath.Join(dir, "good.db")
	st, err = sqlite.Open(t.Context(), good, nil)
	require.NoError(t, err)
	_, err = st.Append(t.Context(), "c", 0, session.Turn{Items: []responses.Item{responses.MustItem(map[string]string{"role": "user", "content": "hi"})}})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	damaged := append([]byte{}, data...)
	copy(damaged[:16], "not a database!!") // the header's magic string

	for _, tc := range []struct{ name, path, want string }{
		{"text file", write("notes.txt", []byte("hello, this is not a database\n")), "is corrupt or not a SQLite database"},
		{"random bytes", write("random.db", bytes4096()), "is corrupt or not a SQLite database"},
		{"damaged header", write("damaged.db", damaged), "is corrupt or not a SQLite database"},
		{"another program's database", foreign, "of another program (application id 0x2a)"},
		{"tables without an application id", tables, "of another program (tables users)"},
		{"newer schema", newer, "has schema version 99, newer than this program's 1"},
		{"directory", dir, "is a directory"},
		{"missing directory", filepath.Join(dir, "no", "such", "s.db"), "its directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlite.Open(t.Context(), tc.path, nil)
			if err == nil {
				_ = st.Close()
			}
			require.Error(t, err)
			t.Log(err)
			assert.Contains(t, err.Error(), tc.path, "the error names the file")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func bytes4096() []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	it := responses.MustItem(map[string]string{"type": "message", "role": "user", "content": "hi"})
	_, err = st.Append(t.Context(), "c", 0, session.Turn{Items: []responses.Item{it}, ResponseID: "r"})
	require.NoError(t, err)
	require.NoError(t, st.PutPending(t.Context(), "c", "p", []byte("state")))
	require.NoError(t, st.Close())
	require.NoError(t, st.Close(), "Close twice")

	st = open(t, path)
	c, err := st.Load(t.Context(), "c", nil)
	_, walErr := os.Stat(path + "-wal")
	assert.NoError(t, walErr, "the file is in WAL mode")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Version)
	assert.Equal(t, "r", c.ResponseID)
	got, err := st.TakePending(t.Context(), "p")
	require.NoError(t, err)
	assert.Equal(t, "state", string(got))
}

// TestTwoHandlesOneFile is two processes' worth of stores on one file:
// their writes wait for each other (busy timeout) and conflict by version.
func TestTwoHandlesOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	ctx := t.Context()
	var wg sync.WaitGroup
	for w, st := range stores {
		wg.Go(func() {
			for turn := 0; turn < 20; {
				c, err := st.Load(ctx, "c", &session.LoadOptions{Last: -1})
				if !assert.NoError(t, err) {
					return
				}
				it := responses.MustItem(map[string]string{"role": "user", "content": fmt.Sprint(w, turn)})
				_, err = st.Append(ctx, "c", c.Version, session.Turn{Items: []responses.Item{it, it}})
				if errors.Is(err, session.ErrConflict) {
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				turn++
			}
		})
	}
	wg.Wait()
	c, err := stores[0].Load(ctx, "c", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(40), c.Version)
	assert.Len(t, c.Items, 80)
	for i := 0; i < len(c.Items); i += 2 {
		assert.Equal(t, c.Items[i].Text(), c.Items[i+1].Text())
	}
}

// TestCorruptPages damages the pages after the schema: the error names the
// file and says it is corrupt.
func TestCorruptPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	var items []responses.Item
	for i := range 200 {
		items = append(items, responses.UserMessage(fmt.Sprintf("message %d %0200d", i, i)))
	}
	_, err = st.Append(t.Context(), "c", 0, session.Turn{Items: items})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(data), 8*4096)
	for i := 4 * 4096; i < len(data); i++ {
		data[i] = byte(i * 13)
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))

	st, err = sqlite.Open(t.Context(), path, nil)
	if err == nil {
		defer st.Close()
		_, err = st.Load(t.Context(), "c", nil)
	}
	require.Error(t, err)
	t.Log(err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "is corrupt or not a SQLite database")
}
