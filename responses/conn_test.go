package responses_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

// reuseCounter counts the requests sent over a fresh connection.
func reuseCounter(fresh *atomic.Int32) context.Context {
	return httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if !ci.Reused {
			fresh.Add(1)
		}
	}})
}

// A stream read to its terminal event leaves its connection to the next
// request: a body closed before its end would take the connection with it,
// and every turn would dial (and over TLS, shake hands) again.
func TestStreamReusesConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, textStream()...)
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	var fresh atomic.Int32
	ctx := reuseCounter(&fresh)
	for range 5 {
		s, err := c.Stream(ctx, &responses.Request{Model: "m", Input: responses.TextInput("x")})
		require.NoError(t, err)
		for s.Next() {
		}
		require.NoError(t, s.Err())
		require.NotNil(t, s.Response())
		s.Close()
	}
	assert.Equal(t, int32(1), fresh.Load(), "five streamed requests, one connection")
}

// A server that keeps the stream open after the terminal event does not
// hold the caller: the stream ends at once with its response, and the body
// is cut after a short wait.
func TestStreamTerminalThenSilence(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, textStream()...)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	s, err := c.Stream(context.Background(), &responses.Request{Model: "m", Input: responses.TextInput("x")})
	require.NoError(t, err)
	start := time.Now()
	for s.Next() {
	}
	require.NoError(t, s.Err())
	require.NotNil(t, s.Response())
	assert.Less(t, time.Since(start), 2*time.Second)
	s.Close()
}

// Skip passes over the named events undecoded, even malformed ones, and
// never over the items and the terminal event; a skipped response.created
// still names the response.
func TestStreamSkip(t *testing.T) {
	blocks := append([]string{}, textStream()...)
	// A malformed delta: skipped, so never an error.
	blocks = append(blocks[:2], append([]string{"data: {\"type\":\"response.output_text.delta\",\"delta\":\n\n"}, blocks[2:]...)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, blocks...)
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	s, err := c.Stream(context.Background(), &responses.Request{Model: "m", Input: responses.TextInput("x")})
	require.NoError(t, err)
	s.Skip(responses.EventOutputTextDelta, responses.EventResponseInProgress,
		responses.EventResponseCreated, responses.EventOutputItemDone, responses.EventResponseCompleted)
	var types []string
	for s.Next() {
		types = append(types, s.Event().Type)
	}
	require.NoError(t, s.Err())
	assert.NotContains(t, types, responses.EventOutputTextDelta)
	assert.NotContains(t, types, responses.EventResponseInProgress)
	assert.NotContains(t, types, responses.EventResponseCreated)
	assert.Contains(t, types, responses.EventOutputItemDone, "never skipped")
	assert.Equal(t, responses.EventResponseCompleted, types[len(types)-1])
	require.NotNil(t, s.Response())
	assert.Len(t, s.Response().Output, 2)
}

// Without Skip, the malformed event is an error, as before.
func TestStreamMalformedEventWithoutSkip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, textStream()[0], "data: {\"type\":\"response.output_text.delta\",\"delta\":\n\n")
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, MaxRetries: -1})
	s, err := c.Stream(context.Background(), &responses.Request{Model: "m", Input: responses.TextInput("x")})
	require.NoError(t, err)
	for s.Next() {
	}
	assert.ErrorContains(t, s.Err(), "decode stream event")
	s.Close()
}

// A skipped response.created still names the response a broken stream
// reports.
func TestStreamSkipCreatedKeepsResponseID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cutSSE(w, textStream()[0])
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, MaxRetries: -1})
	s, err := c.Stream(context.Background(), &responses.Request{Model: "m", Input: responses.TextInput("x")})
	require.NoError(t, err)
	s.Skip(responses.EventResponseCreated)
	for s.Next() {
		t.Errorf("delivered %s", s.Event().Type)
	}
	var serr *responses.StreamError
	require.ErrorAs(t, s.Err(), &serr)
	assert.Equal(t, "resp_s", serr.ResponseID)
	s.Close()
}

// A tracer still sees the events a consumer skips, with their type: a
// time-to-first-chunk measure does not move to the item's end.
func TestStreamSkipStillTraced(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, textStream()...)
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	var traced []string
	ctx := responses.WithClientTrace(context.Background(), &responses.ClientTrace{StreamEvent: func(ev *responses.Event) {
		traced = append(traced, ev.Type)
	}})
	s, err := c.Stream(ctx, &responses.Request{Model: "m", Input: responses.TextInput("x")})
	require.NoError(t, err)
	s.Skip(responses.EventOutputTextDelta)
	var delivered []string
	for s.Next() {
		delivered = append(delivered, s.Event().Type)
	}
	require.NoError(t, s.Err())
	assert.NotContains(t, delivered, responses.EventOutputTextDelta)
	assert.Contains(t, traced, responses.EventOutputTextDelta)
	assert.Equal(t, len(delivered)+2, len(traced), "the two deltas are traced, not delivered")
	s.Close()
}
