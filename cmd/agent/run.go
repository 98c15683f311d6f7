package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
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
	log            *slog.Logger     // the library's logs (--log-level, --log-file); nil discards
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
	if f.mcpServer {
		return runMCPServer(ctx, e, f)
	}
	log, closeLog, err := startLogging(e, f.logLevel, f.logFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "agent: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	e.log = log
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

// usage is what a chat session used so far.
type usage struct {
	tasks, turns int
	in, out      int64
}

// app is one invocation of the command.
type app struct {
	e       *env
	f       *flags
	ui      *ui
	agent   *agent.Agent
	sess    *session.Session
	resumed bool
	pick    bool // start the chat with the session picker (agent resume)
	mcp     *mcpServers

	dir       string
	model     string
	policy    string
	sandbox   shell.SandboxMode
	stateless bool
	set       settings
	opts      agent.Options // the agent's, to rebuild it (/model)
	client    *responses.Client
	runOpts   []agent.RunOption
	schema    *jsonschema.Schema // --output-schema, compiled
	images    []responses.ContentPart
	baseURL   string
	retries   int
	provider  string
	sessDir   string
	approver  *approver
	shellCfg  *shellConfig
	tools     []tools.Tool // the workspace's tools, without the sub-agents
	denyRead  []string
	undo      *undoLog         // snapshots before patches, for /undo and /diff
	hooks     *hookRunner      // the user's and the trusted project's hooks; nil for none
	subAgents []*subAgentDef   // a trusted workspace's .agents/*.md
	compacted []responses.Item // /compact's output, the next task's start
	notes     []string         // developer messages for the next task (/undo)
	used      usage            // this session's, for /status

	queueMu sync.Mutex
	queued  []string // typed while a task ran: the next messages
	draft   string   // typed while a task ran, without Enter: the next prompt's start

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

// setup is what newApp learns before it has side effects: the config, the
// settings, the session to resume and the prompt.
type setup struct {
	cfg        *config
	cfgDir     string
	stDir      string
	settings   settings
	sess       *session.Session // resumed; nil for a new session
	pick       bool             // agent resume at a terminal: the chat starts with the picker
	prompt     string
	stdinUsed  bool
	deprecated string // a note on the config file, shown once
}

// prepare loads the config and the -c overrides, opens a resumed session,
// reads the prompt and resolves the settings.
func prepare(e *env, f *flags) (_ *setup, err error) {
	st := &setup{}
	if st.cfgDir, err = configDir(e.getenv); err != nil {
		return nil, err
	}
	cfg, _, note, err := loadConfig(st.cfgDir)
	if err != nil {
		return nil, configUsage(err)
	}
	st.deprecated = note
	over, err := overridesOf(f.overrides)
	if err != nil {
		return nil, configUsage(err)
	}
	cfg.merge(over)
	st.cfg = cfg
	if st.stDir, err = stateDir(e.getenv); err != nil {
		return nil, err
	}

	// A resumed session supplies the model, the mode and the workspace.
	args := f.args
	var header *session.Header
	if f.resume {
		id := ""
		if len(args) > 0 && session.IsID(args[0]) {
			id, args = args[0], args[1:]
		}
		// At a terminal, with no id and no prompt, the chat starts with
		// the picker (as /resume does); --last, a prompt or a script take
		// the latest session.
		st.pick = id == "" && len(args) == 0 && !f.last && !f.exec && isTerminal(e.stdin) && isTerminal(e.stderr)
	}
	if f.resume && !st.pick {
		id := ""
		if len(args) > 0 && session.IsID(args[0]) {
			id, args = args[0], args[1:]
		}
		s, err := session.Open(filepath.Join(st.stDir, "sessions"), id)
		if err != nil {
			if errors.Is(err, session.ErrNotFound) {
				return nil, &usageError{"resume: " + err.Error()}
			}
			return nil, fmt.Errorf("resume: %w", err)
		}
		st.sess, header = s, &s.Header
		defer func() {
			if err != nil {
				s.Close()
			}
		}()
	}
	st.settings, err = resolve(sources{flags: f.set, overrides: over.layer, session: header, cfg: cfg, profile: f.profile})
	if err != nil {
		return nil, err
	}

	st.prompt = strings.TrimSpace(strings.Join(args, " "))
	if st.prompt == "-" {
		data, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, fmt.Errorf("read the prompt from stdin: %w", err)
		}
		st.prompt = strings.TrimSpace(string(data))
		st.stdinUsed = true
		if st.prompt == "" {
			return nil, usagef("the prompt read from stdin is empty")
		}
	}
	return st, nil
}

// configUsage makes a config error a usage error.
func configUsage(err error) error {
	var ce *configError
	if errors.As(err, &ce) {
		return &usageError{"config: " + ce.Error()}
	}
	return err
}

func newApp(ctx context.Context, e *env, f *flags) (_ *app, err error) {
	st, err := prepare(e, f)
	if err != nil {
		return nil, err
	}
	cfg, s := st.cfg, st.settings
	a := &app{e: e, f: f, sess: st.sess, resumed: st.sess != nil, pick: st.pick, prompt: st.prompt, set: s}
	defer func() {
		if err != nil {
			a.close() // the session file, MCP servers
		}
	}()
	a.model, a.stateless, a.sandbox, a.policy = s.Model, s.Stateless, s.Sandbox, s.Approval

	stdinTTY, stdoutTTY, stderrTTY := isTerminal(e.stdin), isTerminal(e.stdout), isTerminal(e.stderr)
	if a.prompt == "" {
		if f.exec {
			return nil, usagef("exec: no prompt: give the task as an argument, or - to read it from stdin")
		}
		if !stdinTTY {
			return nil, usagef("no prompt: give the task as an argument, or - to read it from stdin (a chat needs a terminal)")
		}
		a.interactive = true
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
	if _, ok := repoRoot(abs); f.exec && !ok && !f.skipGitRepoCheck {
		return nil, usagef("exec: %s is not inside a git repository, where changes could not be reviewed or undone; run it in one, or pass --skip-git-repo-check", abs)
	}
	if f.outputSchema != "" {
		tf, sch, err := loadOutputSchema(f.outputSchema)
		if err != nil {
			return nil, err
		}
		a.runOpts = append(a.runOpts, agent.WithTextFormat(tf))
		a.schema = sch
	}
	if a.images, err = loadImages(f.images); err != nil {
		return nil, err
	}
	copts, provider, err := clientOptions(s, e.getenv)
	if err != nil {
		return nil, err
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
	if stdoutTTY && a.ui.colors.on && !f.json {
		a.ui.md = &markdown{c: a.ui.colors}
	}
	if st.deprecated != "" {
		a.ui.notice(st.deprecated)
	}
	switch {
	case f.exec:
		// Scripts are never asked: what needs approval is declined.
	case stdinTTY && !st.stdinUsed:
		a.in = newLineReader(e.stdin)
	case stderrTTY:
		// The prompt came on stdin; ask on the terminal itself.
		if tty, err := os.Open("/dev/tty"); err == nil {
			a.in = newLineReader(tty)
		}
	}

	// Workspace configuration: nothing of it is used before this.
	trusted, err := a.trusted(ctx, wc, cfg, st.stDir)
	if err != nil {
		return nil, err
	}
	mcpName, mcpData, err := mcpConfig(mcpExplicit, wc, trusted, st.cfgDir)
	if err != nil {
		return nil, err
	}

	// Tools and instructions. The user's credential stores and the agent's
	// own state (sessions, trusted folders) are unreadable to commands and
	// patches.
	denyRead := shell.DefaultDenyRead(e.getenv("HOME"), st.stDir)
	tl, err := workspaceTools(abs, a.sandbox, s.Network, a.policy, cfg.Shell, denyRead)
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

	var projectHooks *hooksConfig
	if f := wc.file(kindHooks); f != nil && trusted {
		if projectHooks, err = parseProjectHooks(f.path, f.data); err != nil {
			return nil, configUsage(err)
		}
	}
	if trusted {
		if a.subAgents, err = loadSubAgents(wc); err != nil {
			return nil, err
		}
	}

	if !a.resumed {
		// Saved once the first task gets a response.
		a.sess = session.New(filepath.Join(st.stDir, "sessions"), session.Header{
			Model: a.model, Provider: provider, BaseURL: copts.BaseURL, Dir: abs, Stateless: a.stateless,
		})
	}
	a.baseURL, a.retries, a.provider = copts.BaseURL, copts.MaxRetries, provider
	a.sessDir, a.shellCfg, a.denyRead = filepath.Join(st.stDir, "sessions"), cfg.Shell, denyRead
	a.approver = &approver{policy: a.policy, sandbox: a.sandbox, ui: a.ui, in: a.in, typedAhead: a.queue}
	a.undo = newUndoLog(abs)
	if a.hooks = newHookRunner(cfg.Hooks, projectHooks); a.hooks != nil {
		a.hooks.dir, a.hooks.environ = abs, mcpEnv(e.environ())
		a.hooks.sessionID = func() string { return a.sess.ID() }
		a.hooks.notice = a.ui.notice
		a.hooks.isMCP = a.mcp.isTool
	}
	if a.retries == 0 {
		a.retries = 2 // the client's default
	}

	var req responses.Request
	if s.Effort != "" {
		req.Reasoning = &responses.Reasoning{Effort: s.Effort, Summary: "auto"}
	}
	maxTurns := s.MaxTurns
	if maxTurns == 0 {
		maxTurns = -1 // no bound; the library's zero means 32
	}
	a.opts = agent.Options{
		Request:        req,
		Instructions:   instr,
		Tools:          tl,
		Toolsets:       toolsets,
		Approver:       a.approver,
		MaxTurns:       maxTurns,
		MaxTotalTokens: s.MaxTokens,
		MaxDuration:    s.MaxDuration,
		Stateless:      a.stateless,
		Approved:       a.sess.Approved(),
		Name:           "agent",
		Logger:         e.log,
	}
	a.client = responses.NewClient(copts)
	a.opts.Middleware = e.tracing.middleware(provider, a.client.Endpoint(), a.sandbox, a.mcp)
	a.opts.Approver = e.tracing.approver(a.opts.Approver, provider, a.client.Endpoint(), a.mcp)
	// Then the hooks, which may rewrite a call; innermost, a patch's files
	// are snapshotted just before it runs.
	a.opts.Middleware = append(a.opts.Middleware, a.hooks.middleware(), a.undo.middleware())
	a.tools = tl
	if err := a.rebuild(a.opts.Approved); err != nil {
		return nil, err
	}
	a.intr = &interrupter{exit: e.exit, ui: a.ui}
	return a, nil
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
	if a.sess.Saved() {
		a.ui.line(a.ui.colors.dim(fmt.Sprintf("session %s · continue with: agent resume %s", a.sess.ID(), a.sess.ID())))
	}
	return code
}

func (a *app) info(code *int) *sessionInfo {
	return &sessionInfo{ID: a.sess.ID(), Model: a.model, Dir: a.dir, Resumed: a.resumed, Stateless: a.stateless, ExitCode: code}
}

func (a *app) oneShot(ctx context.Context) int {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.intr.arm(cancel, false)
	stopKeys := a.watchKeys(a.escape)
	res, err := a.task(tctx, a.prompt)
	stopKeys()
	a.intr.disarm()
	code := a.status(ctx, tctx, res, err)
	if code == exitOK {
		a.writeLastMessage(res.Text)
	}
	return code
}

// status maps a task's end to an exit status, reporting it.
func (a *app) status(ctx, tctx context.Context, res *agent.Result, err error) int {
	switch {
	case a.intr.interrupted() || (tctx.Err() != nil && ctx.Err() != nil):
		a.ui.notice("interrupted")
		return exitInterrupted
	case a.budgetStop(res, err) != "":
		a.ui.line(a.ui.colors.yellow("agent: ") + a.budgetStop(res, err))
		return exitFailed
	case err == nil && a.schema != nil:
		if err := checkOutput(a.schema, res.Text); err != nil {
			a.ui.line(a.ui.colors.red("agent: ") + err.Error())
			return exitFailed
		}
		return exitOK
	case err == nil:
		return exitOK
	}
	a.ui.line(a.ui.colors.red("agent: ") + a.runFailure(err))
	return exitFailed
}

// chat is the interactive session: a prompt, a task, and again.
func (a *app) chat(ctx context.Context) int {
	c := a.ui.colors
	if a.resumed {
		a.ui.line(c.dim(fmt.Sprintf("resumed session %s (%s) · %s · %s", a.sess.ID(), tasksText(a.sess.Tasks()), a.model, a.dir)))
	} else {
		a.ui.line(c.dim(fmt.Sprintf("agent %s · %s · %s · sandbox %s · approvals %s", version(), a.model, a.dir, a.sandbox, a.policy)))
	}
	if a.pick {
		before := a.sess.ID()
		a.slashResume(ctx, "")
		if a.sess.ID() == before {
			return exitOK // nothing picked: nothing to continue
		}
	}
	a.ui.line(c.dim("Type a task; /help lists the commands (Tab completes them); Esc or Ctrl-C stops a task, Ctrl-D or /exit quits."))
	code := exitOK
	for {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		if next, ok := a.dequeue(); ok {
			a.ui.line(c.bold(c.cyan("› ")) + next + c.dim("  (typed while the agent worked)"))
			if isSlashCommand(next) {
				if a.slash(ctx, next) {
					return code
				}
				continue
			}
			var quit bool
			if code, quit = a.runTask(ctx, next); quit {
				return exitInterrupted
			}
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		a.intr.arm(cancel, true)
		line, err := a.readPrompt(rctx, c.bold(c.cyan("› ")))
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
		switch {
		case line == "":
			continue
		case isSlashCommand(line):
			if a.slash(ctx, line) {
				return code
			}
			continue
		}
		a.attachPasted(line)
		var quit bool
		code, quit = a.runTask(ctx, line)
		if quit {
			return exitInterrupted
		}
	}
}

// escape is Esc while a task runs: the task stops (its commands are
// killed; a patch is applied whole or not at all).
func (a *app) escape() {
	if a.intr.escape() {
		a.ui.line(a.ui.colors.dim("  Esc: stopping the task"))
	}
}

// queue keeps text typed while a task ran (taken when a question
// appeared) as the next message of a chat; one-shot runs say it is
// dropped.
func (a *app) queue(text string) {
	if !a.interactive {
		a.ui.notice("not used (typed while the agent worked): " + oneLine(text, 80))
		return
	}
	a.queueMu.Lock()
	defer a.queueMu.Unlock()
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			a.queued = append(a.queued, l)
		}
	}
}

func (a *app) dequeue() (string, bool) {
	a.queueMu.Lock()
	defer a.queueMu.Unlock()
	if len(a.queued) == 0 {
		return "", false
	}
	next := a.queued[0]
	a.queued = a.queued[1:]
	return next, true
}

// runTask runs a task of the chat and reports it; quit says the session
// must end (interrupted while it ran).
func (a *app) runTask(ctx context.Context, line string) (code int, quit bool) {
	c := a.ui.colors
	tctx, tcancel := context.WithCancel(ctx)
	a.intr.arm(tcancel, false)
	stopKeys := a.watchKeys(a.escape)
	res, err := a.task(tctx, line)
	stopKeys()
	a.intr.disarm()
	tcancel()
	if stop := a.budgetStop(res, err); stop != "" {
		a.ui.line(c.yellow("agent: ") + stop)
		return exitFailed, false
	}
	if err != nil {
		if a.intr.interrupted() {
			a.ui.notice("task stopped")
			a.intr.reset()
			return exitOK, ctx.Err() != nil
		}
		a.ui.line(c.red("agent: ") + a.runFailure(err))
		return exitFailed, false
	}
	return exitOK, false
}

// maxStopContinuations bounds how often stop hooks may send a task on.
const maxStopContinuations = 3

// promptBlockedError is a prompt refused by a user_prompt_submit hook.
type promptBlockedError struct{ reason string }

func (e *promptBlockedError) Error() string {
	return "the prompt was blocked by a user_prompt_submit hook: " + e.reason
}

// task runs one prompt, through the user_prompt_submit and stop hooks:
// a blocked prompt reaches no model; a stop hook that blocks sends the
// agent on with its reason as the next message.
func (a *app) task(ctx context.Context, prompt string) (*agent.Result, error) {
	v := a.hooks.userPromptSubmit(ctx, prompt)
	if v.block {
		return &agent.Result{}, &promptBlockedError{reason: v.reason}
	}
	res, err := a.runPrompt(ctx, prompt, v.context)
	for i := 0; err == nil && ctx.Err() == nil && i < maxStopContinuations; i++ {
		sv := a.hooks.stop(ctx, res, i > 0)
		if !sv.block {
			break
		}
		a.ui.line(a.ui.colors.dim("stop hook: " + oneLine(sv.reason, 200) + " (the agent goes on)"))
		res, err = a.runPrompt(ctx, sv.reason, nil)
	}
	return res, err
}

// runPrompt runs one prompt as a run of the agent, continuing the session,
// and records it; extra are developer messages from hooks.
func (a *app) runPrompt(ctx context.Context, prompt string, extra []string) (*agent.Result, error) {
	prev, transcript, pending := a.sess.State()
	msg := responses.UserMessage(prompt)
	if len(a.images) > 0 {
		msg = responses.NewMessage(responses.RoleUser, append([]responses.ContentPart{responses.InputText(prompt)}, a.images...)...)
		a.images = nil // the first message only
	}
	var input []responses.Item
	for _, n := range append(slices.Clone(a.notes), extra...) {
		input = append(input, responses.DeveloperMessage(n))
	}
	a.notes = nil
	input = append(append(input, pending...), msg)
	opts := slices.Clone(a.runOpts)
	switch {
	case a.compacted != nil:
		// /compact: the compacted conversation replaces the chain.
		input = append(slices.Clone(a.compacted), input...)
		a.compacted = nil
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
	a.undo.beginTask()
	defer a.undo.endTask()
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
	a.used.tasks++
	a.used.turns += res.Turns
	a.used.in += res.Usage.InputTokens
	a.used.out += res.Usage.OutputTokens
	a.record(res, runErr, len(transcript), pending)
	if res.ResponseID != "" || res.ToolCalls > 0 || res.Usage.TotalTokens > 0 {
		// A task that never got a response has nothing to sum up: its
		// error says what happened.
		a.ui.summary(res, res.ToolCalls, time.Since(start), a.model)
	}
	return res, runErr
}

// record saves what a run added to the conversation, and how to continue
// it: the last response and the outputs the server has not seen yet (a run
// stopped between sending a turn's outputs and the next response).
func (a *app) record(res *agent.Result, runErr error, prior int, pending []responses.Item) {
	if res.ResponseID == "" && len(res.Items) == 0 && !a.sess.Saved() {
		return // nothing happened: a new session is not saved
	}
	if err := a.sess.Save(); err != nil {
		a.ui.notice(err.Error())
	}
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

// escape interrupts what runs, as a first Ctrl-C does; it does nothing
// while idle.
func (it *interrupter) escape() bool {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.cancel == nil || it.idle || it.pending {
		return false
	}
	it.pending = true
	it.cancel()
	return true
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
