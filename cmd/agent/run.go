package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/cmd/agent/internal/session"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

// env is the process's world, so that tests can run the command in
// process.
type env struct {
	args           []string
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	lookupEnv      func(string) (string, bool)
	environ        func() []string
	interrupts     <-chan os.Signal // SIGINT and SIGTERM; nil: none
	exit           func(code int)   // exits at once (a second Ctrl-C)
	tracing        *tracing         // OpenTelemetry (telemetry.go); nil when off
}

// Exit statuses.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// versionString is set with -ldflags "-X main.versionString=v1.2.3".
var versionString string

func version() string {
	if versionString != "" {
		return versionString
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		return "devel-" + rev[:min(12, len(rev))] + dirty
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, e *env) int {
	f, err := parseFlags(e.args)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent: %v\nRun 'agent --help' for usage.\n", err)
		return exitUsage
	}
	if f.help {
		io.WriteString(e.stdout, usageText())
		return exitOK
	}
	if f.version {
		fmt.Fprintf(e.stdout, "agent %s (agentloop, event schema v%d)\n", version(), agent.EventSchemaVersion)
		return exitOK
	}
	if f.trust {
		return runTrust(e, f)
	}
	e.tracing = startTracing(e, f.timeline)
	defer e.tracing.shutdown()
	a, err := newApp(ctx, e, f)
	if errors.Is(err, errInterrupted) {
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "agent: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	defer a.close()
	return a.main(ctx)
}

// app is one invocation of the command.
type app struct {
	e       *env
	f       *flags
	ui      *ui
	agent   *agent.Agent
	sess    *session.Session
	resumed bool
	mcp     *mcpServers

	dir       string
	model     string
	policy    string
	sandbox   shell.SandboxMode
	stateless bool

	prompt      string // one-shot prompt; "" in a chat
	interactive bool
	in          *lineReader // the terminal, for prompts and the chat; nil without one
	intr        *interrupter
	quit        context.CancelFunc
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newApp(ctx context.Context, e *env, f *flags) (_ *app, err error) {
	cfgDir, err := configDir(e.getenv)
	if err != nil {
		return nil, err
	}
	cfg, _, err := loadConfig(cfgDir)
	if err != nil {
		return nil, &usageError{"config: " + err.Error()}
	}
	a := &app{e: e, f: f}
	defer func() {
		if err != nil {
			a.close() // the session file, MCP servers
		}
	}()

	// Sessions first: a resumed session supplies the model, the mode and
	// the workspace.
	stDir, err := stateDir(e.getenv)
	if err != nil {
		return nil, err
	}
	sessDir := filepath.Join(stDir, "sessions")
	var resumeID string
	args := f.args
	if f.resume {
		if len(args) > 0 && session.IsID(args[0]) {
			resumeID, args = args[0], args[1:]
		}
		s, err := session.Open(sessDir, resumeID)
		if err != nil {
			if errors.Is(err, session.ErrNotFound) {
				return nil, &usageError{"resume: " + err.Error()}
			}
			return nil, fmt.Errorf("resume: %w", err)
		}
		a.sess, a.resumed = s, true
	}

	// The prompt.
	a.prompt = strings.TrimSpace(strings.Join(args, " "))
	stdinUsed := false
	if a.prompt == "-" {
		data, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, fmt.Errorf("read the prompt from stdin: %w", err)
		}
		a.prompt = strings.TrimSpace(string(data))
		stdinUsed = true
		if a.prompt == "" {
			return nil, usagef("the prompt read from stdin is empty")
		}
	}
	stdinTTY, stdoutTTY, stderrTTY := isTerminal(e.stdin), isTerminal(e.stdout), isTerminal(e.stderr)
	if a.prompt == "" {
		if !stdinTTY {
			return nil, usagef("no prompt: give the task as an argument, or - to read it from stdin (a chat needs a terminal)")
		}
		a.interactive = true
	}

	// Provider and model.
	copts, provider, err := clientOptions(f, cfg, e.getenv)
	if err != nil {
		return nil, err
	}
	a.model = pick(f.model, cfg.Model, defaultModel)
	a.stateless = cfg.Stateless
	if f.stateless != nil {
		a.stateless = *f.stateless
	}
	if a.resumed {
		h := a.sess.Header
		if f.model == nil && h.Model != "" {
			a.model = h.Model
		}
		if f.stateless != nil && *f.stateless != h.Stateless {
			return nil, usagef("resume: session %s is %s; it cannot switch to %s", h.ID, modeName(h.Stateless), modeName(*f.stateless))
		}
		a.stateless = h.Stateless
	}

	// Workspace.
	dir := f.dir
	if dir == "" && a.resumed && a.sess.Header.Dir != "" {
		dir = a.sess.Header.Dir
	}
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, usagef("-C: %v", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, usagef("-C/--cd %s: not a directory", dir)
	}
	a.dir = abs
	a.sandbox = shell.SandboxMode(pick(f.sandbox, cfg.Sandbox, string(shell.WorkspaceWrite)))
	a.policy = pick(f.approval, cfg.AskForApproval, approveOnRequest)
	maxTurns := defaultMaxTurns
	if cfg.MaxTurns > 0 {
		maxTurns = cfg.MaxTurns
	}
	if f.maxTurns != nil {
		maxTurns = *f.maxTurns
	}
	mcpExplicit, err := mcpConfigExplicit(f.mcpConfig, cfg)
	if err != nil {
		return nil, err
	}
	wc, err := loadWorkspaceConfig(abs)
	if err != nil {
		return nil, err
	}
	if mcpExplicit != "" {
		wc.drop(kindMCP) // not loaded, so not asked about
	}

	// The user interface.
	noColor := f.noColor || e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb"
	a.ui = &ui{
		out: e.stdout, err: e.stderr,
		colors: colors{on: stderrTTY && !noColor},
		outTTY: stdoutTTY && stderrTTY,
		json:   f.json,
		spin:   stderrTTY && e.getenv("TERM") != "dumb",
	}
	switch {
	case stdinTTY && !stdinUsed:
		a.in = newLineReader(e.stdin)
	case stderrTTY:
		// The prompt came on stdin; ask on the terminal itself.
		if tty, err := os.Open("/dev/tty"); err == nil {
			a.in = newLineReader(tty)
		}
	}

	// Workspace configuration: nothing of it is used before this.
	trusted, err := a.trusted(ctx, wc, cfg, stDir)
	if err != nil {
		return nil, err
	}
	mcpName, mcpData, err := mcpConfig(mcpExplicit, wc, trusted, cfgDir)
	if err != nil {
		return nil, err
	}

	// Tools and instructions.
	network := cfg.Network
	if f.network != nil {
		network = *f.network
	}
	// The user's credential stores and the agent's own state (sessions,
	// trusted folders) are unreadable to commands and patches.
	denyRead := shell.DefaultDenyRead(e.getenv("HOME"), stDir)
	tl, err := workspaceTools(abs, a.sandbox, network, a.policy, cfg.Shell, denyRead)
	if err != nil {
		return nil, err
	}
	instr, err := instructions(abs)
	if err != nil {
		return nil, err
	}
	var toolsets []tools.Toolset
	if mcpName != "" {
		m, err := connectMCP(ctx, mcpName, mcpData, abs, e, a.ui)
		if err != nil {
			return nil, err
		}
		a.mcp = m
		if m.toolset != nil {
			toolsets = append(toolsets, m.toolset)
		}
		if m.instructions != "" {
			instr += "\n\n" + m.instructions
		}
	}

	if !a.resumed {
		s, err := session.Create(sessDir, session.Header{
			Model: a.model, Provider: provider, BaseURL: copts.BaseURL, Dir: abs, Stateless: a.stateless,
		})
		if err != nil {
			return nil, fmt.Errorf("save the session: %w", err)
		}
		a.sess = s
	}

	var approved []string // "always" answers of the session being resumed
	if a.sess != nil {
		approved = a.sess.Approved()
	}
	var req responses.Request
	if effort := pick(f.effort, cfg.ReasoningEffort, ""); effort != "" {
		req.Reasoning = &responses.Reasoning{Effort: effort, Summary: "auto"}
	}
	client := responses.NewClient(copts)
	a.agent = agent.New(client, a.model, &agent.Options{
		Request:      req,
		Instructions: instr,
		Tools:        tl,
		Toolsets:     toolsets,
		Approver:     e.tracing.approver(&approver{policy: a.policy, sandbox: a.sandbox, ui: a.ui, in: a.in}, provider, client.Endpoint(), a.mcp),
		Middleware:   e.tracing.middleware(provider, client.Endpoint(), a.sandbox, a.mcp),
		MaxTurns:     maxTurns,
		Stateless:    a.stateless,
		Approved:     approved,
	})
	a.intr = &interrupter{exit: e.exit, ui: a.ui}
	return a, nil
}

func modeName(stateless bool) string {
	if stateless {
		return "stateless"
	}
	return "chained (previous_response_id)"
}

func (a *app) close() {
	if a.mcp != nil {
		a.mcp.close()
	}
	if a.sess != nil {
		a.sess.Close()
	}
}

// main runs the task, or the chat, and returns the exit status.
func (a *app) main(ctx context.Context) int {
	ctx, a.quit = context.WithCancel(ctx)
	defer a.quit()
	if a.e.interrupts != nil {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { a.intr.watch(a.e.interrupts, stop, a.quit) })
		defer func() { close(stop); wg.Wait() }()
	}
	a.ui.startSpinner()
	defer a.ui.stopSpinner()
	if a.f.json {
		a.ui.jsonEvent(jsonLine{Event: agent.Event{Kind: kindSessionStarted}, Session: a.info(nil)})
	}

	var code int
	if a.interactive {
		code = a.chat(ctx)
	} else {
		code = a.oneShot(ctx)
	}
	if a.f.json {
		a.ui.jsonEvent(jsonLine{Event: agent.Event{Kind: kindSessionEnded}, Session: a.info(&code)})
	}
	a.ui.line(a.ui.colors.dim(fmt.Sprintf("session %s · continue with: agent resume %s", a.sess.ID(), a.sess.ID())))
	return code
}

