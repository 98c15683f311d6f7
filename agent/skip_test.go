package agent_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
)

// A run whose events only Collect reads (Run) does not decode the stream
// events it would drop: here a text delta that is not even JSON. The same
// stream read through Stream, which yields deltas, is an error.
func TestRunSkipsEventsNobodyReads(t *testing.T) {
	const msg = `{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"hi","annotations":[]}]}`
	body := "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\",\"output\":[]}}\n\n" +
		"data: {\"type\":\"response.output_text.delta\",\"delta\":\n\n" +
		"data: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":" + msg + "}\n\n" +
		"data: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[" + msg + "]}}\n\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, MaxRetries: -1})
	a := agent.New(c, "m", nil)

	res, err := a.Run(context.Background(), "hi")
	require.NoError(t, err)
	assert.Equal(t, "hi", res.Text)

	var streamErr error
	for _, err := range a.Stream(context.Background(), "hi") {
		if err != nil {
			streamErr = err
		}
	}
	assert.ErrorContains(t, streamErr, "decode stream event")

	// An Event middleware reads every event: nothing is skipped.
	seen := agent.New(c, "m", &agent.Options{Middleware: []agent.Middleware{{Event: func(context.Context, *agent.Event) {}}}})
	_, err = seen.Run(context.Background(), "hi")
	assert.ErrorContains(t, err, "decode stream event")
}
