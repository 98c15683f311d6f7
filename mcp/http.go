package mcp

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"

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
type protocolGate struct {
	next    http.RoundTripper
	ready   chan struct{}
	once    sync.Once
	version atomic.Value // string, set before ready is closed
}

const headerProtocolVersion = "Mcp-Protocol-Version"

func newProtocolGate(next http.RoundTripper) *protocolGate {
	return &protocolGate{next: next, ready: make(chan struct{})}
}

// open records the negotiated version and lets GET requests through.
func (g *protocolGate) open(version string) {
	g.once.Do(func() {
		g.version.Store(version)
		close(g.ready)
	})
}

func (g *protocolGate) RoundTrip(req *http.Request) (*http.Response, error) {
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
	return g.next.RoundTrip(req)
}

var errGateClosed = errors.New("mcp: the session ended before it was initialised")
