package responses_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func TestCompact(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.FunctionCall("call_1", "f", "{}")))
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, APIKey: "k"})
	first, err := c.Create(t.Context(), &responses.Request{Model: "m", Input: responses.ItemsInput(responses.UserMessage("hello"))})
	require.NoError(t, err)

	out := responses.MustItem(responses.FunctionCallOutput{Type: "function_call_output", CallID: "call_1", Output: responses.MustJSON("ok")})
	for _, tc := range []struct {
		name string
		req  responses.CompactRequest
	}{
		{"chained", responses.CompactRequest{Model: "m", PreviousResponseID: first.ID, Input: responses.ItemsInput(out)}},
		{"stateless", responses.CompactRequest{Model: "m", Instructions: "be brief",
			Input: responses.ItemsInput(responses.UserMessage("hello"), first.Output[0], out)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmp, err := c.Compact(t.Context(), &tc.req)
			require.NoError(t, err)
			assert.Equal(t, "response.compaction", cmp.Object)
			require.Len(t, cmp.Output, 2)
			assert.Equal(t, string(responses.UserMessage("hello").Raw()), string(cmp.Output[0].Raw()))
			assert.Equal(t, responses.TypeCompaction, cmp.Output[1].Type)
			assert.Equal(t, 2, rt.CompactedCount(cmp.Output[1]))
			require.NotNil(t, cmp.Usage)
			assert.Positive(t, cmp.Usage.InputTokens)

			reqs := srv.Requests()
			last := reqs[len(reqs)-1]
			assert.Equal(t, "/responses/compact", last.Path)
			assert.Equal(t, "k", last.APIKey())
			assert.JSONEq(t, string(responses.MustJSON(tc.req)), string(last.Body))
		})
	}

	_, err = c.Compact(t.Context(), &responses.CompactRequest{Input: responses.TextInput("x")})
	assert.ErrorContains(t, err, "the model is required")
	_, err = c.Compact(t.Context(), nil)
	assert.ErrorContains(t, err, "nil compact request")

	// A call without its output breaks the API's rules there too.
	_, err = c.Compact(t.Context(), &responses.CompactRequest{Model: "m", Input: responses.ItemsInput(first.Output[0])})
	var ae *responses.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)

	// The Scale GenAI Platform path has no compact endpoint.
	sgp := responses.NewClient(&responses.ClientOptions{Provider: responses.SGP, BaseURL: srv.URL, APIKey: "k"})
	_, err = sgp.Compact(t.Context(), &responses.CompactRequest{Model: "m", Input: responses.TextInput("x")})
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, ae.StatusCode)
}

func TestCompactRetries(t *testing.T) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/responses/compact" {
			http.NotFound(w, r)
			return
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"id":"cmp_1","object":"response.compaction","output":[{"type":"compaction","encrypted_content":"x"}]}`))
	}))
	defer hs.Close()
	c := responses.NewClient(&responses.ClientOptions{BaseURL: hs.URL + "/v1", RetryBaseDelay: time.Millisecond})
	cmp, err := c.Compact(t.Context(), &responses.CompactRequest{Model: "m", Input: responses.TextInput("x")})
	require.NoError(t, err)
	assert.Equal(t, "cmp_1", cmp.ID)
	assert.Equal(t, int32(2), calls.Load())
}
