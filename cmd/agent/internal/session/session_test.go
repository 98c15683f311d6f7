package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
)

func output(id, text string) responses.Item {
	return responses.MustItem(map[string]any{"type": "function_call_output", "call_id": id, "output": text})
}

func TestCreateOpenState(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m", Stateless: true, Dir: "/ws"})
	require.NoError(t, err)
	require.True(t, IsID(s.ID()), s.ID())
	out := output("c1", "x")
	require.NoError(t, s.AppendPrompt("hello"))
	require.NoError(t, s.AppendItems([]responses.Item{responses.UserMessage("hello"), responses.MustItem(map[string]any{"type": "message", "role": "assistant", "content": []any{}})}))
	require.NoError(t, s.AppendResult(Result{ResponseID: "resp_1", Pending: []responses.Item{out}}))
	require.NoError(t, s.AppendPrompt("again"))
	require.NoError(t, s.AppendResult(Result{})) // no response: keeps resp_1
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")

	o, err := Open(dir, s.ID())
	require.NoError(t, err)
	defer o.Close()
	assert.Equal(t, "m", o.Header.Model)
	assert.True(t, o.Header.Stateless)
	assert.Equal(t, "/ws", o.Header.Dir)
	assert.Equal(t, 2, o.Tasks())
	prev, transcript, pending := o.State()
	assert.Equal(t, "resp_1", prev)
	assert.Len(t, transcript, 2)
	assert.Empty(t, pending, "the last result had none")
	assert.False(t, o.Interrupted())
}

func TestLatest(t *testing.T) {
	dir := t.TempDir()
	_, err := Latest(dir)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Open(filepath.Join(dir, "missing"), "")
	require.ErrorIs(t, err, ErrNotFound)

	a, err := Create(dir, Header{Model: "a"})
	require.NoError(t, err)
	b, err := Create(dir, Header{Model: "b"})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	require.NoError(t, a.AppendPrompt("later"))
	require.NoError(t, a.Close())
	latest, err := Latest(dir)
	require.NoError(t, err)
	assert.Equal(t, a.ID(), latest, "the most recently written")

	o, err := Open(dir, "")
	require.NoError(t, err)
	assert.Equal(t, "a", o.Header.Model)
	o.Close()
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m"})
	require.NoError(t, err)
	s.Close()
	for _, tc := range []struct{ name, id, want string }{
		{"bad id", "../etc/passwd", "no such session"},
		{"missing", "20260101T000000-abcdef", "no such session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(dir, tc.id)
			require.ErrorIs(t, err, ErrNotFound)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("foreign database", func(t *testing.T) {
		d := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(d, DBName), []byte("not a database at all, just text"), 0o600))
		_, err := Open(d, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(d, DBName), "names the file")
	})
}

// New saves nothing until Save.
func TestNewIsSavedLazily(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sessions")
	s := New(dir, Header{Model: "m"})
	require.NoError(t, s.AppendPrompt("hi"))
	require.NoError(t, s.AppendItems([]responses.Item{responses.UserMessage("hi")}))
	assert.False(t, s.Saved())
	_, err := os.Stat(dir)
	require.True(t, errors.Is(err, os.ErrNotExist), "nothing written before Save")
	require.NoError(t, s.Save())
	require.NoError(t, s.AppendResult(Result{ResponseID: "resp_1"}))
	require.NoError(t, s.Close())

	o, err := Open(dir, s.ID())
	require.NoError(t, err)
	defer o.Close()
	prev, _, _ := o.State()
	assert.Equal(t, "resp_1", prev)
	assert.Equal(t, 1, o.Tasks())
}

// One process at a time: a second Open is refused while the first has the
// session; a closed (or killed) holder lets it go.
func TestOpenBusy(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m"})
	require.NoError(t, err)
	_, err = Open(dir, s.ID())
	require.ErrorIs(t, err, ErrBusy)
	assert.Contains(t, err.Error(), "is open in another agent process (pid ")
	require.NoError(t, s.Close())
	o, err := Open(dir, s.ID())
	require.NoError(t, err)
	o.Close()
}

