package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/cmd/agent/internal/session"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools/applypatch"
)

// slashCommand is a command of the chat, typed as /name.
type slashCommand struct {
	name, args, help string
	run              func(a *app, ctx context.Context, arg string) (quit bool)
}

var slashCommands []slashCommand

func init() {
	slashCommands = []slashCommand{
		{"help", "", "list the commands", (*app).slashHelp},
		{"model", "[NAME]", "switch the model for the rest of the session; without NAME, list the provider's models", (*app).slashModel},
		{"status", "", "model, provider, sandbox, approvals, workspace, session, tokens and turns", (*app).slashStatus},
		{"approvals", "[POLICY]", "change the approval policy: untrusted, on-request or never", (*app).slashApprovals},
		{"diff", "", "the workspace's changes since the session started", (*app).slashDiff},
		{"undo", "", "put back the files the last task's patches changed", (*app).slashUndo},
		{"compact", "", "replace the conversation so far with a compact summary", (*app).slashCompact},
		{"new", "", "start a new session", (*app).slashNew},
		{"resume", "[ID]", "continue a saved session; without ID, pick one from a list", (*app).slashResume},
		{"mcp", "", "the MCP servers and their tools", (*app).slashMCP},
		{"init", "", "write an AGENTS.md for this repository", (*app).slashInit},
		{"timeline", "[FILE]", "write the HTML timeline of this session's runs so far (with --timeline)", (*app).slashTimeline},
		{"exit", "", "end the session (also /quit, Ctrl-D)", func(*app, context.Context, string) bool { return true }},
	}
}

// isSlashCommand reports whether a chat line is a command: it starts with
// / and its first word is not a path (/tmp/x.png is text).
func isSlashCommand(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	return strings.HasPrefix(word, "/") && !strings.Contains(word[1:], "/")
}

// completeSlash completes the command name being typed; it returns the
// completions of prefix (with the slash).
func completeSlash(prefix string) []string {
	var out []string
	for _, c := range slashCommands {
		if strings.HasPrefix("/"+c.name, prefix) {
			out = append(out, "/"+c.name)
		}
	}
	return out
}

// slash runs a command line; it reports whether the chat should end.
func (a *app) slash(ctx context.Context, line string) (quit bool) {
	word, arg, _ := strings.Cut(line, " ")
	name := strings.TrimPrefix(word, "/")
	if name == "quit" {
		name = "exit"
	}
	for _, c := range slashCommands {
		if c.name == name {
			return c.run(a, ctx, strings.TrimSpace(arg))
		}
	}
	a.ui.line(fmt.Sprintf("unknown command: %s (try /help)", word))
	return false
}

func (a *app) slashHelp(context.Context, string) bool {
	c := a.ui.colors
	for _, cmd := range slashCommands {
		a.ui.line(fmt.Sprintf("  %-22s %s", c.bold("/"+cmd.name+" "+cmd.args), cmd.help))
	}
	a.ui.line(c.dim("  Anything else is a task for the agent. Esc or Ctrl-C stops a running task; Tab completes a command."))
	return false
}

// rebuild makes the agent again, with its sub-agents, from a.opts,
// a.tools, a.model and a.stateless: a sub-agent whose definition names no
// model gets a.model. approved are the "approve always" keys it starts
// with.
func (a *app) rebuild(approved []string) error {
	tl, err := a.withSubAgents(a.tools)
	if err != nil {
		return err
	}
	a.opts.Tools, a.opts.Approved, a.opts.Stateless = tl, approved, a.stateless
	a.agent = agent.New(a.client, a.model, &a.opts)
	return nil
}

