package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"runtime/debug"
	"strings"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Tool is the Responses API's shell tool with local execution: its
// definition is {"type":"shell","environment":{"type":"local"}}, and it
// answers each shell_call with a shell_call_output holding one
// {stdout, stderr, outcome} entry per command.
//
// The commands of a call run in order through the executor's shell, in the
// workspace root. A non-zero exit does not stop the next command; a timeout
// does: the call's timeout_ms (else the executor's Timeout) is one
// wall-clock budget for all its commands, the command that exceeds it gets
// the "timeout" outcome and the rest are not run. The call's
// max_output_length (else the executor's MaxOutput, at most
// [MaxOutputLimit]) caps each command's stdout plus stderr, and the applied
// cap is echoed in the output's max_output_length.
//
// A Tool is safe for concurrent use; its calls are not parallel-safe (they
// share a workspace).
type Tool struct {
	Executor *Executor // runs the commands; required
	Policy   *Policy   // decides which calls run, ask or are refused; nil means the default policy
}

var (
	_ tools.Tool         = (*Tool)(nil)
	_ tools.Reviewer     = (*Tool)(nil)
	_ tools.ParallelSafe = (*Tool)(nil)
)

// Definition returns {"type":"shell","environment":{"type":"local"}}.
func (t *Tool) Definition() responses.ToolDefinition {
	return responses.MustToolDefinition(map[string]any{"type": "shell", "environment": map[string]string{"type": "local"}})
}

// ParallelSafe returns false: commands share the workspace.
func (t *Tool) ParallelSafe() bool { return false }

func decodeShellCall(call tools.Call) (responses.ShellCall, error) {
	var sc responses.ShellCall
	if call.Type != responses.TypeShellCall {
		return sc, fmt.Errorf("shell tool: cannot run a %q item", call.Type)
	}
	if err := call.Item.Decode(&sc); err != nil {
		return sc, fmt.Errorf("shell tool: decode shell_call: %w", err)
	}
	if len(sc.Action.Commands) == 0 {
		return sc, errors.New("shell tool: shell_call has no commands")
	}
	for i, c := range sc.Action.Commands {
		if strings.TrimSpace(c) == "" {
			return sc, fmt.Errorf("shell tool: command %d is empty", i+1)
		}
		if strings.ContainsRune(c, 0) {
			return sc, fmt.Errorf("shell tool: command %d contains a NUL byte", i+1)
		}
	}
	return sc, nil
}

// Call runs the commands of a shell_call and returns its shell_call_output.
// Errors (a malformed call, a sandbox that cannot be set up, a directory
// outside the workspace) are tool failures; a cancelled ctx returns ctx's
// error.
//
// Once a command ran, Call returns the output item together with an error
// that gives the call its outcome (tools.OutcomeOf): nil when every command
// exited 0; an error wrapping tools.ErrTimeout when the call's time budget
// stopped a command; a *[ExitError] wrapping tools.ErrSandboxDenied when a
// command failed the way a sandbox denial does ([Result.SandboxDenied]); an
// error for a later command that could not start; else a *[ExitError] for
// the first command that exited non-zero. The item is the same whatever
// the error.
func (t *Tool) Call(ctx context.Context, call tools.Call) (_ responses.Item, err error) {
	defer recoverPanic(t.Executor, "shell", &err)
	if t.Executor == nil {
		return responses.Item{}, errors.New("shell tool: no Executor")
	}
	sc, err := decodeShellCall(call)
	if err != nil {
		return responses.Item{}, err
	}
	x := t.Executor
	budget := firstNonZero(x.Timeout, DefaultTimeout)
	if ms := sc.Action.TimeoutMS; ms != nil && *ms > 0 {
		budget = time.Duration(*ms) * time.Millisecond
	}
	limit := firstNonZero(x.MaxOutput, DefaultMaxOutput)
	if n := sc.Action.MaxOutputLength; n != nil && *n > 0 {
		limit = int(min(*n, MaxOutputLimit))
	}
	limit = min(limit, MaxOutputLimit)
	deadline := time.Now().Add(budget)

	outs := make([]responses.ShellCommandOutput, 0, len(sc.Action.Commands))
	var outcome outcomeOf // the call's outcome, from its commands in order
	for i, line := range sc.Action.Commands {
		left := time.Until(deadline)
		if left <= 0 {
			// The previous command used up the call's budget.
			outs = append(outs, responses.ShellCommandOutput{
				Stderr:  "not run: the call's time budget was used up",
				Outcome: responses.ShellOutcome{Type: "timeout"},
			})
			outcome.timeout(fmt.Errorf("shell: command %d not run: the call's time budget of %s was used up: %w", i+1, budget, tools.ErrTimeout))
			break
		}
		res, err := x.Run(ctx, Command{Line: line, Timeout: left, MaxOutput: limit})
		if err != nil {
			if ctx.Err() != nil {
				return responses.Item{}, ctx.Err()
			}
			if len(outs) == 0 {
				return responses.Item{}, err // nothing ran: the call failed
			}
			// Keep what the earlier commands did; this one could not start
			// and the rest would not either.
			code := 126
			outs = append(outs, responses.ShellCommandOutput{
				Stderr:  "error: " + err.Error(),
				Outcome: responses.ShellOutcome{Type: "exit", ExitCode: &code},
			})
			outcome.failed(fmt.Errorf("shell: command %d: %w", i+1, err))
			break
		}
		outs = append(outs, shellOutput(res))
		outcome.result(i+1, res)
		if res.TimedOut {
			break
		}
	}
	applied := int64(limit)
	it, err := responses.NewItem(responses.ShellCallOutput{
		Type:            responses.TypeShellCallOutput,
		CallID:          call.CallID,
		Output:          outs,
		MaxOutputLength: &applied,
		Caller:          sc.Caller,
	})
	if err != nil {
		return responses.Item{}, err
	}
	return it, outcome.err()
}

