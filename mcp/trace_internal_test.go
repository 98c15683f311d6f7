package mcp

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

type captureTransport struct{ got http.Header }

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.got = req.Header.Clone()
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// A streamable-HTTP request carries the caller's trace context.
func TestTraceContextPropagated(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	// The default cannot be set back once replaced; an empty propagator
	// does what it does.
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })

	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	next := &captureTransport{}
	g := newProtocolGate(next)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1:1/mcp", http.NoBody)
	require.NoError(t, err)
	_, err = g.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", next.got.Get("traceparent"))

	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, "http://127.0.0.1:1/mcp", http.NoBody)
	_, err = g.RoundTrip(req)
	require.NoError(t, err)
	assert.Empty(t, next.got.Get("traceparent"), "nothing without a span")
}
