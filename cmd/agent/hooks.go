package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// hooksConfig are the user's hooks: commands run at points of a task, in
// the convention Claude Code users know.
type hooksConfig struct {
	PreToolUse       []hookSpec `toml:"pre_tool_use" json:"pre_tool_use,omitempty"`
	PostToolUse      []hookSpec `toml:"post_tool_use" json:"post_tool_use,omitempty"`
	UserPromptSubmit []hookSpec `toml:"user_prompt_submit" json:"user_prompt_submit,omitempty"`
	Stop             []hookSpec `toml:"stop" json:"stop,omitempty"`
}

// hookSpec is one hook command.
type hookSpec struct {
	// Matcher is a glob (path.Match) of the tool names the hook is for
	// ("shell", "apply_patch", "mcp__*"); empty matches every tool. Only
	// the tool hooks use it.
	Matcher string `toml:"matcher" json:"matcher,omitempty"`
	// Command is run with bash -c, the event as JSON on its stdin.
	Command string `toml:"command" json:"command"`
	// Timeout bounds the command (a Go duration); empty means 60s.
	Timeout string `toml:"timeout" json:"timeout,omitempty"`
}

const defaultHookTimeout = 60 * time.Second

func (h *hooksConfig) check() *configError {
	for _, ev := range h.kinds() {
		for i, s := range ev.specs {
			key := "hooks." + ev.name
			if strings.TrimSpace(s.Command) == "" {
				return &configError{key: key, msg: fmt.Sprintf("hook %d has no command", i+1)}
			}
			if s.Matcher != "" {
				if _, err := path.Match(s.Matcher, ""); err != nil {
					return &configError{key: key, msg: fmt.Sprintf("matcher %q: %v", s.Matcher, err)}
				}
			}
			if s.Timeout != "" {
				if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
					return &configError{key: key, msg: fmt.Sprintf("timeout %q is not a duration such as \"30s\"", s.Timeout)}
				}
			}
		}
	}
	return nil
}

func (h *hooksConfig) kinds() []struct {
	name  string
	specs []hookSpec
} {
	return []struct {
		name  string
		specs []hookSpec
	}{
		{hookPreToolUse, h.PreToolUse}, {hookPostToolUse, h.PostToolUse},
		{hookUserPromptSubmit, h.UserPromptSubmit}, {hookStop, h.Stop},
	}
}

func (h *hooksConfig) empty() bool {
	return h == nil || len(h.PreToolUse)+len(h.PostToolUse)+len(h.UserPromptSubmit)+len(h.Stop) == 0
}

func (s hookSpec) timeout() time.Duration {
	if d, err := time.ParseDuration(s.Timeout); err == nil && d > 0 {
		return d
	}
	return defaultHookTimeout
}

// Hook event names, as configured and as sent in hook_event_name.
const (
	hookPreToolUse       = "pre_tool_use"
	hookPostToolUse      = "post_tool_use"
	hookUserPromptSubmit = "user_prompt_submit"
	hookStop             = "stop"
)

// hookEvent is what a hook reads on its stdin.
type hookEvent struct {
	Event     string `json:"hook_event_name"`
	SessionID string `json:"session_id"`
	Cwd       string `json:"cwd"`
	// Tool hooks.
	ToolName     string          `json:"tool_name,omitempty"` // shell, apply_patch, mcp__server__tool, a function's name
	ToolType     string          `json:"tool_type,omitempty"` // shell, apply_patch, mcp, function, custom, computer
	CallID       string          `json:"call_id,omitempty"`
	ToolInput    json.RawMessage `json:"tool_input,omitempty"`
	ToolResponse json.RawMessage `json:"tool_response,omitempty"` // post_tool_use: the output item
	Outcome      string          `json:"outcome,omitempty"`       // post_tool_use: ok, error, denied, ...
	// user_prompt_submit.
	Prompt string `json:"prompt,omitempty"`
	// stop.
	LastMessage    string `json:"last_assistant_message,omitempty"`
	StopReason     string `json:"stop_reason,omitempty"`
	StopHookActive *bool  `json:"stop_hook_active,omitempty"`
}

// hookOutput is the JSON a hook may print on stdout (exit status 0). Both
// the flat form and Claude Code's hookSpecificOutput are read.
type hookOutput struct {
	Decision          string          `json:"decision"` // "block" or "deny" blocks; "allow", "approve" or "" does not
	Reason            string          `json:"reason"`
	UpdatedInput      json.RawMessage `json:"updatedInput"`
	AdditionalContext string          `json:"additionalContext"`
	Specific          *struct {
		PermissionDecision       string          `json:"permissionDecision"`
		PermissionDecisionReason string          `json:"permissionDecisionReason"`
		UpdatedInput             json.RawMessage `json:"updatedInput"`
		AdditionalContext        string          `json:"additionalContext"`
	} `json:"hookSpecificOutput"`
}