// outcomeOf gathers the outcome of a call's commands: a timeout wins over a
// sandbox denial, which wins over a failure to start, which wins over a
// non-zero exit; among equals the first command counts.
type outcomeOf struct {
	timedOut, denied, startErr, exit error
}

func (o *outcomeOf) timeout(err error) {
	if o.timedOut == nil {
		o.timedOut = err
	}
}

func (o *outcomeOf) failed(err error) {
	if o.startErr == nil {
		o.startErr = err
	}
}

func (o *outcomeOf) result(n int, r Result) {
	switch {
	case r.TimedOut:
		o.timeout(fmt.Errorf("shell: command %d stopped after %s: %w", n, r.Duration.Round(time.Millisecond), tools.ErrTimeout))
	case r.ExitCode != 0 && r.SandboxDenied:
		if o.denied == nil {
			o.denied = &ExitError{Command: n, Code: r.ExitCode, SandboxDenied: true}
		}
	case r.ExitCode != 0:
		if o.exit == nil {
			o.exit = &ExitError{Command: n, Code: r.ExitCode}
		}
	}
}

func (o *outcomeOf) err() error {
	for _, err := range []error{o.timedOut, o.denied, o.startErr, o.exit} {
		if err != nil {
			return err
		}
	}
	return nil
}

// ExitError is the error [Tool.Call] and [LocalTool.Call] return, beside
// their output item, for a command that ran and exited with a non-zero
// status. Its outcome (tools.OutcomeOf) is "error", or "sandbox_denied"
// when SandboxDenied is set: then it wraps tools.ErrSandboxDenied.
//
// The output item still carries the exit code, stdout and stderr for the
// model; the error only tells the program what happened.
type ExitError struct {
	// Command is the 1-based position of the command in a shell_call (the
	// first that failed); 1 for a local_shell_call.
	Command int
	// Code is the exit status, or 128 plus the signal that ended it.
	Code int
	// SandboxDenied is [Result.SandboxDenied] of the command: its failure
	// names a path or a network error the sandbox blocks.
	SandboxDenied bool
}

func (e *ExitError) Error() string {
	s := fmt.Sprintf("shell: command %d exited with status %d", e.Command, e.Code)
	if e.SandboxDenied {
		s += ": " + tools.ErrSandboxDenied.Error()
	}
	return s
}

// Unwrap returns tools.ErrSandboxDenied when the sandbox blocked the
// command, and nil otherwise.
func (e *ExitError) Unwrap() error {
	if e.SandboxDenied {
		return tools.ErrSandboxDenied
	}
	return nil
}