func (a *app) slashModel(ctx context.Context, arg string) bool {
	if arg == "" {
		models, err := a.listModels(ctx)
		if err != nil {
			a.ui.notice("cannot list the models: " + err.Error())
		}
		for _, m := range models {
			mark := "  "
			if m == a.model {
				mark = "• "
			}
			a.ui.line(mark + m)
		}
		a.ui.line(a.ui.colors.dim(fmt.Sprintf("model: %s · /model NAME switches", a.model)))
		return false
	}
	prev := a.model
	a.model = arg
	if err := a.rebuild(a.agent.Approved()); err != nil {
		a.model = prev
		a.ui.notice(err.Error())
		return false
	}
	msg := fmt.Sprintf("model: %s (for the rest of this session)", a.model)
	if n := a.subAgentsFollowing(); n != "" {
		msg += "; sub-agents " + n + " too"
	}
	a.ui.line(msg)
	return false
}

// listModels asks the provider's models endpoint (GET {base}/models), where
// it has one.
func (a *app) listModels(ctx context.Context) ([]string, error) {
	base := strings.TrimSuffix(a.client.Endpoint(), "/responses")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/models", nil)
	if err != nil {
		return nil, err
	}
	switch a.provider {
	case "sgp":
		req.Header.Set("x-api-key", strings.TrimSpace(a.e.getenv("SGP_API_KEY")))
		if acct := strings.TrimSpace(a.e.getenv("SGP_ACCOUNT_ID")); acct != "" {
			req.Header.Set("x-selected-account-id", acct)
		}
	default:
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(a.e.getenv("OPENAI_API_KEY")))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/models: %s (the provider may have no models endpoint)", base, resp.Status)
	}
	var list struct {
		Data  []struct{ ID string } `json:"data"`
		Items []struct{ ID string } `json:"items"` // SGP
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET %s/models: %w", base, err)
	}
	var ids []string
	for _, m := range append(list.Data, list.Items...) {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

func (a *app) slashStatus(context.Context, string) bool {
	provider := a.provider
	if provider == "" {
		provider = "openai"
	}
	id := a.sess.ID()
	if !a.sess.Saved() {
		id += " (not saved yet)"
	}
	a.ui.line(fmt.Sprintf("model      %s\nprovider   %s (%s)\nsandbox    %s\napprovals  %s\nworkspace  %s\nsession    %s, %s\nused       %d turns · %d tokens in, %d out · %d tasks",
		a.model, provider, a.client.Endpoint(), a.sandbox, a.policy, a.dir, id, modeName(a.stateless),
		a.used.turns, a.used.in, a.used.out, a.used.tasks))
	return false
}

func (a *app) slashApprovals(_ context.Context, arg string) bool {
	if arg == "" {
		a.ui.line(fmt.Sprintf("approvals: %s · /approvals %s changes it", a.policy, strings.Join(policies, "|")))
		return false
	}
	if !slices.Contains(policies, arg) {
		a.ui.line(fmt.Sprintf("unknown policy %q (choose %s)", arg, strings.Join(policies, ", ")))
		return false
	}
	tl, err := workspaceTools(a.dir, a.sandbox, a.set.Network, arg, a.shellCfg, a.denyRead)
	if err != nil {
		a.ui.notice(err.Error())
		return false
	}
	prev := a.tools
	a.tools = tl
	if err := a.rebuild(a.agent.Approved()); err != nil {
		a.tools = prev
		a.ui.notice(err.Error())
		return false
	}
	a.policy = arg
	a.approver.policy = arg
	a.ui.line("approvals: " + arg)
	return false
}

func (a *app) slashDiff(ctx context.Context, _ string) bool {
	patched := map[string]snapshot{} // by path relative to the workspace
	for _, s := range a.undo.originals() {
		patched[s.rel] = s
	}
	shown := false
	if root, ok := repoRoot(a.dir); ok {
		// Tracked files against the last commit (or the index, in a
		// repository without one); untracked files patched in this session
		// against their snapshot, other untracked files by name.
		git := func(args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, "git", append([]string{"-C", a.dir}, args...)...).Output()
		}
		out, err := git("diff", "HEAD", "--no-color", "--relative", "--", ".")
		if err != nil {
			out, err = git("diff", "--no-color", "--relative", "--", ".")
		}
		if err != nil {
			a.ui.notice(fmt.Sprintf("git diff in %s: %v", root, err))
			return false
		}
		if len(out) > 0 {
			a.ui.line(strings.TrimRight(colorDiff(a.ui.colors, string(out)), "\n"))
			shown = true
		}
		untracked, _ := git("ls-files", "--others", "--exclude-standard", "--", ".")
		for _, f := range nonEmptyLines(string(untracked)) {
			if s, ok := patched[f]; ok {
				shown = a.snapshotDiff(s) || shown
				continue
			}
			a.ui.line(a.ui.colors.green("  new file " + f))
			shown = true
		}
		for _, s := range patched {
			if !s.existed {
				continue
			}
			if _, err := os.Stat(filepath.Join(a.dir, filepath.FromSlash(s.rel))); errors.Is(err, os.ErrNotExist) && !slices.Contains(nonEmptyLines(string(out)), s.rel) {
				// A deleted untracked file git no longer sees.
				shown = a.snapshotDiff(s) || shown
			}
		}
	} else {
		// Without git: the files patched in this session against their
		// first snapshot.
		for _, rel := range sortedKeys(patched) {
			shown = a.snapshotDiff(patched[rel]) || shown
		}
		if !shown {
			a.ui.line("no changes by patches in this session (without git, changes made by commands are not tracked)")
			return false
		}
	}
	if !shown {
		a.ui.line("no changes")
	}
	return false
}