// hookVerdict is what the hooks of one event decided.
type hookVerdict struct {
	block   bool
	allow   bool            // pre_tool_use: a hook let the call through without asking
	reason  string          // why it blocked, for the model or the user
	input   json.RawMessage // pre_tool_use: the call's new input, or nil
	context []string        // text the hooks add for the model
}

// hookBlockedError is a call blocked by a pre_tool_use hook; it wraps
// tools.ErrDenied, so the call's outcome is "denied".
type hookBlockedError struct{ reason string }

func (e *hookBlockedError) Error() string {
	return "blocked by a pre_tool_use hook: " + e.reason
}
func (e *hookBlockedError) Unwrap() error { return tools.ErrDenied }

// hookRunner runs the configured hooks: the user's, then the project's
// (loaded only in a trusted workspace).
type hookRunner struct {
	hooks hooksConfig
	// asked holds the pre_tool_use verdicts given at approval time, by
	// call id, so that the hooks do not run again when the call does.
	asked     sync.Map
	dir       string // the workspace: the hooks' working directory
	environ   []string
	sessionID func() string
	notice    func(string)      // a hook that failed without blocking
	isMCP     func(string) bool // whether a function tool is an MCP server's
}

// newHookRunner returns the runner of the user's and the project's hooks,
// or nil when there are none.
func newHookRunner(user, project *hooksConfig) *hookRunner {
	var all hooksConfig
	for _, h := range []*hooksConfig{user, project} {
		if h == nil {
			continue
		}
		all.PreToolUse = append(all.PreToolUse, h.PreToolUse...)
		all.PostToolUse = append(all.PostToolUse, h.PostToolUse...)
		all.UserPromptSubmit = append(all.UserPromptSubmit, h.UserPromptSubmit...)
		all.Stop = append(all.Stop, h.Stop...)
	}
	if all.empty() {
		return nil
	}
	return &hookRunner{hooks: all, sessionID: func() string { return "" }, notice: func(string) {}, isMCP: func(string) bool { return false }}
}

// middleware runs the tool hooks around every call of a local tool:
// shell, apply_patch, MCP tools and functions alike. The pre_tool_use hooks
// run once per call: before the approval question when the call needs one
// (so a hook's "allow" answers it, and its "deny" declines the call), else
// when the call runs.
func (h *hookRunner) middleware() agent.Middleware {
	if h == nil || len(h.hooks.PreToolUse)+len(h.hooks.PostToolUse) == 0 {
		return agent.Middleware{}
	}
	mw := agent.Middleware{Tool: func(next agent.ToolHandler) agent.ToolHandler {
		return func(ctx context.Context, call tools.Call) (responses.Item, error) {
			name, typ := h.toolName(call)
			field, input := toolInput(call.Item)
			ev := hookEvent{ToolName: name, ToolType: typ, CallID: call.CallID, ToolInput: input}
			if specs := matching(h.hooks.PreToolUse, name); len(specs) > 0 {
				ev.Event = hookPreToolUse
				var v hookVerdict
				if asked, ok := h.asked.LoadAndDelete(call.CallID); ok {
					v = asked.(hookVerdict)
				} else {
					v = h.run(ctx, specs, ev)
				}
				if v.block {
					return responses.Item{}, &hookBlockedError{reason: v.reason}
				}
				if v.input != nil && field != "" {
					it, err := withInput(call.Item, field, v.input)
					if err != nil {
						return responses.Item{}, fmt.Errorf("pre_tool_use hook: updatedInput: %w", err)
					}
					call.Item, ev.ToolInput = it, v.input
				}
			}
			out, err := next(ctx, call)
			if specs := matching(h.hooks.PostToolUse, name); len(specs) > 0 && ctx.Err() == nil {
				ev.Event = hookPostToolUse
				ev.ToolResponse = out.Raw()
				ev.Outcome = string(tools.OutcomeOf(err))
				h.run(ctx, specs, ev) // observes; a block has nothing left to stop
			}
			return out, err
		}
	}}
	if len(h.hooks.PreToolUse) > 0 {
		mw.Approve = h.approve
	}
	return mw
}

