package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/internal/proc"
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
	CallTool(ctx context.Context, name string, args map[string]any, progressToken string) (*mcpgo.CallToolResult, error)
	// Close ends the session and reaps the server process, if any.
	Close() error
}

// toolInfo is one tool as a server lists it, with its input schema
// exactly as the server sent it.
type toolInfo struct {
	Name        string                `json:"name"`
	Title       string                `json:"title,omitempty"`
	Description string                `json:"description,omitempty"`
	InputSchema json.RawMessage       `json:"inputSchema,omitempty"`
	Annotations *mcpgo.ToolAnnotation `json:"annotations,omitempty"`
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

// number returns a JSON number decoded into any as a float64.
func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case json.Number:
		f, _ := n.Float64()
		return f
	}
	return 0
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

	// stdio servers only
	cmd       *exec.Cmd
	pgid      int
	watchDone chan struct{} // closed when the exit watcher returns

	closeOnce sync.Once
	closeErr  error
}

// dial starts (stdio) or connects to (http, sse) the server and performs the
// MCP handshake within the startup timeout. The returned session lives until
// its Close, whatever happens to ctx.
func dial(ctx context.Context, name string, sc *ServerConfig, o *Options, stderr *tailBuffer, h sessionHooks) (*dialed, error) {
	logger := o.Logger.With("mcp_server", name)
	var (
		tr  transport.Interface
		cmd *exec.Cmd
		err error
	)
	switch sc.transport() {
	case TransportStdio:
		dir := sc.Cwd
		if dir == "" {
			dir = o.Root
		}
		env := append(make([]string, 0, len(o.Env)+len(sc.Env)), o.Env...) // never nil: nil would inherit ours
		for _, k := range sortedKeys(sc.Env) {
			env = append(env, k+"="+sc.Env[k])
		}
		cmdFunc := func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			// Not CommandContext: the server lives until Close, not until
			// the context of the call that started it ends.
			path := command
			if filepath.Base(command) == command {
				p, err := lookPath(command, env)
				if err != nil {
					return nil, err
				}
				path = p
			}
			c := exec.Command(path, args...)
			c.Args[0] = command
			c.Env = env
			c.Dir = dir
			c.Stderr = stderr
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			c.WaitDelay = time.Second
			cmd = c
			return c, nil
		}
		tr = transport.NewStdioWithOptions(sc.Command, env, sc.Args,
			transport.WithCommandFunc(cmdFunc), transport.WithCommandLogger(logger))
	case TransportHTTP:
		tr, err = transport.NewStreamableHTTP(sc.URL,
			transport.WithHTTPHeaders(sc.Headers),
			//lint:ignore SA1019 we pin protocol 2025-11-25, where list_changed comes on the GET stream (trap 3)
			transport.WithContinuousListening(),
			transport.WithHTTPLogger(logger))
	case TransportSSE:
		tr, err = transport.NewSSE(sc.URL, transport.WithHeaders(sc.Headers), transport.WithSSELogger(logger))
	default:
		err = fmt.Errorf("unknown transport %q", sc.Type)
	}
	if err != nil {
		return nil, err
	}

	tap := newTap(tr, logger)
	opts := []client.ClientOption{client.WithProtocolVersion(mcpgo.LATEST_LEGACY_PROTOCOL_VERSION)}
	var caps mcpgo.ClientCapabilities
	// mcp-go never answers server-to-client requests over legacy SSE, so
	// offer roots, elicitation and sampling only over the other transports.
	if sc.transport() != TransportSSE {
		opts = append(opts, client.WithElicitationHandler(elicitHandler{server: name, e: o.Elicitor, logger: logger}))
		caps.Elicitation = &mcpgo.ElicitationCapability{Form: &struct{}{}, URL: &struct{}{}}
		if o.Root != "" {
			caps.Roots = &struct {
				ListChanged bool `json:"listChanged,omitempty"`
			}{}
			opts = append(opts, client.WithRootsHandler(rootsHandler{root: o.Root}))
		}
		if o.Sampler != nil {
			caps.Sampling = &mcpgo.SamplingCapability{}
			opts = append(opts, client.WithSamplingHandler(samplingHandler{server: name, s: o.Sampler, logger: logger}))
		}
	}
	opts = append(opts, client.WithClientCapabilities(caps))
	c := client.NewClient(tap.iface(), opts...)
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		switch n.Method {
		case string(mcpgo.MethodNotificationToolsListChanged):
			h.toolsChanged()
		case string(mcpgo.MethodNotificationProgress):
			f := n.Params.AdditionalFields
			tok, ok := f["progressToken"].(string)
			if !ok {
				return
			}
			p := tools.Progress{}
			p.Message, _ = f["message"].(string)
			p.Progress = number(f["progress"])
			p.Total = number(f["total"])
			h.progress(tok, p)
		}
	})

	if sc.transport() == TransportSSE {
		// The SSE stream carries every response: once it ends, calls in
		// flight would wait for their deadline (mcp-go does not fail them).
		c.OnConnectionLost(func(error) {
			if h.exited != nil {
				h.exited()
			}
		})
	}
	s := &clientSession{c: c, tap: tap, logger: logger}
	// Start with a context that never ends: for stdio it would own the
	// child, for http it would bound the listening stream.
	if err := c.Start(context.WithoutCancel(ctx)); err != nil {
		s.cmd = cmd
		s.closeStarted()
		return nil, fmt.Errorf("start: %w", err)
	}
	d := &dialed{sess: s}
	if cmd != nil && cmd.Process != nil {
		s.cmd, s.pgid = cmd, cmd.Process.Pid
		d.pid = cmd.Process.Pid
		s.watchDone = make(chan struct{})
		d.exited = s.watchDone
		go func() {
			defer close(s.watchDone)
			proc.WaitExit(cmd.Process.Pid)
			if h.exited != nil {
				h.exited()
			}
		}()
	}

	initCtx, cancel := context.WithTimeout(ctx, startupTimeout(sc, o))
	defer cancel()
	type initOut struct {
		res *mcpgo.InitializeResult
		err error
	}
	// Initialize may not watch ctx while the process is exiting; select on
	// it so a server that dies before answering fails at once.
	ch := make(chan initOut, 1)
	go func() {
		req := mcpgo.InitializeRequest{}
		req.Params.ProtocolVersion = mcpgo.LATEST_LEGACY_PROTOCOL_VERSION
		req.Params.ClientInfo = mcpgo.Implementation{Name: o.ClientName, Version: o.ClientVersion}
		req.Params.Capabilities = caps
		res, err := c.Initialize(initCtx, req)
		ch <- initOut{res, err}
	}()
	var out initOut
	select {
	case out = <-ch:
	case <-s.exitedChan():
		cancel()
		out = <-ch
		if out.err == nil {
			out.err = errors.New("server exited")
		}
	}
	if out.err != nil {
		_ = s.Close()
		if initCtx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("initialize: no answer within %s", startupTimeout(sc, o))
		}
		return nil, fmt.Errorf("initialize: %w", out.err)
	}
	d.instructions = out.res.Instructions
	d.serverName = out.res.ServerInfo.Name
	return d, nil
}

