package mcp

import (
	"context"
	"errors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
)

// dialHTTP connects to a Streamable HTTP server and initialises the
// session. The GET stream that carries notifications outside calls opens
// only once the session is initialised (see [protocolGate]).
func dialHTTP(ctx context.Context, name string, sc *ServerConfig, o *Options, h sessionHooks) (*dialed, error) {
	gate := newProtocolGate(http.DefaultTransport)
	tr, err := transport.NewStreamableHTTP(sc.URL,
		transport.WithHTTPHeaders(sc.Headers),
		transport.WithHTTPBasicClient(&http.Client{Transport: gate}),
		//lint:ignore SA1019 we pin protocol 2025-11-25, where list_changed comes on the GET stream (trap 3)
		transport.WithContinuousListening(),
		transport.WithHTTPLogger(o.Logger.With("mcp_server", name)))
	if err != nil {
		return nil, err
	}
	s, caps := newSession(name, tr, o, h, true)
	s.gate = gate
	return s.handshake(ctx, name, sc, o, caps)
}

// dialSSE connects to a legacy SSE server and initialises the session.
// mcp-go never answers a server's requests over SSE, so roots, elicitation
// and sampling are not offered.
func dialSSE(ctx context.Context, name string, sc *ServerConfig, o *Options, h sessionHooks) (*dialed, error) {
	tr, err := transport.NewSSE(sc.URL, transport.WithHeaders(sc.Headers), transport.WithSSELogger(o.Logger.With("mcp_server", name)))
	if err != nil {
		return nil, err
	}
	s, caps := newSession(name, tr, o, h, false)
	// The SSE stream carries every response: once it ends, calls in flight
	// would wait for their deadline (mcp-go does not fail them).
	s.c.OnConnectionLost(func(error) {
		if h.exited != nil {
			h.exited()
		}
	})
	return s.handshake(ctx, name, sc, o, caps)
}

// protocolGate is the http.RoundTripper of a Streamable HTTP session. It
// works around a race in mcp-go (v1.2.1, the newest release): the client
// opens its GET stream as soon as the initialize response arrives, before it
// has the negotiated protocol version and before notifications/initialized
// is sent, so the GET goes without Mcp-Protocol-Version and may reach the
// server before the session is initialised. The gate holds every GET until
// [protocolGate.open] (called once initialize has returned, which is after
// notifications/initialized was sent) and from then on puts the negotiated
// Mcp-Protocol-Version on every request that lacks it.
//
// The session's first requests wait until the GET stream is open (or
// refused), as they would have without the race: mcp-go drops a response
// that a server sends on the GET stream, and some servers send a pending
// response on the first GET that follows the request.
type protocolGate struct {
	next      http.RoundTripper
	ready     chan struct{}
	once      sync.Once
	version   atomic.Value  // string, set before ready is closed
	listening chan struct{} // closed when the first GET has its answer
	listened  sync.Once
}

const headerProtocolVersion = "Mcp-Protocol-Version"

func newProtocolGate(next http.RoundTripper) *protocolGate {
	return &protocolGate{next: next, ready: make(chan struct{}), listening: make(chan struct{})}
}

// open records the negotiated version and lets GET requests through.
func (g *protocolGate) open(version string) {
	g.once.Do(func() {
		g.version.Store(version)
		close(g.ready)
	})
}

func (g *protocolGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		req = withTraceContext(req)
	}
	if req.Method == http.MethodGet {
		select {
		case <-g.ready:
		case <-req.Context().Done():
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, errors.Join(errGateClosed, req.Context().Err())
		}
	}
	select {
	case <-g.ready:
		if v, _ := g.version.Load().(string); v != "" && req.Header.Get(headerProtocolVersion) == "" {
			req = req.Clone(req.Context())
			req.Header.Set(headerProtocolVersion, v)
		}
	default:
	}
	if req.Method != http.MethodGet {
		return g.next.RoundTrip(req)
	}
	resp, err := g.next.RoundTrip(req)
	g.listened.Do(func() { close(g.listening) })
	return resp, err
}

// waitListening waits until the first GET has its answer, at most max.
func (g *protocolGate) waitListening(ctx context.Context, max time.Duration) {
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-g.listening:
	case <-t.C:
	case <-ctx.Done():
	}
}

var errGateClosed = errors.New("mcp: the session ended before it was initialised")

// withTraceContext adds the trace context of req's context (W3C
// traceparent, through the global propagator, which sends nothing until
// the application installs one), so a server that traces joins the
// caller's trace.
func withTraceContext(req *http.Request) *http.Request {
	carrier := propagation.HeaderCarrier{}
	otel.GetTextMapPropagator().Inject(req.Context(), carrier)
	if len(carrier) == 0 {
		return req
	}
	req = req.Clone(req.Context())
	for k, v := range carrier {
		if req.Header.Get(k) == "" {
			req.Header[k] = v
		}
	}
	return req
}
