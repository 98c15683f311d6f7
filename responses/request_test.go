package responses_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

// The API takes conversation as "conv_…" or {"id": "conv_…"} (the Go SDK
// sends the object form); a decoded request accepts both.
func TestRequestConversationForms(t *testing.T) {
	for _, body := range []string{
		`{"model":"m","conversation":"conv_1"}`,
		`{"model":"m","conversation":{"id":"conv_1"}}`,
	} {
		var r responses.Request
		require.NoError(t, json.Unmarshal([]byte(body), &r), body)
		assert.Equal(t, "conv_1", r.Conversation, body)
		assert.Equal(t, "m", r.Model, body)
	}
	var r responses.Request
	require.NoError(t, json.Unmarshal([]byte(`{"model":"m","conversation":null}`), &r))
	assert.Empty(t, r.Conversation)
	for _, bad := range []string{`{"conversation":{}}`, `{"conversation":1}`, `{"conversation":{"id":2}}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &r), bad)
	}
	// Our client sends the string form.
	b, err := json.Marshal(responses.Request{Model: "m", Conversation: "conv_1"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"m","conversation":"conv_1"}`, string(b))
}

func FuzzRequestUnmarshal(f *testing.F) {
	f.Add(`{"model":"m","conversation":{"id":"conv_1"},"input":"hi"}`)
	f.Add(`{"conversation":"c","input":[{"type":"message","role":"user","content":"x"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var r responses.Request
		if json.Unmarshal([]byte(s), &r) != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode %q: %v", s, err)
		}
		var again responses.Request
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("decode own encoding %s: %v", b, err)
		}
		if again.Conversation != r.Conversation {
			t.Fatalf("conversation %q became %q", r.Conversation, again.Conversation)
		}
	})
}
