package mcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentloop/agentloop/tools"
)

// Options configures [Connect]. A nil *Options, or a zero field, means the
// documented default.
type Options struct {
	// ClientName and ClientVersion identify the client in the handshake.
	// Defaults: "agentloop" and "0".
	ClientName    string
	ClientVersion string

	// Root is the workspace root: the working directory of stdio servers
	// whose config has no cwd, and the one root offered to servers (the
	// roots capability). Empty offers no roots and starts servers in the
	// current directory. A relative Root is made absolute.
	Root string

	// Env is the base environment of stdio servers ("KEY=value"); each
	// server's config env is added to it. Nil gives servers only the
	// variables of their config (this package never reads the environment
	// itself; pass os.Environ() to inherit it).
	Env []string

	// Elicitor answers servers' elicitation requests. Nil declines them
	// ([DeclineElicitation]).
	Elicitor Elicitor
	// Sampler answers servers' sampling requests. Nil declines them and does
	// not offer the sampling capability.
	Sampler Sampler

	// StartupTimeout bounds starting, initialising and listing the tools of
	// a server. Zero means 30 s. A server's config may override it.
	StartupTimeout time.Duration
	// CallTimeout bounds each tool call. Zero means 2 minutes. A server's
	// config may override it.
	CallTimeout time.Duration

	// MaxRestarts is how many times a server that failed is started again
	// before it is disabled. Zero means 3; negative means never restart.
	// The count starts over once a server has run for 5 minutes.
	MaxRestarts int
	// RestartBackoff is the wait before the first restart; it doubles with
	// each further failure, up to 30 s. Zero means 500 ms.
	RestartBackoff time.Duration

	// MaxOutputBytes caps the text of a call's output; the head and the
	// tail are kept and the dropped size stated. Zero means 32 KiB;
	// negative means no cap.
	MaxOutputBytes int
	// Images passes image results to the model as input_image parts of the
	// function_call_output (for models that take image input). False
	// describes them in text.
	Images bool

	// Logger receives the package's and mcp-go's logs. Nil discards them.
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
		c.Env = slices.Clone(o.Env)
	}
	c.ClientName = cmp.Or(c.ClientName, "agentloop")
	c.ClientVersion = cmp.Or(c.ClientVersion, "0")
	c.StartupTimeout = cmp.Or(c.StartupTimeout, 30*time.Second)
	c.CallTimeout = cmp.Or(c.CallTimeout, 2*time.Minute)
	c.MaxRestarts = cmp.Or(c.MaxRestarts, 3)
	c.RestartBackoff = cmp.Or(c.RestartBackoff, 500*time.Millisecond)
	c.MaxOutputBytes = cmp.Or(c.MaxOutputBytes, 32<<10)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Root != "" {
		if abs, err := filepath.Abs(c.Root); err == nil {
			c.Root = abs
		}
	}
	return c
}

// ServerError reports a server that failed to start, or that was disabled
// after failing too often. Stderr holds the tail of its standard error.
type ServerError struct {
	Server string
	Err    error
	Stderr string
}

func (e *ServerError) Error() string {
	msg := fmt.Sprintf("mcp server %q: %v", e.Server, e.Err)
	if e.Stderr != "" {
		msg += "\nstderr (tail):\n" + e.Stderr
	}
	return msg
}

func (e *ServerError) Unwrap() error { return e.Err }

// ErrDisabled is wrapped by the [ServerError] of a server that failed more
// often than [Options.MaxRestarts] allows.
var ErrDisabled = errors.New("disabled")

// Set is a connected set of MCP servers whose tools an agent can call. It is
// a [tools.Toolset]: the agent calls [Set.Tools] before every request, which
// picks up tools/list_changed notifications.
//
// A Set is safe for concurrent use. Close it to stop its servers.
type Set struct {
	opts    Options
	servers []*server // sorted by name
	dial    func(ctx context.Context, s *server, h sessionHooks) (*dialed, error)

	closing   context.Context // cancelled by Close
	close     context.CancelFunc
	closeOnce sync.Once
	bg        sync.WaitGroup // background closes of failed sessions
}

var _ tools.Toolset = (*Set)(nil)

// Connect starts the enabled servers of cfg concurrently, initialises each
// and lists its tools. Servers that fail (bad command, exit before
// initialize, no answer within the startup timeout) are left out: err joins
// a *[ServerError] for each, with the tail of its stderr, and the returned
// Set, never nil, works with the others. A config that does not validate
// fails the whole call with a *[ConfigError] and a nil Set.
//
// The servers live until [Set.Close], whatever happens to ctx; ctx bounds
// only the start.
func Connect(ctx context.Context, cfg *Config, opts *Options) (*Set, error) {
	return connect(ctx, cfg, opts, nil)
}