// The recorder saves each turn as it completes: a session whose process
// died after a turn continues after it, sending the unsent outputs.
func TestRecorderSavesTurns(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(map[bool]string{false: "chained", true: "stateless"}[stateless], func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s := New(dir, Header{Model: "m", Stateless: stateless})
			require.NoError(t, s.AppendPrompt("go"))
			rec := s.Recorder()
			require.NoError(t, rec.Start(ctx, []responses.Item{responses.UserMessage("go")}))
			assert.False(t, s.Saved(), "no turn yet")
			call := responses.MustItem(map[string]any{"type": "function_call", "call_id": "c1", "name": "echo", "arguments": "{}"})
			out := output("c1", "done")
			require.NoError(t, rec.Turn(ctx, &agent.RecordedTurn{Turn: 1, Items: []responses.Item{call, out}, ResponseID: "resp_1",
				State: &agent.RunState{Input: []responses.Item{out}}}))
			assert.True(t, s.Saved(), "saved at the first turn")
			// kill -9: no End, no AppendResult; the lock goes with the process.
			unlock(s.lock)
			s.lock = nil

			o, err := Open(dir, s.ID())
			require.NoError(t, err)
			defer o.Close()
			assert.True(t, o.Interrupted())
			prev, transcript, pending := o.State()
			assert.Equal(t, "resp_1", prev)
			if stateless {
				assert.Len(t, transcript, 3, "input, call, output")
				assert.Empty(t, pending, "the output is in the transcript")
			} else {
				assert.Equal(t, []responses.Item{out}, pending)
			}

			// The next task sends the unsent output first; it is not stored twice.
			require.NoError(t, o.AppendPrompt("go on"))
			rec = o.Recorder()
			in := append(pending, responses.UserMessage("go on"))
			require.NoError(t, rec.Start(ctx, in))
			require.NoError(t, o.AppendItems(in), "a no-op after a recorded task")
			require.NoError(t, o.AppendResult(Result{ResponseID: "resp_2"}))
			c, err := o.st.Load(ctx, o.ID(), nil)
			require.NoError(t, err)
			assert.Len(t, c.Items, 4, "go, call, output, go on")
			assert.False(t, o.Interrupted())
		})
	}
}

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	whole := `{"v":1,"type":"session","id":"20260101T000000-aaaaaa","model":"m","dir":"/ws"}
{"type":"prompt","text":"hi"}
{"type":"item","item":{"type":"message","role":"user","content":"hi"}}
{"type":"result","result":{"response_id":"resp_1","approved":["shell:ls"]}}
`
	torn := whole + `{"type":"prompt","text":"again"}
{"type":"item","item":{"type":"message","role":"assistant","content":[]}}
{"type":"result","result":{"response_id":"resp_2"`
	bad := `{"v":1,"type":"session"}` + "\n{oops\n" + `{"type":"prompt"}` + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20260101T000000-aaaaaa.jsonl"), []byte(whole), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20260101T000000-bbbbbb.jsonl"), []byte(strings.ReplaceAll(torn, "aaaaaa", "bbbbbb")), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20260101T000000-cccccc.jsonl"), []byte(bad), 0o600))

	o, err := Open(dir, "20260101T000000-bbbbbb")
	require.NoError(t, err)
	notes := strings.Join(o.Notes(), "\n")
	assert.Contains(t, notes, "migrated 2 session files")
	assert.Contains(t, notes, "20260101T000000-bbbbbb.jsonl: dropped its half-written last line 7")
	assert.Contains(t, notes, "20260101T000000-cccccc.jsonl: not migrated: line 2")
	prev, _, _ := o.State()
	assert.Equal(t, "resp_1", prev, "the whole lines are kept")
	assert.Equal(t, 2, o.Tasks())
	assert.Equal(t, []string{"shell:ls"}, o.Approved())
	o.Close()

	report, err := os.ReadFile(filepath.Join(dir, MigratedName))
	require.NoError(t, err)
	assert.Contains(t, string(report), "half-written last line")
	_, err = os.Stat(filepath.Join(dir, "20260101T000000-aaaaaa.jsonl"))
	require.NoError(t, err, "the files are kept")

	// Once: a file added later is not read.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20260102T000000-dddddd.jsonl"), []byte(strings.ReplaceAll(whole, "aaaaaa", "dddddd")), 0o600))
	_, err = Open(dir, "20260102T000000-dddddd")
	require.ErrorIs(t, err, ErrNotFound)
	a, err := Open(dir, "20260101T000000-aaaaaa")
	require.NoError(t, err)
	assert.Empty(t, a.Notes())
	a.Close()

	ls, err := List(dir, 0)
	require.NoError(t, err)
	require.Len(t, ls, 2)
	for _, s := range ls {
		assert.Equal(t, "hi", s.Prompt, "the first prompt of a migrated file")
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"session","id":"x","model":"m"}` + "\n" +
		`{"type":"prompt","text":"hi"}` + "\n" +
		`{"type":"item","item":{"type":"message","role":"user","content":"hi"}}` + "\n" +
		`{"type":"result","result":{"response_id":"r","pending":[{"type":"function_call_output","call_id":"c","output":"o"}]}}` + "\n"))
	f.Add([]byte(`{"v":1,"type":"session"}` + "\n{\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"v":1,"type":"session"}` + "\n" + `{"type":"item","item":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseFile(data)
		if err != nil {
			return
		}
		for _, it := range append(p.items, p.meta.Pending...) {
			_, err := it.MarshalJSON()
			require.NoError(t, err)
		}
	})
}

func TestApprovedKeysSurviveReopening(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m"})
	require.NoError(t, err)
	require.NoError(t, s.AppendResult(Result{ResponseID: "resp_1", Approved: []string{"shell:go test"}}))
	require.NoError(t, s.AppendResult(Result{ResponseID: "resp_2"})) // a result without the field keeps them
	require.NoError(t, s.Close())

	o, err := Open(dir, s.ID())
	require.NoError(t, err)
	defer o.Close()
	assert.Equal(t, []string{"shell:go test"}, o.Approved())
}
