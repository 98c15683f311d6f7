package responses_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// Requests carry the span of their context as W3C traceparent once the
// application installs a propagator, and nothing before.
func TestRequestsCarryTraceparent(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.Text("a")), rt.Output(rt.Text("b")))
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(t.Context(), sc)
	req := &responses.Request{Model: "m", Input: responses.TextInput("hi")}

	// The global propagator cannot be given back its default once set, so
	// the test sets an empty one (which is what the default does) first
	// and last: it holds however often it runs.
	none := propagation.NewCompositeTextMapPropagator()
	otel.SetTextMapPropagator(none)
	t.Cleanup(func() { otel.SetTextMapPropagator(none) })
	_, err := c.Create(ctx, req)
	require.NoError(t, err)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	_, err = c.Create(ctx, req)
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[0].Header.Get("traceparent"), "no propagator installed")
	assert.Equal(t, "00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01", reqs[1].Header.Get("traceparent"))
}

// A ClientTrace in the context sees each retry (its number, delay and
// cause) and each stream event.
func TestClientTraceSeesRetriesAndEvents(t *testing.T) {
	srv := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("hello")}, Faults: []rt.Fault{rt.RateLimited(3 * time.Millisecond)}})
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	var retries []responses.RetryInfo
	var events []string
	ctx := responses.WithClientTrace(t.Context(), &responses.ClientTrace{
		Retry:       func(ri responses.RetryInfo) { retries = append(retries, ri) },
		StreamEvent: func(ev *responses.Event) { events = append(events, ev.Type) },
	})
	s, err := c.Stream(ctx, &responses.Request{Model: "m", Input: responses.TextInput("hi")})
	require.NoError(t, err)
	defer s.Close()
	for s.Next() {
	}
	require.NoError(t, s.Err())

	require.Len(t, retries, 1)
	assert.Equal(t, 1, retries[0].Retry)
	assert.Equal(t, 3*time.Millisecond, retries[0].Delay)
	var apiErr *responses.APIError
	require.True(t, errors.As(retries[0].Err, &apiErr))
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Equal(t, "response.created", events[0])
	assert.Contains(t, events, "response.output_text.delta")
	assert.Equal(t, "response.completed", events[len(events)-1])
	assert.Nil(t, responses.ContextClientTrace(context.Background()))
}
