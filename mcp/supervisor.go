package mcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/tools"
)

// This file is the per-server supervisor of a [Set]: it starts a server,
// notices when it dies, restarts it after a back-off, disables it after too
// many failures, and bounds every call.

// errServerDied cancels the calls of a server that exited (stdio) or whose
// SSE stream ended.
var errServerDied = errors.New("the server exited or its connection was lost")

// server is one enabled server of a Set.
type server struct {
	set    *Set
	name   string
	cfg    ServerConfig
	stderr *tailBuffer

	startMu sync.Mutex // held while starting; serialises restarts

	mu           sync.Mutex
	sess         session // nil while stopped
	gen          int     // generation of sess
	life         lifetime
	pid          int
	started      time.Time
	deaths       int
	lastDeath    time.Time
	lastErr      error
	lastClosed   chan struct{} // closed once the last failed session is closed (its stderr read)
	failed       error         // *ServerError: failed to start, disabled or closed
	tools        []toolInfo
	instructions string

	outputs     outputSchemas
	listChanged atomic.Bool
	tokens      atomic.Int64
	progress    sync.Map // progress token -> func(tools.Progress)
}

// lifetime is cancelled when a session's server exits or is closed.
type lifetime struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// start dials the server and lists its tools. startMu must be held.
func (s *server) start(ctx context.Context) error {
	if s.set.closing.Err() != nil {
		return errors.New("set closed")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.set.closing, cancel)()
	s.mu.Lock()
	s.gen++
	gen := s.gen
	s.mu.Unlock()
	s.listChanged.Store(false)
	h := sessionHooks{
		progress: func(tok string, p tools.Progress) {
			if f, ok := s.progress.Load(tok); ok {
				f.(func(tools.Progress))(p)
			}
		},
		toolsChanged: func() { s.listChanged.Store(true) },
		exited: func() {
			s.mu.Lock()
			live := s.gen == gen && s.sess != nil
			s.mu.Unlock()
			if live {
				s.died(gen, errServerDied)
			}
		},
	}
	d, err := s.set.dial(ctx, s, h)
	if err != nil {
		return err
	}
	lctx, lcancel := context.WithTimeout(ctx, s.startupTimeout())
	list, err := d.sess.ListTools(lctx)
	lcancel()
	if err != nil {
		_ = d.sess.Close()
		return fmt.Errorf("list tools: %w", err)
	}
	life, endLife := context.WithCancelCause(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	exited := false
	select {
	case <-d.exited:
		exited = true
	default:
	}
	if s.gen != gen || exited { // exited between initialize and now
		endLife(errServerDied)
		s.set.bg.Go(func() { _ = d.sess.Close() })
		return errServerDied
	}
	s.sess, s.pid, s.started = d.sess, d.pid, time.Now()
	s.life = lifetime{life, endLife}
	s.tools, s.instructions = list, d.instructions
	return nil
}

func (s *server) startupTimeout() time.Duration { return startupTimeout(&s.cfg, &s.set.opts) }

func (s *server) callTimeout() time.Duration {
	if s.cfg.CallTimeout > 0 {
		return time.Duration(s.cfg.CallTimeout)
	}
	return s.set.opts.CallTimeout
}

// died records that the session of generation gen failed with cause: the
// session is closed in the background, calls in flight on it fail at once,
// and after too many failures the server is disabled.
func (s *server) died(gen int, cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	s.gen++ // later reports about the same session are ignored
	if s.sess != nil {
		sess := s.sess
		s.sess, s.pid = nil, 0
		s.life.cancel(errServerDied)
		closed := make(chan struct{})
		s.lastClosed = closed
		s.set.bg.Go(func() {
			defer close(closed)
			_ = sess.Close()
		})
		if time.Since(s.started) >= 5*time.Minute {
			s.deaths = 0
		}
	}
	s.deaths++
	s.lastDeath = time.Now()
	s.lastErr = cause
	s.set.opts.Logger.Warn("mcp server failed", "mcp_server", s.name, "err", cause, "failures", s.deaths)
	if s.failed == nil && s.deaths > s.set.opts.MaxRestarts {
		s.failed = &ServerError{Server: s.name, Err: fmt.Errorf("%w after failing %d times in a row: %v", ErrDisabled, s.deaths, cause), Stderr: s.stderr.String()}
	}
}

// acquire returns the running session, restarting a stopped server after
// its back-off.
func (s *server) acquire(ctx context.Context) (session, int, context.Context, error) {
	s.mu.Lock()
	sess, gen, life, failed := s.sess, s.gen, s.life.ctx, s.failed
	s.mu.Unlock()
	if failed != nil {
		return nil, 0, nil, failed
	}
	if sess != nil {
		return sess, gen, life, nil
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.mu.Lock()
	sess, gen, life, failed = s.sess, s.gen, s.life.ctx, s.failed
	deaths, last := s.deaths, s.lastDeath
	s.mu.Unlock()
	if failed != nil {
		return nil, 0, nil, failed
	}
	if sess != nil {
		return sess, gen, life, nil
	}
	if wait := time.Until(last.Add(s.backoff(deaths))); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, 0, nil, ctx.Err()
		case <-s.set.closing.Done():
			return nil, 0, nil, errors.New("closed")
		}
	}
	if err := s.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, 0, nil, ctx.Err()
		}
		s.mu.Lock()
		g := s.gen
		s.mu.Unlock()
		s.died(g, fmt.Errorf("restart: %w", err))
		s.mu.Lock()
		failed = s.failed
		s.mu.Unlock()
		if failed != nil {
			return nil, 0, nil, failed
		}
		return nil, 0, nil, &ServerError{Server: s.name, Err: fmt.Errorf("restart failed (will retry): %w", err), Stderr: s.stderr.String()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set.opts.Logger.Info("mcp server restarted", "mcp_server", s.name, "pid", s.pid)
	return s.sess, s.gen, s.life.ctx, nil
}

