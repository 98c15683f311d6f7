package responses_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

// Items whose JSON must survive decode -> send unchanged, byte for byte
// (spacing, key order, number spelling and escapes included). Note that
// json.Marshal of an Item compacts it; the client's request encoder does
// not.
var oddItems = []string{
	`{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA+/=="}`,
	`{"type":"mcp_call","id":"mcp_1","server_label":"docs","name":"search","arguments":"{}","output":null,"error":"tool crashed"}`,
	`{"type":"mcp_call","id":"mcp_2","server_label":"docs","name":"search","arguments":"{}","error":{"type":"mcp_tool_error","message":"bad"}}`,
	`{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"go 1.26"}}`,
	`{ "type" : "hologram_call" , "id":"h_1", "payload": {"z": [1, 2.50, "\u00e9"]}, "extra": null }`,
	`{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{\"a\":1}","status":"completed","caller":{"type":"program","id":"p1"},"namespace":"ns"}`,
	`{"role":"user","content":"easy message without a type"}`,
}

func TestLenientResponseDecoding(t *testing.T) {
	body := `{"id":"resp_9","object":"response","created_at":1767000000.123,"completed_at":1767000001.5,"status":"incomplete",
	"error":null,"incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-x","instructions":[{"role":"developer","content":"x"}],
	"metadata":{"n":1},"tool_choice":{"type":"function","name":"f"},"tools":[{"type":"web_search"}],"tool_usage":{"web_search":{"num_requests":2}},
	"output":[` + strings.Join(oddItems, ",") + `],
	"usage":{"input_tokens":9,"output_tokens":2,"total_tokens":11}}`
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, body) })
	c := responses.NewClient(srv.options(responses.OpenAI))
	resp, err := c.Create(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	assert.Equal(t, 1767000000.123, resp.CreatedAt)
	require.NotNil(t, resp.CompletedAt)
	assert.Equal(t, responses.StatusIncomplete, resp.Status)
	assert.Equal(t, "max_output_tokens", resp.IncompleteDetails.Reason)
	require.NotNil(t, resp.Usage)
	assert.Equal(t, int64(0), resp.Usage.InputTokensDetails.CachedTokens, "absent details are zero")
	assert.Equal(t, int64(11), resp.Usage.TotalTokens)
	require.Len(t, resp.Output, len(oddItems))
	assert.Equal(t, "hologram_call", resp.Output[4].Type)
	assert.Equal(t, "message", resp.Output[6].Type)

	// Send the items back as the next input: each must be byte-for-byte.
	_, err = c.Create(t.Context(), &responses.Request{Model: "m", Input: responses.ItemsInput(resp.Output...)})
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	want := `{"model":"m","input":[` + strings.Join(oddItems, ",") + `]}`
	assert.Equal(t, want, string(reqs[1].Body))
}

func TestUsageDetails(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
		want responses.Usage
	}{
		{"full", `{"input_tokens":5120,"input_tokens_details":{"cached_tokens":4096,"cache_write_tokens":7,"cache_write_tokens_details":{"ttl_30m_tokens":7}},"output_tokens":640,"output_tokens_details":{"reasoning_tokens":512},"total_tokens":5760}`,
			responses.Usage{InputTokens: 5120, InputTokensDetails: responses.InputTokensDetails{CachedTokens: 4096, CacheWriteTokens: 7}, OutputTokens: 640, OutputTokensDetails: responses.OutputTokensDetails{ReasoningTokens: 512}, TotalTokens: 5760}},
		{"no details", `{"input_tokens":3,"output_tokens":4,"total_tokens":7}`,
			responses.Usage{InputTokens: 3, OutputTokens: 4, TotalTokens: 7}},
		{"null details", `{"input_tokens":3,"input_tokens_details":null,"output_tokens":4,"output_tokens_details":null,"total_tokens":7}`,
			responses.Usage{InputTokens: 3, OutputTokens: 4, TotalTokens: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r responses.Response
			require.NoError(t, json.Unmarshal([]byte(`{"id":"r","usage":`+tc.json+`}`), &r))
			assert.Equal(t, tc.want, *r.Usage)
		})
	}
}

func TestRequestIDLoggedPerAttempt(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("x-request-id", []string{"req_a", "req_b"}[n])
		if n == 0 {
			writeJSON(w, 500, `{}`)
			return
		}
		writeJSON(w, 200, completedJSON)
	})
	var logs bytes.Buffer
	o := srv.options(responses.OpenAI)
	o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := responses.NewClient(o).Create(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), "request_id=req_a")
	assert.Contains(t, logs.String(), "request_id=req_b")
	assert.Contains(t, logs.String(), "responses: retrying")
}

// canonical returns what encoding/json makes of b when it embeds it: b
// compacted, with <, > and & escaped. Values are otherwise untouched.
func canonical(t *testing.T, b []byte) string {
	out, err := json.Marshal(json.RawMessage(b))
	require.NoError(t, err)
	return string(out)
}

// FuzzItem checks that any JSON object decodes to an item whose encoding is
// the input, unchanged but for encoding/json's canonical form.
func FuzzItem(f *testing.F) {
	for _, s := range oddItems {
		f.Add(s)
	}
	f.Add(`{"type":5,"id":["x"]}`)
	f.Add(`[1]`)
	f.Add(`{"type":"message","content":[{"type":"output_text","text":"a"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		var it responses.Item
		if err := json.Unmarshal([]byte(in), &it); err != nil {
			return
		}
		out, err := json.Marshal(it)
		require.NoError(t, err)
		require.Equal(t, canonical(t, []byte(in)), string(out))
		_ = it.Text()
		_ = it.OutputKey()
		_ = it.CallKey()
	})
}

// FuzzResponse checks that decoding never panics and that a decoded
// response's items survive a second round trip unchanged.
func FuzzResponse(f *testing.F) {
	f.Add(completedJSON)
	f.Add(`{"id":"r","created_at":1.5,"output":[` + strings.Join(oddItems, ",") + `]}`)
	f.Add(`{"id":"r","output":null,"usage":{"input_tokens":1}}`)
	f.Add(`{"id":"r","error":{"code":"server_error","message":"x"},"status":"failed"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var r responses.Response
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			return
		}
		_ = r.OutputText()
		b, err := json.Marshal(&r)
		require.NoError(t, err)
		var again responses.Response
		require.NoError(t, json.Unmarshal(b, &again))
		require.Len(t, again.Output, len(r.Output))
		for i := range r.Output {
			require.Equal(t, canonical(t, r.Output[i].Raw()), string(again.Output[i].Raw()))
		}
	})
}