func shellOutput(r Result) responses.ShellCommandOutput {
	o := responses.ShellCommandOutput{Stdout: r.Stdout, Stderr: r.Stderr}
	if r.TimedOut {
		o.Outcome = responses.ShellOutcome{Type: "timeout"}
	} else {
		code := r.ExitCode
		o.Outcome = responses.ShellOutcome{Type: "exit", ExitCode: &code}
	}
	return o
}

// Review judges the call's commands with the tool's policy. The approval
// request shows the exact commands, the workspace root and the sandbox mode.
// A refusal's Err wraps tools.ErrSandboxDenied: the command policy is part
// of the sandbox.
func (t *Tool) Review(ctx context.Context, call tools.Call) (tools.Review, error) {
	sc, err := decodeShellCall(call)
	if err != nil {
		// Let Call report the malformed call to the model.
		return tools.Review{Decision: tools.Allow}, nil
	}
	v := t.Policy.CheckLines(sc.Action.Commands)
	return review(t.Executor, call, "shell", sc.Action.Commands, "", v), nil
}

func review(x *Executor, call tools.Call, tool string, command []string, dir string, v Verdict) tools.Review {
	mode, root := DangerFullAccess, ""
	if x != nil {
		mode = firstNonZero(x.Sandbox, WorkspaceWrite)
		root = x.Root
		if s := x.init(); s.err == nil {
			root = s.root
		}
	}
	if dir == "" {
		dir = root
	}
	summary := "run " + strings.Join(command, "; ")
	if tool == "local_shell" {
		summary = "run " + quoteArgv(command)
	}
	var err error
	if v.Decision == tools.Deny {
		err = denyError(v.Reason)
	}
	return tools.Review{
		Decision: v.Decision,
		Reason:   v.Reason,
		Err:      err,
		Request: tools.ApprovalRequest{
			Kind:    "shell",
			Tool:    tool,
			CallID:  call.CallID,
			Summary: summary,
			Command: command,
			Dir:     dir,
			Sandbox: string(mode),
			Key:     v.Key,
		},
	}
}

// LocalTool is the Responses API's older local_shell tool: its definition
// is {"type":"local_shell"}; each local_shell_call's argv is executed
// directly (not through a shell) with the call's env merged on top,
// working_directory (which must be inside the workspace) and timeout_ms.
// A call naming a user other than the current one is refused.
//
// The answer is a local_shell_call_output whose id is the call's call_id
// and whose output is the JSON text
// {"output": "<stdout then stderr>", "metadata": {"exit_code": N, "duration_seconds": S}},
// the form Codex-trained models know. A timeout gives exit code 124 and a
// note at the end of the output.
//
// A LocalTool is safe for concurrent use; its calls are not parallel-safe.
type LocalTool struct {
	Executor *Executor // runs the commands; required
	Policy   *Policy   // nil means the default policy
}

var (
	_ tools.Tool         = (*LocalTool)(nil)
	_ tools.Reviewer     = (*LocalTool)(nil)
	_ tools.ParallelSafe = (*LocalTool)(nil)
)

// Definition returns {"type":"local_shell"}.
func (t *LocalTool) Definition() responses.ToolDefinition {
	return responses.MustToolDefinition(map[string]string{"type": "local_shell"})
}

// ParallelSafe returns false: commands share the workspace.
func (t *LocalTool) ParallelSafe() bool { return false }

func decodeLocalCall(call tools.Call) (responses.LocalShellCall, error) {
	var lc responses.LocalShellCall
	if call.Type != responses.TypeLocalShellCall {
		return lc, fmt.Errorf("local_shell tool: cannot run a %q item", call.Type)
	}
	if err := call.Item.Decode(&lc); err != nil {
		return lc, fmt.Errorf("local_shell tool: decode local_shell_call: %w", err)
	}
	if len(lc.Action.Command) == 0 || lc.Action.Command[0] == "" {
		return lc, errors.New("local_shell tool: empty command")
	}
	for _, a := range lc.Action.Command {
		if strings.ContainsRune(a, 0) {
			return lc, errors.New("local_shell tool: command contains a NUL byte")
		}
	}
	if u := lc.Action.User; u != nil && *u != "" {
		cur, err := user.Current()
		if err != nil || (cur.Username != *u && cur.Uid != *u) {
			return lc, fmt.Errorf("local_shell tool: running as user %q is not supported", *u)
		}
	}
	return lc, nil
}