func (a *app) info(code *int) *sessionInfo {
	return &sessionInfo{ID: a.sess.ID(), Model: a.model, Dir: a.dir, Resumed: a.resumed, Stateless: a.stateless, ExitCode: code}
}

func (a *app) oneShot(ctx context.Context) int {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.intr.arm(cancel, false)
	_, err := a.task(tctx, a.prompt)
	a.intr.disarm()
	return a.status(ctx, tctx, err)
}

// status maps a task's error to an exit status, reporting it.
func (a *app) status(ctx, tctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case a.intr.interrupted() || (tctx.Err() != nil && ctx.Err() != nil):
		a.ui.notice("interrupted")
		return exitInterrupted
	}
	a.ui.line(a.ui.colors.red("agent: ") + err.Error())
	return exitFailed
}

// chat is the interactive session: a prompt, a task, and again.
func (a *app) chat(ctx context.Context) int {
	c := a.ui.colors
	if a.resumed {
		a.ui.line(c.dim(fmt.Sprintf("resumed session %s (%d tasks) · %s · %s", a.sess.ID(), a.sess.Tasks(), a.model, a.dir)))
	} else {
		a.ui.line(c.dim(fmt.Sprintf("agent %s · %s · %s · sandbox %s · approvals %s", version(), a.model, a.dir, a.sandbox, a.policy)))
	}
	a.ui.line(c.dim("Type a task; Ctrl-C stops a task, Ctrl-D or /exit quits."))
	code := exitOK
	for {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		a.ui.prompt(c.bold(c.cyan("› ")))
		rctx, cancel := context.WithCancel(ctx)
		a.intr.arm(cancel, true)
		line, err := a.in.readLine(rctx)
		a.intr.disarm()
		cancel()
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() == nil && !a.intr.quitRequested() {
				a.ui.line("")
				a.ui.line(c.dim("(Ctrl-C again, Ctrl-D or /exit to quit)"))
				continue
			}
			a.ui.line("")
			if ctx.Err() != nil || a.intr.quitRequested() {
				return exitInterrupted
			}
			return code
		}
		a.intr.reset()
		line = strings.TrimSpace(line)
		switch line {
		case "":
			continue
		case "/exit", "/quit":
			return code
		case "/help":
			a.ui.line("Type a task for the agent. /exit quits; Ctrl-C stops a running task.")
			continue
		}
		tctx, tcancel := context.WithCancel(ctx)
		a.intr.arm(tcancel, false)
		_, err = a.task(tctx, line)
		a.intr.disarm()
		tcancel()
		if err != nil {
			if a.intr.interrupted() {
				a.ui.notice("task stopped")
				a.intr.reset()
				if ctx.Err() != nil {
					return exitInterrupted
				}
				continue
			}
			a.ui.line(c.red("agent: ") + err.Error())
			code = exitFailed
		} else {
			code = exitOK
		}
	}
}