func connect(ctx context.Context, cfg *Config, opts *Options, fake func(ctx context.Context, s *server, h sessionHooks) (*dialed, error)) (*Set, error) {
	set := &Set{opts: opts.withDefaults()}
	set.closing, set.close = context.WithCancel(context.Background())
	set.dial = fake
	if set.dial == nil {
		set.dial = func(ctx context.Context, s *server, h sessionHooks) (*dialed, error) {
			return dial(ctx, s.name, &s.cfg, &set.opts, s.stderr, h)
		}
	}
	if cfg != nil {
		for _, name := range sortedKeys(cfg.Servers) {
			sc := cfg.Servers[name]
			if err := sc.validate(name); err != nil {
				return nil, err
			}
			if !sc.enabled() {
				continue
			}
			set.servers = append(set.servers, &server{set: set, name: name, cfg: sc, stderr: newTailBuffer(4 << 10)})
		}
	}
	errs := make([]error, len(set.servers))
	var wg sync.WaitGroup
	for i, s := range set.servers {
		wg.Go(func() {
			s.startMu.Lock()
			defer s.startMu.Unlock()
			if err := s.start(ctx); err != nil {
				se := &ServerError{Server: s.name, Err: err, Stderr: s.stderr.String()}
				s.mu.Lock()
				s.failed = se
				s.mu.Unlock()
				errs[i] = se
				set.opts.Logger.Warn("mcp server failed to start", "mcp_server", s.name, "err", err)
			}
		})
	}
	wg.Wait()
	return set, errors.Join(errs...)
}

// Tools returns one tool per offered tool of every running server, sorted by
// name. A server whose tool list changed since the last call is listed
// again first; a server that cannot be listed keeps its previous tools.
// Tools of disabled servers, and of servers that failed to start, are left
// out.
func (set *Set) Tools(ctx context.Context) ([]tools.Tool, error) {
	type entry struct {
		srv  *server
		info toolInfo
	}
	var wg sync.WaitGroup
	for _, s := range set.servers {
		if s.listChanged.Load() {
			wg.Go(func() { s.refresh(ctx) })
		}
	}
	wg.Wait()
	var entries []entry
	for _, s := range set.servers {
		s.mu.Lock()
		if s.failed == nil {
			for _, ti := range s.tools {
				if s.cfg.offers(ti.Name) {
					entries = append(entries, entry{s, ti})
				}
			}
		}
		s.mu.Unlock()
	}
	keys := make([]toolKey, len(entries))
	for i, e := range entries {
		keys[i] = toolKey{e.srv.name, e.info.Name}
	}
	names := modelNames(keys)
	out := make([]tools.Tool, 0, len(entries))
	for i, e := range entries {
		out = append(out, newTool(e.srv, e.info, names[keys[i]]))
	}
	slices.SortFunc(out, func(a, b tools.Tool) int { return cmp.Compare(a.(*Tool).name, b.(*Tool).name) })
	return out, nil
}

// Instructions returns the instructions of the running servers (those whose
// config does not set "instructions": false), each under a heading naming
// the server, for an application that opts in to appending them to the
// agent's instructions. It returns "" when no server has any.
func (set *Set) Instructions() string {
	var b strings.Builder
	for _, s := range set.servers {
		s.mu.Lock()
		ins, failed := strings.TrimSpace(s.instructions), s.failed
		s.mu.Unlock()
		if ins == "" || failed != nil || (s.cfg.Instructions != nil && !*s.cfg.Instructions) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "# MCP server %q\n\n%s", s.name, ins)
	}
	return b.String()
}

// Server states of [ServerStatus.State].
const (
	StateRunning  = "running"
	StateStopped  = "stopped" // failed; will be restarted by the next call
	StateDisabled = "disabled"
)

// ServerStatus describes one enabled server of a [Set].
type ServerStatus struct {
	Name      string
	Transport string // "stdio", "http" or "sse"
	State     string // StateRunning, StateStopped or StateDisabled
	Tools     int    // tools offered to the model
	PID       int    // process id of a running stdio server, else 0
	Restarts  int    // failures since the count last started over
	Err       error  // why a server is disabled or stopped
}

// Servers reports the state of every enabled server, sorted by name.
func (set *Set) Servers() []ServerStatus {
	out := make([]ServerStatus, 0, len(set.servers))
	for _, s := range set.servers {
		s.mu.Lock()
		st := ServerStatus{Name: s.name, Transport: s.cfg.transport(), PID: s.pid, Restarts: s.deaths}
		for _, ti := range s.tools {
			if s.cfg.offers(ti.Name) {
				st.Tools++
			}
		}
		switch {
		case s.failed != nil:
			st.State, st.Err, st.PID = StateDisabled, s.failed, 0
		case s.sess == nil:
			st.State, st.Err = StateStopped, s.lastErr
		default:
			st.State = StateRunning
		}
		s.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Close stops every server: a stdio server's stdin is closed, and its
// process group gets SIGTERM and then SIGKILL if it has not exited within a
// few seconds; http sessions are ended. Close returns once every server
// process has been reaped. Calls still running fail. Close is idempotent;
// it returns the first error of closing a session, which leaves nothing
// running.
func (set *Set) Close() error {
	var first error
	set.closeOnce.Do(func() {
		set.close()
		errs := make([]error, len(set.servers))
		var wg sync.WaitGroup
		for i, s := range set.servers {
			wg.Go(func() {
				s.startMu.Lock() // wait for a start in progress; it sees closing
				s.mu.Lock()
				sess := s.sess
				s.sess, s.pid = nil, 0
				s.failed = &ServerError{Server: s.name, Err: errors.New("closed")}
				if s.life.cancel != nil {
					s.life.cancel(errServerDied)
				}
				s.mu.Unlock()
				s.startMu.Unlock()
				if sess != nil {
					errs[i] = sess.Close()
				}
			})
		}
		wg.Wait()
		set.bg.Wait()
		first = cmp.Or(errs...)
	})
	return first
}
