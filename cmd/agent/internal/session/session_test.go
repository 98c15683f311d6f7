package session

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

func TestCreateOpenState(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m", Stateless: true, Dir: "/ws"})
	require.NoError(t, err)
	require.True(t, IsID(s.ID()), s.ID())
	out := responses.MustItem(map[string]any{"type": "function_call_output", "call_id": "c1", "output": "x"})
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
	assert.Equal(t, 2, o.Tasks())
	prev, transcript, pending := o.State()
	assert.Equal(t, "resp_1", prev)
	assert.Len(t, transcript, 2)
	assert.Empty(t, pending, "the last result had none")
}

func TestLatest(t *testing.T) {
	dir := t.TempDir()
	_, err := Latest(dir)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = Open(filepath.Join(dir, "missing"), "")
	require.ErrorIs(t, err, ErrNotFound)

	a, err := Create(dir, Header{Model: "a"})
	require.NoError(t, err)
	a.Close()
	b, err := Create(dir, Header{Model: "b"})
	require.NoError(t, err)
	b.Close()
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(b.Path(), old, old))
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
	for _, tc := range []struct{ name, id, content, want string }{
		{"bad id", "../etc/passwd", "", "no such session"},
		{"missing", "20260101T000000-abcdef", "", "no such session"},
		{"empty", "20260101T000000-000001", "", "empty file"},
		{"not a session", "20260101T000000-000002", `{"type":"prompt"}` + "\n", "not a session header"},
		{"future version", "20260101T000000-000003", `{"v":9,"type":"session","id":"x"}` + "\n", "format version 9"},
		{"bad middle line", "20260101T000000-000004", `{"v":1,"type":"session"}` + "\n{oops\n" + `{"type":"prompt"}` + "\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.content != "" || tc.name == "empty" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, tc.id+".jsonl"), []byte(tc.content), 0o600))
			}
			_, err := Open(dir, tc.id)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestTornLastLine(t *testing.T) {
	dir := t.TempDir()
	s, err := Create(dir, Header{Model: "m"})
	require.NoError(t, err)
	require.NoError(t, s.AppendResult(Result{ResponseID: "resp_1"}))
	s.Close()
	f, err := os.OpenFile(s.Path(), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"type":"result","result":{"response_id":"resp_2"`)
	require.NoError(t, err)
	f.Close()

	o, err := Open(dir, s.ID())
	require.NoError(t, err, "a crash while writing the last line loses only that line")
	defer o.Close()
	prev, _, _ := o.State()
	assert.Equal(t, "resp_1", prev)
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"session","id":"x","model":"m"}` + "\n" +
		`{"type":"prompt","text":"hi"}` + "\n" +
		`{"type":"item","item":{"type":"message","role":"user","content":"hi"}}` + "\n" +
		`{"type":"result","result":{"response_id":"r","pending":[{"type":"function_call_output","call_id":"c","output":"o"}]}}` + "\n"))
	f.Add([]byte(`{"v":1,"type":"session"}` + "\n{\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"v":1,"type":"session"}` + "\n" + `{"type":"item","item":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Session{}
		if err := s.load(data); err != nil {
			return
		}
		prev, transcript, pending := s.State()
		_ = prev
		for _, it := range append(transcript, pending...) {
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