// task runs one prompt as a run of the agent, continuing the session, and
// records it.
func (a *app) task(ctx context.Context, prompt string) (*agent.Result, error) {
	prev, transcript, pending := a.sess.State()
	input := append(pending, responses.UserMessage(prompt))
	var opts []agent.RunOption
	switch {
	case a.stateless && len(transcript) > 0:
		opts = append(opts, agent.WithTranscript(transcript))
	case !a.stateless && prev != "":
		opts = append(opts, agent.WithPreviousResponse(prev))
	}
	opts = append(opts, agent.WithRecorder(a.sess.Recorder())) // every turn saved as it completes
	if err := a.sess.AppendPrompt(prompt); err != nil {
		a.ui.notice(err.Error())
	}
	start := time.Now()
	var res *agent.Result
	var runErr error
	for ev, err := range a.agent.StreamItems(ctx, input, opts...) {
		a.ui.event(ev, err)
		if ev.Kind == agent.EventRunCompleted {
			res, runErr = ev.Result, err
		}
	}
	if res == nil {
		res = &agent.Result{}
	}
	a.record(res, runErr, len(transcript), pending)
	a.ui.summary(res, res.ToolCalls, time.Since(start))
	return res, runErr
}

// record saves what a run added to the conversation, and how to continue
// it: the last response and the outputs the server has not seen yet (a run
// stopped between sending a turn's outputs and the next response).
func (a *app) record(res *agent.Result, runErr error, prior int, pending []responses.Item) {
	items := res.Items
	if a.stateless {
		items = nil
		if len(res.Transcript) > prior {
			items = res.Transcript[prior:]
		}
	}
	if err := a.sess.AppendItems(items); err != nil {
		a.ui.notice(err.Error())
	}
	r := session.Result{
		ResponseID: res.ResponseID, Usage: res.Usage, Turns: res.Turns,
		ToolCalls: res.ToolCalls, StopReason: res.StopReason, Pending: pending,
		Approved: a.agent.Approved(),
	}
	if res.State != nil && len(res.State.Pending) == 0 {
		// Outputs the server has not seen: the run stopped before sending
		// them (an interrupt, a failed request, a budget).
		r.Pending = res.State.Input
	}
	if runErr != nil {
		r.Error = runErr.Error()
	}
	if err := a.sess.AppendResult(r); err != nil {
		a.ui.notice(err.Error())
	}
}

