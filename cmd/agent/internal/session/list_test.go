package session

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	store "github.com/agentloop/agentloop/session"
)

// listed is what a test compares of a Summary.
type listed struct {
	Model, Dir, Prompt string
	Tasks              int
	Busy               bool
}

func TestList(t *testing.T) {
	// task records a task of the session in dir made with h.
	task := func(t *testing.T, s *Session, prompt string) {
		t.Helper()
		require.NoError(t, s.AppendPrompt(prompt))
		require.NoError(t, s.AppendItems([]responses.Item{responses.UserMessage(prompt)}))
		require.NoError(t, s.AppendResult(Result{ResponseID: "resp_" + prompt[:1]}))
	}
	closed := func(t *testing.T, dir string, h Header, prompts ...string) {
		t.Helper()
		s, err := Create(dir, h)
		require.NoError(t, err)
		for _, p := range prompts {
			task(t, s, p)
		}
		require.NoError(t, s.Close())
		time.Sleep(2 * time.Millisecond) // updated times differ
	}
	long := strings.Repeat("é", 150) // 300 bytes
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) (cleanup func())
		limit int
		want  []listed
	}{
		{"no directory", func(t *testing.T, dir string) func() { return nil }, 0, nil},
		{"most recent first", func(t *testing.T, dir string) func() {
			closed(t, dir, Header{Model: "a", Dir: "/ws/a"}, "first of a", "second of a")
			closed(t, dir, Header{Model: "b", Dir: "/ws/b"}, "only b")
			return nil
		}, 0, []listed{
			{Model: "b", Dir: "/ws/b", Prompt: "only b", Tasks: 1},
			{Model: "a", Dir: "/ws/a", Prompt: "first of a", Tasks: 2},
		}},
		{"limit", func(t *testing.T, dir string) func() {
			closed(t, dir, Header{Model: "a"}, "x")
			closed(t, dir, Header{Model: "b"}, "y")
			closed(t, dir, Header{Model: "c"}, "z")
			return nil
		}, 2, []listed{{Model: "c", Prompt: "z", Tasks: 1}, {Model: "b", Prompt: "y", Tasks: 1}}},
		{"first line of the first prompt, clipped", func(t *testing.T, dir string) func() {
			closed(t, dir, Header{Model: "m"}, "\n  fix   the\ttest  \nthen the rest")
			closed(t, dir, Header{Model: "n"}, long)
			return nil
		}, 0, []listed{{Model: "n", Prompt: strings.Repeat("é", 100) + "…", Tasks: 1}, {Model: "m", Prompt: "fix the test", Tasks: 1}}},
		{"open in a process is busy", func(t *testing.T, dir string) func() {
			closed(t, dir, Header{Model: "free"}, "free")
			s, err := Create(dir, Header{Model: "held"})
			require.NoError(t, err)
			task(t, s, "held")
			return func() { s.Close() }
		}, 0, []listed{{Model: "held", Prompt: "held", Tasks: 1, Busy: true}, {Model: "free", Prompt: "free", Tasks: 1}}},
		{"no task yet", func(t *testing.T, dir string) func() {
			closed(t, dir, Header{Model: "m"})
			return nil
		}, 0, []listed{{Model: "m"}}},
		{"saved before the prompt was kept: the first user message", func(t *testing.T, dir string) func() {
			require.NoError(t, os.MkdirAll(dir, 0o700))
			st, _, err := openStore(dir)
			require.NoError(t, err)
			defer st.Close()
			b, _ := json.Marshal(meta{Header: Header{V: Version, Type: "session", ID: "20250101T000000-abcdef", Model: "old"}, Tasks: 1})
			items := []responses.Item{
				responses.DeveloperMessage("notes"),
				responses.NewMessage(responses.RoleUser, responses.InputText("look at this\npicture")),
			}
			_, err = st.Append(context.Background(), "20250101T000000-abcdef", 0, store.Turn{Items: items, Meta: b})
			require.NoError(t, err)
			return nil
		}, 0, []listed{{Model: "old", Prompt: "look at this", Tasks: 1}}},
		{"not sessions of the command", func(t *testing.T, dir string) func() {
			closed(t, dir, Header{Model: "m"}, "mine")
			st, _, err := openStore(dir)
			require.NoError(t, err)
			defer st.Close()
			for id, m := range map[string]string{
				"other-conversation":     `{"title":"x"}`,
				"20250101T000000-aaaaaa": `{"header":{"v":99,"type":"session"}}`,
				"20250101T000000-bbbbbb": `{"header":{"v":1,"type":"other"}}`,
			} {
				_, err = st.Append(context.Background(), id, 0, store.Turn{Meta: json.RawMessage(m)})
				require.NoError(t, err)
			}
			return nil
		}, 0, []listed{{Model: "m", Prompt: "mine", Tasks: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "sessions")
			if cleanup := tc.setup(t, dir); cleanup != nil {
				defer cleanup()
			}
			got, err := List(dir, tc.limit)
			require.NoError(t, err)
			var short []listed
			for _, s := range got {
				assert.True(t, IsID(s.ID), s.ID)
				assert.False(t, s.Created.IsZero())
				assert.False(t, s.Updated.Before(s.Created.Truncate(time.Second)), "updated %v, created %v", s.Updated, s.Created)
				short = append(short, listed{Model: s.Model, Dir: s.Dir, Prompt: s.Prompt, Tasks: s.Tasks, Busy: s.Busy})
			}
			assert.Equal(t, tc.want, short)
		})
	}
}

// Listing neither takes a session from the process that has it nor keeps
// one from being opened.
func TestListLeavesLocksAlone(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m"})
	require.NoError(t, err)
	_, err = List(dir, 0)
	require.NoError(t, err)
	_, err = Open(dir, s.ID())
	require.ErrorIs(t, err, ErrBusy, "still held")
	require.NoError(t, s.Close())
	ls, err := List(dir, 0)
	require.NoError(t, err)
	require.Len(t, ls, 1)
	assert.False(t, ls[0].Busy)
	o, err := Open(dir, s.ID())
	require.NoError(t, err, "free after a listing")
	o.Close()
}