// approve runs the pre_tool_use hooks of a call that needs approval before
// the question is asked: a hook that allows the call answers it, one that
// blocks declines it with its reason; otherwise the user is asked. The
// verdict is kept for when the call runs (its updatedInput applies then).
func (h *hookRunner) approve(next agent.ApproveHandler) agent.ApproveHandler {
	return func(ctx context.Context, call tools.Call, req tools.ApprovalRequest) (agent.Approval, error) {
		if call.Type == responses.TypeMCPApprovalRequest { // a hosted MCP server's call: no local tool runs
			return next(ctx, call, req)
		}
		name, typ := h.toolName(call)
		specs := matching(h.hooks.PreToolUse, name)
		if len(specs) == 0 {
			return next(ctx, call, req)
		}
		_, input := toolInput(call.Item)
		v := h.run(ctx, specs, hookEvent{Event: hookPreToolUse, ToolName: name, ToolType: typ, CallID: call.CallID, ToolInput: input})
		if ctx.Err() != nil {
			return agent.Approval{}, ctx.Err()
		}
		switch {
		case v.block:
			return agent.Deny((&hookBlockedError{reason: v.reason}).Error()), nil
		case v.allow:
			h.asked.Store(call.CallID, v)
			return agent.Approve, nil
		}
		h.asked.Store(call.CallID, v)
		ap, err := next(ctx, call, req)
		if err != nil || !ap.Approved {
			h.asked.Delete(call.CallID) // the call will not run
		}
		return ap, err
	}
}

// toolName returns the name a hook's matcher sees and the tool's type.
func (h *hookRunner) toolName(call tools.Call) (name, typ string) {
	switch call.Type {
	case responses.TypeShellCall:
		return "shell", "shell"
	case responses.TypeLocalShellCall:
		return "local_shell", "shell"
	case responses.TypeApplyPatchCall:
		return "apply_patch", "apply_patch"
	case responses.TypeComputerCall:
		return "computer", "computer"
	case responses.TypeCustomToolCall:
		return call.Name, "custom"
	}
	if h.isMCP(call.Name) {
		return "mcp__" + call.Name, "mcp"
	}
	return call.Name, "function"
}

// toolInput returns the field of a call item that holds its input, and the
// input as JSON: a function's arguments decoded, a shell call's action, a
// patch's operation, a custom tool's input text.
func toolInput(it responses.Item) (field string, input json.RawMessage) {
	var m map[string]json.RawMessage
	if it.Decode(&m) != nil {
		return "", nil
	}
	switch it.Type {
	case responses.TypeFunctionCall:
		var args string
		if json.Unmarshal(m["arguments"], &args) == nil && json.Valid([]byte(args)) {
			return "arguments", json.RawMessage(args)
		}
		return "arguments", m["arguments"]
	case responses.TypeCustomToolCall:
		return "input", m["input"]
	case responses.TypeApplyPatchCall:
		return "operation", m["operation"]
	}
	if a, ok := m["action"]; ok {
		return "action", a
	}
	return "", nil
}

// withInput returns the call item with its input field replaced by input.
func withInput(it responses.Item, field string, input json.RawMessage) (responses.Item, error) {
	if !json.Valid(input) {
		return responses.Item{}, errors.New("not JSON")
	}
	var m map[string]json.RawMessage
	if err := it.Decode(&m); err != nil {
		return responses.Item{}, err
	}
	v := input
	if field == "arguments" || (field == "input" && !bytes.HasPrefix(bytes.TrimSpace(input), []byte(`"`))) {
		b, err := json.Marshal(string(input)) // function arguments are a JSON string
		if err != nil {
			return responses.Item{}, err
		}
		v = b
	}
	m[field] = v
	return responses.NewItem(m)
}

// matching returns the specs whose matcher matches name.
func matching(specs []hookSpec, name string) []hookSpec {
	var out []hookSpec
	for _, s := range specs {
		if s.Matcher == "" || s.Matcher == "*" {
			out = append(out, s)
			continue
		}
		if ok, _ := path.Match(s.Matcher, name); ok {
			out = append(out, s)
		}
	}
	return out
}

// userPromptSubmit runs the user_prompt_submit hooks on a prompt.
func (h *hookRunner) userPromptSubmit(ctx context.Context, prompt string) hookVerdict {
	if h == nil || len(h.hooks.UserPromptSubmit) == 0 {
		return hookVerdict{}
	}
	return h.run(ctx, h.hooks.UserPromptSubmit, hookEvent{Event: hookUserPromptSubmit, Prompt: prompt})
}

// stop runs the stop hooks at the end of a task; a block asks the agent
// to go on, with the reason as its next message. active says the task
// already went on because of a stop hook.
func (h *hookRunner) stop(ctx context.Context, res *agent.Result, active bool) hookVerdict {
	if h == nil || len(h.hooks.Stop) == 0 {
		return hookVerdict{}
	}
	ev := hookEvent{Event: hookStop, LastMessage: res.Text, StopReason: res.StopReason, StopHookActive: &active}
	return h.run(ctx, h.hooks.Stop, ev)
}

