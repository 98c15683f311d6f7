package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/internal/proc"
	"github.com/agentloop/agentloop/tools"
)

// This file is what the transports share: the mcp-go client over a
// transport, the notifications it routes, and the one initialise path.

// newSession wraps tr in the tap and an mcp-go client that offers what o
// provides, and routes the server's notifications to h and to the logger.
// serverRequests is false for legacy SSE, where mcp-go never answers the
// server's requests (roots, elicitation, sampling), so none is offered.
func newSession(name string, tr transport.Interface, o *Options, h sessionHooks, serverRequests bool) (*clientSession, mcpgo.ClientCapabilities) {
	logger := o.Logger.With("mcp_server", name)
	tap := newTap(tr, logger)
	opts := []client.ClientOption{client.WithProtocolVersion(mcpgo.LATEST_LEGACY_PROTOCOL_VERSION)}
	var caps mcpgo.ClientCapabilities
	if serverRequests {
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
		case string(mcpgo.MethodNotificationMessage):
			logServerMessage(logger, n.Params.AdditionalFields)
		}
	})
	return &clientSession{c: c, tap: tap, logger: logger, onExit: h.exited}, caps
}

// handshake starts the client and initialises the session within the
// startup timeout: the one initialise path of every transport. A stdio
// server that exits before answering is reported as exited, with its exit
// status, at once. On failure the session is closed.
func (s *clientSession) handshake(ctx context.Context, name string, sc *ServerConfig, o *Options, caps mcpgo.ClientCapabilities) (*dialed, error) {
	// Start with a context that never ends: for stdio it would own the
	// child, for http it would bound the listening stream.
	if err := s.c.Start(context.WithoutCancel(ctx)); err != nil {
		s.closeStarted()
		return nil, fmt.Errorf("start: %w", err)
	}
	d := &dialed{sess: s}
	if s.cmd != nil && s.cmd.Process != nil {
		s.pgid = s.cmd.Process.Pid
		d.pid = s.pgid
		s.watchDone = make(chan struct{})
		d.exited = s.watchDone
		go func() {
			defer close(s.watchDone)
			proc.WaitExit(s.pgid)
			if s.onExit != nil {
				s.onExit()
			}
		}()
	}

	timeout := startupTimeout(sc, o)
	initCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type initOut struct {
		res *mcpgo.InitializeResult
		err error
	}
	// Initialize may not watch ctx while the process is exiting; select on
	// the exit so a server that dies before answering fails at once.
	ch := make(chan initOut, 1)
	go func() {
		req := mcpgo.InitializeRequest{}
		req.Params.ProtocolVersion = mcpgo.LATEST_LEGACY_PROTOCOL_VERSION
		req.Params.ClientInfo = mcpgo.Implementation{Name: o.ClientName, Version: o.ClientVersion}
		req.Params.Capabilities = caps
		res, err := s.c.Initialize(initCtx, req)
		ch <- initOut{res, err}
	}()
	var (
		out    initOut
		exited bool
	)
	select {
	case out = <-ch:
	case <-s.watchDone: // nil (never ready) unless stdio
		exited = true
		cancel()
		out = <-ch
	}
	if out.err == nil && !exited {
		if s.gate != nil {
			s.gate.open(out.res.ProtocolVersion)
			s.gate.waitListening(ctx, 2*time.Second)
		}
		d.instructions = out.res.Instructions
		d.serverName = out.res.ServerInfo.Name
		return d, nil
	}
	timedOut := !exited && initCtx.Err() != nil && ctx.Err() == nil
	if !exited && !timedOut && s.watchDone != nil {
		// A server that exits also breaks its pipe: give the exit a moment
		// to show, so it is reported as what it is.
		select {
		case <-s.watchDone:
			exited = true
		case <-time.After(time.Second):
		}
	}
	_ = s.Close() // reaps a stdio server: its exit status and stderr are complete
	switch {
	case exited:
		return nil, &exitError{state: s.exitState()}
	case timedOut:
		return nil, fmt.Errorf("initialize: no answer within %s", timeout)
	}
	return nil, fmt.Errorf("initialize: %w", out.err)
}

// exitError reports a stdio server that exited during start-up.
type exitError struct{ state string }

func (e *exitError) Error() string { return "exited during start-up (" + e.state + ")" }

// exitState describes how a reaped stdio server process ended.
func (s *clientSession) exitState() string {
	if s.cmd == nil || s.cmd.ProcessState == nil {
		return "exit status unknown"
	}
	return s.cmd.ProcessState.String()
}

// rootsHandler answers roots/list with the workspace root.
type rootsHandler struct{ root string }

func (h rootsHandler) ListRoots(context.Context, mcpgo.ListRootsRequest) (*mcpgo.ListRootsResult, error) {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(h.root)}
	return &mcpgo.ListRootsResult{Roots: []mcpgo.Root{{URI: u.String(), Name: filepath.Base(h.root)}}}, nil
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