// interrupter turns SIGINT into cancellation: the first cancels what runs
// (a task, or the wait for input), a second before the first was dealt with
// exits at once. SIGTERM ends the session.
type interrupter struct {
	mu       sync.Mutex
	cancel   context.CancelFunc
	idle     bool
	pending  bool
	quitting bool
	exit     func(int)
	ui       *ui
}

func (it *interrupter) watch(sigs <-chan os.Signal, stop <-chan struct{}, quit context.CancelFunc) {
	for {
		select {
		case <-stop:
			return
		case sig := <-sigs:
			it.mu.Lock()
			second := it.pending
			it.pending = true
			if second && it.idle {
				it.quitting = true // nothing runs: leave the chat the ordinary way
			}
			if second && !it.idle && it.exit != nil {
				it.mu.Unlock()
				it.ui.line("")
				it.exit(exitInterrupted)
				return
			}
			if it.cancel != nil {
				it.cancel()
			}
			it.mu.Unlock()
			if sig == syscall.SIGTERM {
				quit()
			}
		}
	}
}

// arm makes the next interrupt call cancel. idle says that nothing runs
// (the chat waits for input), so that a second interrupt can end the
// session normally instead of exiting at once.
func (it *interrupter) arm(cancel context.CancelFunc, idle bool) {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.cancel, it.idle = cancel, idle
	if it.pending && !idle {
		cancel() // interrupted before the task started (during start-up)
	}
}

// quitRequested reports a second interrupt while idle.
func (it *interrupter) quitRequested() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.quitting
}

func (it *interrupter) disarm() {
	it.mu.Lock()
	it.cancel = nil
	it.mu.Unlock()
}

func (it *interrupter) interrupted() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.pending
}

func (it *interrupter) reset() {
	it.mu.Lock()
	it.pending = false
	it.mu.Unlock()
}
