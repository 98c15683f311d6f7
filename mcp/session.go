package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/tools"
)

// session is the part of an MCP client this package uses. The real one
// wraps an mcp-go client; tests fake it.
type session interface {
	// ListTools returns every tool, following pagination.
	ListTools(ctx context.Context) ([]toolInfo, error)
	// CallTool calls a tool. A returned error is either a *rpcError (the
	// server answered with a JSON-RPC error) or a failure of the server or
	// its transport.
	CallTool(ctx context.Context, name string, args map[string]any, meta callMeta) (*mcpgo.CallToolResult, error)
	// Close ends the session and reaps the server process, if any.
	Close() error
}

// toolInfo is one tool as a server lists it, with its input schema
// exactly as the server sent it.
type toolInfo struct {
	Name         string                `json:"name"`
	Title        string                `json:"title,omitempty"`
	Description  string                `json:"description,omitempty"`
	InputSchema  json.RawMessage       `json:"inputSchema,omitempty"`
	OutputSchema json.RawMessage       `json:"outputSchema,omitempty"`
	Annotations  *mcpgo.ToolAnnotation `json:"annotations,omitempty"`
}

// rpcError is a JSON-RPC error answer of a server: the server is alive.
type rpcError struct{ err error }

func (e *rpcError) Error() string { return e.err.Error() }
func (e *rpcError) Unwrap() error { return e.err }

// sessionHooks receive what a session reports outside of calls. They must
// not block.
type sessionHooks struct {
	progress     func(token string, p tools.Progress)
	toolsChanged func()
	exited       func() // a stdio server process exited, or an SSE stream ended
}

// dialed is what connecting to a server learnt.
type dialed struct {
	sess         session
	exited       <-chan struct{} // closed when a stdio server process exits; nil otherwise
	instructions string
	serverName   string
	pid          int // stdio servers only
}

// clientSession is a session over an mcp-go client.
type clientSession struct {
	c      *client.Client
	tap    *tapTransport
	logger *slog.Logger

	onExit func() // the server process exited (stdio)

	// stdio servers only
	cmd       *exec.Cmd     // set by the transport's command func
	pgid      int           // the process group, once started
	watchDone chan struct{} // closed when the server process has exited

	// streamable HTTP servers only
	gate *protocolGate

	closeOnce sync.Once
	closeErr  error
}

// dial starts (stdio) or connects to (http, sse) the server and performs the
// MCP handshake within the startup timeout. The returned session lives until
// its Close, whatever happens to ctx.
func dial(ctx context.Context, name string, sc *ServerConfig, o *Options, stderr *tailBuffer, h sessionHooks) (*dialed, error) {
	switch sc.transport() {
	case TransportStdio:
		return dialStdio(ctx, name, sc, o, stderr, h)
	case TransportHTTP:
		return dialHTTP(ctx, name, sc, o, h)
	case TransportSSE:
		return dialSSE(ctx, name, sc, o, h)
	}
	return nil, fmt.Errorf("unknown transport %q", sc.Type)
}

func startupTimeout(sc *ServerConfig, o *Options) time.Duration {
	if sc.StartupTimeout > 0 {
		return time.Duration(sc.StartupTimeout)
	}
	return o.StartupTimeout
}

func (s *clientSession) ListTools(ctx context.Context) ([]toolInfo, error) {
	pages := &rawPages{}
	if _, err := s.c.ListTools(context.WithValue(ctx, rawPagesKey{}, pages), mcpgo.ListToolsRequest{}); err != nil {
		return nil, classify(err)
	}
	var out []toolInfo
	for _, p := range pages.list() {
		var page struct {
			Tools []toolInfo `json:"tools"`
		}
		if err := json.Unmarshal(p, &page); err != nil {
			return nil, fmt.Errorf("decode tools/list result: %w", err)
		}
		out = append(out, page.Tools...)
	}
	return out, nil
}

// callMeta is what a tools/call request carries in its _meta.
type callMeta struct {
	ProgressToken  string
	IdempotencyKey string // [IdempotencyKeyMeta]
}

// IdempotencyKeyMeta is the key under which a tools/call request's _meta
// carries the call's idempotency key ([tools.Attempt].Key), when the
// driver gives one (a durable run on Temporal does): the same on every
// attempt of one call, in any process, and different between calls, so a
// server can recognise a call it already performed. Servers that do not
// know it ignore it, as the protocol asks.
const IdempotencyKeyMeta = "agentloop/idempotency_key"

func (s *clientSession) CallTool(ctx context.Context, name string, args map[string]any, meta callMeta) (*mcpgo.CallToolResult, error) {
	if args == nil {
		args = map[string]any{} // never "arguments": null
	}
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if meta != (callMeta{}) {
		m := &mcpgo.Meta{}
		if meta.ProgressToken != "" {
			m.ProgressToken = meta.ProgressToken
		}
		if meta.IdempotencyKey != "" {
			m.AdditionalFields = map[string]any{IdempotencyKeyMeta: meta.IdempotencyKey}
		}
		req.Params.Meta = m
	}
	res, err := s.c.CallTool(ctx, req)
	if err != nil {
		return nil, classify(err)
	}
	return res, nil
}

// classify marks JSON-RPC error answers as *rpcError; anything else is a
// failure of the server or transport.
func classify(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		return err
	}
	return &rpcError{err: err}
}

// Close closes the client and then makes sure the whole process group of a
// stdio server is gone: it asks politely (the client closes stdin and
// waits), then sends SIGTERM and SIGKILL to the group. It returns within
// about [closeGrace]+2s even when a server ignores its closed stdin.
func (s *clientSession) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

const closeGrace = time.Second

func (s *clientSession) close() error {
	done := make(chan error, 1)
	go func() { done <- s.c.Close() }()
	if s.pgid == 0 {
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second): // http: the DELETE is bounded at 5 s by mcp-go
			return errors.New("close: timed out")
		}
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(closeGrace):
		_ = syscall.Kill(-s.pgid, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(time.Second):
			_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
			err = <-done
		}
	}
	// Whatever the server started in its group goes too.
	_ = syscall.Kill(-s.pgid, syscall.SIGKILL)
	<-s.watchDone
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = nil // an exit status is not a failure to close
	}
	return err
}

// closeStarted cleans up after a failed Start: the process may have been
// started (the transport starts it before failing elsewhere).
func (s *clientSession) closeStarted() {
	_ = s.c.Close()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
}
