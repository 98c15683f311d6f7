package responses

import (
	"context"
	"time"
)

// ClientTrace is a set of hooks that a [Client] runs at stages of a call, in
// the manner of net/http/httptrace: an instrumentation (a tracer, a
// progress display) puts one into the context of the call with
// [WithClientTrace]. Any hook may be nil. The hooks run on the goroutine
// making the call or reading its stream, must return quickly, and must not
// keep the values they are handed beyond the call.
//
// The trace context itself (W3C traceparent) needs no hook: every request
// carries the span of its context through the OpenTelemetry global
// propagator, which sends nothing until the application installs one.
type ClientTrace struct {
	// Retry runs before the client waits to send a request again or to
	// reconnect a broken stream.
	Retry func(RetryInfo)
	// StreamEvent runs for each event a [Stream] delivers, before
	// [Stream.Next] returns it.
	StreamEvent func(*Event)
}

// RetryInfo describes one retry to [ClientTrace.Retry].
type RetryInfo struct {
	Retry int           // the retry's number in its budget, from 1
	Delay time.Duration // the wait before it
	// Err is what failed: an [*APIError] for an error status or event, a
	// [*StreamError] for a broken stream, or a connection error.
	Err error
}

type traceKey struct{}

// WithClientTrace returns a copy of ctx under which every [Client] call
// runs the hooks of t. A nil t removes nothing.
func WithClientTrace(ctx context.Context, t *ClientTrace) context.Context {
	if t == nil {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, t)
}

// ContextClientTrace returns the ClientTrace of ctx, or nil.
func ContextClientTrace(ctx context.Context) *ClientTrace {
	t, _ := ctx.Value(traceKey{}).(*ClientTrace)
	return t
}
