package mcp

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// tapTransport sits between the mcp-go client and its transport. It keeps
// the raw JSON of tools/list pages (mcp-go's decoded tools lose schema
// keywords it does not model), and it sends notifications/cancelled for an
// abandoned tools/call over HTTP, which mcp-go does only over stdio.
type tapTransport struct {
	transport.Interface
	http   bool
	logger *slog.Logger

	mu     sync.Mutex // guards closed and wg.Go against Close's wg.Wait
	closed bool
	wg     sync.WaitGroup // cancellation notifications in flight
}

type rawPagesKey struct{}

// rawPages collects the result JSON of the tools/list requests made with a
// context carrying it.
type rawPages struct {
	mu    sync.Mutex
	pages []json.RawMessage
}

func (p *rawPages) add(b json.RawMessage) {
	p.mu.Lock()
	p.pages = append(p.pages, b)
	p.mu.Unlock()
}

func (p *rawPages) list() []json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages
}

func newTap(inner transport.Interface, logger *slog.Logger) *tapTransport {
	_, isHTTP := inner.(transport.HTTPConnection)
	return &tapTransport{Interface: inner, http: isHTTP, logger: logger}
}

// iface returns the tap as the interfaces the inner transport implements, so
// the client's type assertions see what they would see without the tap.
func (t *tapTransport) iface() transport.Interface {
	if t.http {
		return httpTap{t}
	}
	return t
}

func (t *tapTransport) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	resp, err := t.Interface.SendRequest(ctx, req)
	if err == nil && resp != nil && resp.Error == nil && req.Method == string(mcpgo.MethodToolsList) {
		if p, ok := ctx.Value(rawPagesKey{}).(*rawPages); ok {
			p.add(resp.Result)
		}
	}
	if err != nil && ctx.Err() != nil && t.http && req.Method == string(mcpgo.MethodToolsCall) {
		t.cancel(ctx, req.ID)
	}
	return resp, err
}

// cancel tells an HTTP server to stop working on request id.
func (t *tapTransport) cancel(ctx context.Context, id mcpgo.RequestId) {
	n := mcpgo.JSONRPCNotification{
		JSONRPC: mcpgo.JSONRPC_VERSION,
		Notification: mcpgo.Notification{
			Method: string(mcpgo.MethodNotificationCancelled),
			Params: mcpgo.NotificationParams{AdditionalFields: map[string]any{"requestId": id, "reason": ctx.Err().Error()}},
		},
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := t.Interface.SendNotification(ctx, n); err != nil {
			t.logger.Debug("send notifications/cancelled", "err", err)
		}
	})
}

func (t *tapTransport) Close() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	err := t.Interface.Close()
	t.wg.Wait()
	return err
}

// SetRequestHandler forwards server-to-client requests (roots, sampling,
// elicitation) when the inner transport supports them.
func (t *tapTransport) SetRequestHandler(h transport.RequestHandler) {
	if b, ok := t.Interface.(transport.BidirectionalInterface); ok {
		b.SetRequestHandler(h)
	}
}

// SetConnectionLostHandler forwards to the inner transport, if it has one.
func (t *tapTransport) SetConnectionLostHandler(h func(error)) {
	if s, ok := t.Interface.(interface{ SetConnectionLostHandler(func(error)) }); ok {
		s.SetConnectionLostHandler(h)
	}
}

// RequiresLegacyProtocol forwards to the inner transport, if it has one.
func (t *tapTransport) RequiresLegacyProtocol() bool {
	l, ok := t.Interface.(interface{ RequiresLegacyProtocol() bool })
	return ok && l.RequiresLegacyProtocol()
}

// httpTap adds the HTTPConnection method for HTTP transports.
type httpTap struct{ *tapTransport }

func (t httpTap) SetProtocolVersion(v string) {
	t.Interface.(transport.HTTPConnection).SetProtocolVersion(v)
}