// LocalShellOutput is the JSON text a [LocalTool] puts in the output of a
// local_shell_call_output.
type LocalShellOutput struct {
	Output   string `json:"output"`
	Metadata struct {
		ExitCode        int     `json:"exit_code"`
		DurationSeconds float64 `json:"duration_seconds"`
	} `json:"metadata"`
}

// Call runs the argv of a local_shell_call and returns its
// local_shell_call_output, together with an error that gives the call its
// outcome as [Tool.Call] does: nil for exit 0, an error wrapping
// tools.ErrTimeout for a timeout, a *[ExitError] (wrapping
// tools.ErrSandboxDenied for a sandbox denial) for a non-zero exit.
func (t *LocalTool) Call(ctx context.Context, call tools.Call) (_ responses.Item, err error) {
	defer recoverPanic(t.Executor, "local_shell", &err)
	if t.Executor == nil {
		return responses.Item{}, errors.New("local_shell tool: no Executor")
	}
	lc, err := decodeLocalCall(call)
	if err != nil {
		return responses.Item{}, err
	}
	c := Command{Args: lc.Action.Command, Env: lc.Action.Env}
	if d := lc.Action.WorkingDirectory; d != nil {
		c.Dir = *d
	}
	if ms := lc.Action.TimeoutMS; ms != nil && *ms > 0 {
		c.Timeout = time.Duration(*ms) * time.Millisecond
	}
	res, err := t.Executor.Run(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return responses.Item{}, ctx.Err()
		}
		return responses.Item{}, err
	}
	var out LocalShellOutput
	out.Output = res.Stdout
	if res.Stderr != "" {
		if out.Output != "" && !strings.HasSuffix(out.Output, "\n") {
			out.Output += "\n"
		}
		out.Output += res.Stderr
	}
	out.Metadata.ExitCode = res.ExitCode
	if res.TimedOut {
		out.Metadata.ExitCode = 124
		if out.Output != "" && !strings.HasSuffix(out.Output, "\n") {
			out.Output += "\n"
		}
		out.Output += fmt.Sprintf("[command timed out after %s]", res.Duration.Round(time.Millisecond))
	}
	out.Metadata.DurationSeconds = float64(res.Duration.Round(time.Millisecond)) / float64(time.Second)
	text, err := json.Marshal(out)
	if err != nil {
		return responses.Item{}, err
	}
	it, err := responses.NewItem(responses.LocalShellCallOutput{
		Type:   responses.TypeLocalShellCallOutput,
		ID:     call.CallID,
		Output: string(text),
	})
	if err != nil {
		return responses.Item{}, err
	}
	var o outcomeOf
	o.result(1, res)
	return it, o.err()
}

// Review judges the call's argv with the tool's policy.
func (t *LocalTool) Review(ctx context.Context, call tools.Call) (tools.Review, error) {
	lc, err := decodeLocalCall(call)
	if err != nil {
		return tools.Review{Decision: tools.Allow}, nil
	}
	dir := ""
	if d := lc.Action.WorkingDirectory; d != nil && t.Executor != nil {
		if s := t.Executor.init(); s.err == nil {
			if w, err := s.workdir(*d); err == nil {
				dir = w
			} else {
				return tools.Review{Decision: tools.Deny, Reason: err.Error(), Err: denyError(err.Error())}, nil
			}
		}
	}
	v := t.Policy.CheckArgv(lc.Action.Command)
	return review(t.Executor, call, "local_shell", lc.Action.Command, dir, v), nil
}

// denyError is the error of a call the command policy refused: its outcome
// is "sandbox_denied".
func denyError(reason string) error {
	return fmt.Errorf("shell: refused by the command policy: %s: %w", reason, tools.ErrSandboxDenied)
}

// quoteArgv renders an argv as a shell would need it typed.
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		s, err := syntax.Quote(a, syntax.LangBash)
		if err != nil {
			s = fmt.Sprintf("%q", a)
		}
		q[i] = s
	}
	return strings.Join(q, " ")
}

// recoverPanic turns a panic in a tool's Call into a tool failure and logs
// the stack; the model never sees a stack.
func recoverPanic(x *Executor, tool string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	log := slog.New(slog.DiscardHandler)
	if x != nil && x.Logger != nil {
		log = x.Logger
	}
	log.Error("panic in tool call", "tool", tool, "panic", r, "stack", string(debug.Stack()))
	*err = fmt.Errorf("%s tool: internal error", tool)
}