// snapshotDiff shows how a file changed since its snapshot; it reports
// whether it did.
func (a *app) snapshotDiff(s snapshot) bool {
	c := a.ui.colors
	now, err := os.ReadFile(filepath.Join(a.dir, filepath.FromSlash(s.rel)))
	exists := err == nil
	switch {
	case !s.existed && exists:
		a.ui.line(c.bold("  +++ " + s.rel + " (new)"))
		a.ui.line(strings.TrimRight(colorDiff(c, applypatch.MakeDiff("", string(now))), "\n"))
	case s.existed && !exists:
		a.ui.line(c.red("  deleted " + s.rel))
	case s.existed && exists && string(now) != string(s.data):
		a.ui.line(c.bold("  --- " + s.rel))
		a.ui.line(strings.TrimRight(colorDiff(c, applypatch.MakeDiff(string(s.data), string(now))), "\n"))
	default:
		return false
	}
	return true
}

func (a *app) slashUndo(context.Context, string) bool {
	files, err := a.undo.undo()
	if err != nil {
		a.ui.notice(err.Error())
		return false
	}
	a.ui.line("restored " + strings.Join(files, ", "))
	// The model is told with the next message.
	a.notes = append(a.notes, "The user undid your last changes to "+strings.Join(files, ", ")+": those files are back as they were before.")
	return false
}

func (a *app) slashCompact(ctx context.Context, _ string) bool {
	if a.stateless {
		a.ui.line("/compact works in chained mode: a stateless session replays its saved transcript")
		return false
	}
	prev, _, pending := a.sess.State()
	req := &responses.CompactRequest{Model: a.model, Instructions: a.opts.Instructions}
	switch {
	case a.compacted != nil:
		req.Input = responses.ItemsInput(a.compacted...)
	case prev != "":
		req.PreviousResponseID = prev
		if len(pending) > 0 {
			req.Input = responses.ItemsInput(pending...)
		}
	default:
		a.ui.line("nothing to compact yet")
		return false
	}
	c, err := a.client.Compact(ctx, req)
	if err != nil {
		a.ui.notice("compact: " + a.runFailure(err))
		return false
	}
	a.compacted = c.Output
	a.ui.line(fmt.Sprintf("compacted: the next task starts from %d items", len(c.Output)))
	return false
}

func (a *app) slashNew(context.Context, string) bool {
	a.sess.Close()
	a.sess = session.New(a.sessDir, session.Header{
		Model: a.model, Provider: a.provider, BaseURL: a.baseURL, Dir: a.dir, Stateless: a.stateless,
	})
	a.compacted, a.notes, a.used = nil, nil, usage{}
	a.ui.line("new session " + a.sess.ID())
	return false
}