func startupTimeout(sc *ServerConfig, o *Options) time.Duration {
	if sc.StartupTimeout > 0 {
		return time.Duration(sc.StartupTimeout)
	}
	return o.StartupTimeout
}

// exitedChan is closed when a stdio server process has exited; nil (never
// ready) for other transports.
func (s *clientSession) exitedChan() <-chan struct{} { return s.watchDone }

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

func (s *clientSession) CallTool(ctx context.Context, name string, args map[string]any, progressToken string) (*mcpgo.CallToolResult, error) {
	if args == nil {
		args = map[string]any{} // never "arguments": null
	}
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if progressToken != "" {
		req.Params.Meta = &mcpgo.Meta{ProgressToken: progressToken}
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

// lookPath finds command in the PATH of env (not of this process).
func lookPath(command string, env []string) (string, error) {
	path := ""
	for _, kv := range env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			path = kv[5:]
		}
	}
	if path == "" {
		return exec.LookPath(command)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, command)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w in PATH", command, exec.ErrNotFound)
}

// rootsHandler answers roots/list with the workspace root.
type rootsHandler struct{ root string }

func (h rootsHandler) ListRoots(context.Context, mcpgo.ListRootsRequest) (*mcpgo.ListRootsResult, error) {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(h.root)}
	return &mcpgo.ListRootsResult{Roots: []mcpgo.Root{{URI: u.String(), Name: filepath.Base(h.root)}}}, nil
}