func (s *server) backoff(deaths int) time.Duration {
	d := s.set.opts.RestartBackoff
	for i := 1; i < deaths && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// refresh lists the tools again after a tools/list_changed notification.
func (s *server) refresh(ctx context.Context) {
	if !s.listChanged.Load() {
		return
	}
	s.mu.Lock()
	sess, gen := s.sess, s.gen
	s.mu.Unlock()
	if sess == nil {
		return
	}
	s.listChanged.Store(false)
	lctx, cancel := context.WithTimeout(ctx, s.startupTimeout())
	defer cancel()
	list, err := sess.ListTools(lctx)
	if err != nil {
		s.listChanged.Store(true) // try again next time
		var rpc *rpcError
		if ctx.Err() == nil && !errors.As(err, &rpc) {
			s.died(gen, fmt.Errorf("list tools: %w", err))
		}
		s.set.opts.Logger.Warn("mcp server: list tools after list_changed", "mcp_server", s.name, "err", err)
		return
	}
	s.mu.Lock()
	if s.gen == gen {
		s.tools = list
	}
	s.mu.Unlock()
}

// call calls the server's tool named name.
func (s *server) call(ctx context.Context, name string, args map[string]any, progress func(tools.Progress)) (*mcpgo.CallToolResult, error) {
	if s.set.closing.Err() != nil {
		return nil, fmt.Errorf("mcp server %q: closed", s.name)
	}
	sess, gen, life, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	timeout := s.callTimeout()
	cctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	stop := context.AfterFunc(life, func() { cancelCause(errServerDied) })
	defer stop()
	cctx, cancel := context.WithTimeout(cctx, timeout)
	defer cancel()

	var meta callMeta
	if progress != nil {
		tok := fmt.Sprintf("agentloop-%d", s.tokens.Add(1))
		meta.ProgressToken = tok
		s.progress.Store(tok, progress)
		defer s.progress.Delete(tok)
	}
	if at, ok := tools.AttemptFrom(ctx); ok {
		meta.IdempotencyKey = at.Key
	}
	res, err := sess.CallTool(cctx, name, args, meta)
	var rpc *rpcError
	switch {
	case err == nil:
		if res == nil {
			return nil, fmt.Errorf("mcp server %q: tool %q returned no result", s.name, name)
		}
		return res, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("mcp server %q: tool %q: %w", s.name, name, ctx.Err())
	case s.set.closing.Err() != nil:
		return nil, fmt.Errorf("mcp server %q: closed during the call of tool %q", s.name, name)
	case errors.Is(context.Cause(cctx), errServerDied), cctx.Err() == nil && !errors.As(err, &rpc):
		if errors.Is(context.Cause(cctx), errServerDied) {
			err = errServerDied
		}
		s.died(gen, err)
		s.mu.Lock()
		closed := s.lastClosed
		s.mu.Unlock()
		if closed != nil { // let the last words on stderr arrive
			select {
			case <-closed:
			case <-time.After(2 * time.Second):
			}
		}
		msg := fmt.Sprintf("mcp server %q failed during the call of tool %q (%v)", s.name, name, err)
		if tail := lastLines(s.stderr.String(), 5); tail != "" {
			msg += "; its stderr ends with:\n" + tail
		}
		s.mu.Lock()
		failed := s.failed
		s.mu.Unlock()
		if failed != nil {
			msg += "\nthe server is now disabled: it failed too often"
		} else {
			msg += "\nthe server will be restarted for the next call"
		}
		return nil, errors.New(msg)
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("mcp server %q: tool %q timed out after %s; the call was cancelled", s.name, name, timeout)
	case errors.As(err, &rpc):
		return nil, fmt.Errorf("mcp server %q rejected the call of tool %q: %v", s.name, name, rpc.err)
	}
	return nil, fmt.Errorf("mcp server %q: tool %q: %w", s.name, name, err)
}

func lastLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