// slashResume continues the session ID; without ID it lets the user pick
// one of the saved sessions.
func (a *app) slashResume(ctx context.Context, arg string) bool {
	if arg == "" {
		id, ok := a.pickSession(ctx)
		if !ok {
			return false
		}
		arg = id
	}
	if !session.IsID(arg) {
		a.ui.line(fmt.Sprintf("/resume %s: not a session id (they look like 20260101T120000-a1b2c3)", arg))
		return false
	}
	if arg == a.sess.ID() {
		a.ui.line("that is this session")
		return false
	}
	s, err := session.Open(a.sessDir, arg)
	if err != nil {
		a.ui.notice("resume: " + err.Error())
		return false
	}
	model, stateless := a.model, a.stateless
	a.stateless = s.Header.Stateless
	if s.Header.Model != "" {
		a.model = s.Header.Model
	}
	if err := a.rebuild(s.Approved()); err != nil {
		a.model, a.stateless = model, stateless
		s.Close()
		a.ui.notice("resume: " + err.Error())
		return false
	}
	a.sess.Close()
	a.sess = s
	a.compacted, a.notes, a.used = nil, nil, usage{}
	a.ui.line(fmt.Sprintf("resumed session %s (%s) · %s", s.ID(), tasksText(s.Tasks()), a.model))
	if d := s.Header.Dir; d != "" && d != a.dir {
		a.ui.notice(fmt.Sprintf("it was started in %s; this chat goes on working in %s (agent resume %s works there)", d, a.dir, s.ID()))
	}
	return false
}

func (a *app) slashMCP(ctx context.Context, _ string) bool {
	if a.mcp == nil {
		a.ui.line("no MCP servers (--mcp-config FILE, a trusted .mcp.json, or mcp.json in the config directory)")
		return false
	}
	_, infos, err := a.agent.Tools(ctx)
	if err != nil {
		a.ui.notice("mcp: " + err.Error())
		return false
	}
	byServer := map[string][]string{}
	for _, ti := range infos {
		if server, tool, ok := strings.Cut(ti.Definition.Name, "__"); ok {
			byServer[server] = append(byServer[server], tool)
		}
	}
	if len(byServer) == 0 {
		a.ui.line("MCP servers connected, no tools listed")
	}
	for _, s := range sortedKeys(byServer) {
		a.ui.line(fmt.Sprintf("%s %s: %s", a.ui.colors.green("●"), s, strings.Join(byServer[s], ", ")))
	}
	return false
}

// initPrompt asks the model for an AGENTS.md.
const initPrompt = `Write an AGENTS.md file at the root of this workspace for coding agents that will work here. Look at the repository first (its layout, build files, tests, CI configuration, existing docs). Keep it short and concrete: what the project is, how to build it, how to run the tests (exact commands), the code style and conventions you can see, and anything an agent must not do. Create the file with apply_patch.`

func (a *app) slashInit(ctx context.Context, _ string) bool {
	if _, err := os.Stat(filepath.Join(a.dir, "AGENTS.md")); err == nil {
		a.ui.line("AGENTS.md exists already; edit it, or ask the agent to improve it")
		return false
	} else if !errors.Is(err, os.ErrNotExist) {
		a.ui.notice(err.Error())
		return false
	}
	a.runTask(ctx, initPrompt)
	return false
}

// slashTimeline writes the timeline of the runs so far, from the spans
// --timeline keeps, to FILE (default: the --timeline file).
func (a *app) slashTimeline(_ context.Context, arg string) bool {
	t := a.e.tracing
	if t == nil || t.kept == nil {
		a.ui.notice("no timeline is being recorded: start the agent with --timeline FILE")
		return false
	}
	path := strings.TrimSpace(arg)
	if path == "" {
		path = t.timeline
	}
	if err := writeTimelineFile(path, t.kept.spans()); err != nil {
		a.ui.notice("timeline: " + err.Error())
		return false
	}
	a.ui.notice("timeline written to " + path)
	return false
}