// run runs the hooks of one event in order. The first that blocks ends
// it; a pre_tool_use hook's updatedInput is what the next one sees.
func (h *hookRunner) run(ctx context.Context, specs []hookSpec, ev hookEvent) hookVerdict {
	ev.SessionID, ev.Cwd = h.sessionID(), h.dir
	var v hookVerdict
	for _, s := range specs {
		if v.input != nil {
			ev.ToolInput = v.input
		}
		data, err := json.Marshal(ev)
		if err != nil {
			h.notice(fmt.Sprintf("%s hook: %v", ev.Event, err))
			return v
		}
		r := h.exec(ctx, s, data)
		if ctx.Err() != nil {
			return v
		}
		switch {
		case r.timedOut:
			h.notice(fmt.Sprintf("%s hook %q was stopped after %s; the task goes on", ev.Event, oneLine(s.Command, 60), s.timeout()))
			continue
		case r.err != nil:
			h.notice(fmt.Sprintf("%s hook %q: %v", ev.Event, oneLine(s.Command, 60), r.err))
			continue
		case r.code == 2:
			v.block = true
			v.reason = strings.TrimSpace(r.stderr)
			if v.reason == "" {
				v.reason = "the hook " + oneLine(s.Command, 80) + " refused it (exit status 2)"
			}
			return v
		case r.code != 0:
			h.notice(fmt.Sprintf("%s hook %q exited with status %d: %s", ev.Event, oneLine(s.Command, 60), r.code, oneLine(r.stderr, 200)))
			continue
		}
		out := bytes.TrimSpace([]byte(r.stdout))
		if len(out) == 0 {
			continue
		}
		var o hookOutput
		if out[0] != '{' || json.Unmarshal(out, &o) != nil {
			if ev.Event == hookUserPromptSubmit {
				v.context = append(v.context, string(out)) // plain text is context for the model
			}
			continue
		}
		decision, reason, input, more := o.Decision, o.Reason, o.UpdatedInput, o.AdditionalContext
		if sp := o.Specific; sp != nil {
			if sp.PermissionDecision != "" {
				decision = sp.PermissionDecision
			}
			if sp.PermissionDecisionReason != "" {
				reason = sp.PermissionDecisionReason
			}
			if sp.UpdatedInput != nil {
				input = sp.UpdatedInput
			}
			if sp.AdditionalContext != "" {
				more = sp.AdditionalContext
			}
		}
		if more != "" {
			v.context = append(v.context, more)
		}
		if len(input) > 0 && string(input) != "null" && ev.Event == hookPreToolUse {
			v.input = input
		}
		if decision == "allow" || decision == "approve" {
			v.allow = true
		}
		if decision == "block" || decision == "deny" {
			v.block = true
			v.reason = reason
			if v.reason == "" {
				v.reason = "the hook " + oneLine(s.Command, 80) + " refused it"
			}
			return v
		}
	}
	return v
}

type hookResult struct {
	code           int
	stdout, stderr string
	timedOut       bool
	err            error // it could not run
}

// exec runs one hook command with the event on its stdin. It runs in its
// own process group, which is killed when the hook's time is up, when ctx
// ends, and when the hook exits (nothing it started outlives it).
func (h *hookRunner) exec(ctx context.Context, s hookSpec, event []byte) hookResult {
	tctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	cmd := exec.CommandContext(tctx, "bash", "-c", s.Command)
	cmd.Dir = h.dir
	cmd.Env = append(slices.Clone(h.environ), "AGENTLOOP_PROJECT_DIR="+h.dir, "AGENTLOOP_HOOK_EVENT="+hookEventName(event))
	cmd.Stdin = bytes.NewReader(event)
	var stdout, stderr limitedBuffer
	stdout.max, stderr.max = 1<<20, 64<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what it left running
	}
	r := hookResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case tctx.Err() != nil && ctx.Err() == nil:
		r.timedOut = true
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.err = err
	}
	return r
}

func hookEventName(event []byte) string {
	var e struct {
		Name string `json:"hook_event_name"`
	}
	_ = json.Unmarshal(event, &e)
	return e.Name
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// parseProjectHooks reads a project's .agents/hooks.toml: the [[hooks.*]]
// tables of config.toml, and nothing else.
func parseProjectHooks(file string, data []byte) (*hooksConfig, error) {
	var doc struct {
		Hooks *hooksConfig `toml:"hooks"`
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, tomlError(file, err)
	}
	if doc.Hooks == nil {
		return &hooksConfig{}, nil
	}
	if err := doc.Hooks.check(); err != nil {
		err.file, err.line = file, keyLine(data, err.key)
		return nil, err
	}
	return doc.Hooks, nil
}
