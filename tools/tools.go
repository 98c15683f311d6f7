// Package tools is the contract between the agent loop and the executors
// that run the model's calls, the way database/sql/driver sits between
// database/sql and its drivers.
//
// A [Tool] declares what goes into the request's tools array and executes the
// call items routed to it. The loop routes a call by its item type and name:
// function_call and custom_tool_call by the name of a "function" or "custom"
// definition; shell_call, local_shell_call, apply_patch_call and
// computer_call by the definition's type ("shell", "local_shell",
// "apply_patch", "computer" or "computer_use_preview").
//
// Optional capabilities are one-method interfaces found by type assertion:
// [Reviewer] (the call may need a person's approval, or is denied by policy),
// [Decliner] (a declined call needs an output other than text) and
// [ParallelSafe]. A [Toolset] supplies tools that change over a run, such
// as the tools of an MCP server.
//
// Executor packages import tools and responses, never the agent package.
package tools

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agentloop/agentloop/responses"
)

// Tool is a tool the model can call.
type Tool interface {
	// Definition returns the entry for the request's tools array.
	Definition() responses.ToolDefinition
	// Call executes one call and returns its output item (for example a
	// function_call_output whose call_id is call.CallID). Call must return
	// promptly when ctx is done.
	//
	// A returned error is a tool failure, which the model reads and the
	// loop reports with the error's [Outcome] ([OutcomeOf]). With a zero
	// item, the loop sends [FailedOutput] of the error. A tool that has its
	// own output for the failure (a shell call's exit code and output, a
	// failed apply_patch_call_output) returns it together with the error,
	// the way io.Reader returns n and err: the item goes to the model, the
	// error says what happened.
	Call(ctx context.Context, call Call) (responses.Item, error)
}

// Call is one call item routed to a tool.
type Call struct {
	Item   responses.Item // the call item exactly as the model produced it
	Type   string         // the item type, e.g. "function_call"
	CallID string         // the key its output must carry
	Name   string         // the tool name for function and custom calls

	// Progress reports progress of a long call (for example MCP progress
	// notifications); the loop turns each report into an event. It is never
	// nil when the loop calls a tool, and is safe for concurrent use.
	Progress func(Progress)

	// Approved is the request that was approved for this call (by a
	// person, by an earlier "approve always", or by a decision given to a
	// resumed run), exactly as the approver saw it; nil when the call
	// needed no approval. A tool whose Review shows what it will do (a
	// patch's diff) checks it here, so it does only what was approved,
	// with no state kept between Review and Call.
	Approved *ApprovalRequest `json:"-"`
}

// NewCall returns the Call for a call item, with a no-op Progress.
func NewCall(it responses.Item) Call {
	return Call{Item: it, Type: it.Type, CallID: it.CallKey(), Name: it.Name, Progress: func(Progress) {}}
}

// Progress is a progress report of a running call.
type Progress struct {
	Message  string  `json:"message,omitempty"`
	Progress float64 `json:"progress"`
	Total    float64 `json:"total,omitempty"` // zero when unknown
}

// Decision is what a tool's policy says about one call.
type Decision int

const (
	// Allow runs the call without asking.
	Allow Decision = iota
	// Ask consults the agent's Approver before running the call.
	Ask
	// Deny refuses the call; the model is told why.
	Deny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Ask:
		return "ask"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Review is a tool's verdict on one call before it runs.
type Review struct {
	Decision Decision
	// Reason explains a denial to the model (and the user); optional otherwise.
	Reason string
	// Err, for a denial, says what refused the call, for the outcome the
	// loop reports ([OutcomeOf]): nil means [ErrDenied] (a policy or a
	// person); a sandbox's command policy wraps [ErrSandboxDenied].
	Err error
	// Request is what an approver is shown when Decision is Ask.
	Request ApprovalRequest
}

// Reviewer is implemented by tools whose calls may need approval or may be
// refused by policy. Tools that do not implement it are always allowed.
// Review must not have side effects: a denied or unapproved call never runs.
type Reviewer interface {
	Review(ctx context.Context, call Call) (Review, error)
}

// Decliner is implemented by tools whose calls cannot be answered with text,
// such as computer use (whose output is a screenshot). When a call is
// refused by policy or declined by the approver, the loop asks the tool for
// its output instead of sending reason as text.
type Decliner interface {
	Declined(ctx context.Context, call Call, reason string) (responses.Item, error)
}

// ParallelSafe is implemented by tools that say whether their calls may run
// concurrently with other calls of the same response. Tools that do not
// implement it are treated as parallel-safe.
type ParallelSafe interface {
	ParallelSafe() bool
}

// Toolset supplies a set of tools that may change between turns, such as the
// tools of MCP servers. The loop calls Tools before every request.
type Toolset interface {
	Tools(ctx context.Context) ([]Tool, error)
}

// ApprovalRequest is what an approver is shown before a call runs.
type ApprovalRequest struct {
	Kind   string `json:"kind"`    // "function", "custom", "shell", "apply_patch", "mcp", "hosted_mcp", "computer"
	Tool   string `json:"tool"`    // the tool's name as the model sees it
	CallID string `json:"call_id"` // the call key (approval request id for hosted MCP)

	Summary   string          `json:"summary"`             // one line saying what will happen
	Arguments json.RawMessage `json:"arguments,omitempty"` // function and MCP arguments
	Command   []string        `json:"command,omitempty"`   // shell: the command lines, or local_shell argv
	Dir       string          `json:"dir,omitempty"`       // shell: working directory
	Sandbox   string          `json:"sandbox,omitempty"`   // shell: sandbox mode
	Paths     []string        `json:"paths,omitempty"`     // apply_patch: the files touched
	Diff      string          `json:"diff,omitempty"`      // apply_patch: a unified diff of the exact change

	// Key is what "approve always" remembers for the session, for example
	// "shell:git commit" or "function:delete_user". Empty means it cannot be
	// remembered.
	Key string `json:"key,omitempty"`
}

// FailedOutput returns the output item that reports err to the model as the
// answer to call, in the wire shape of the call's type: text for function and
// custom calls, status "failed" for apply_patch, a non-zero exit with err on
// stderr for shell calls. Other call types get a function_call_output; tools
// for them (computer use) report their own failures.
func FailedOutput(call Call, err error) responses.Item {
	msg := "error: " + err.Error()
	return TextOutput(call, msg, true)
}

// TextOutput returns an output item carrying text as the answer to call, in
// the wire shape of the call's type. failed marks an apply_patch output as
// failed and gives shell outputs exit code 1 with text on stderr (0 and
// stdout otherwise).
func TextOutput(call Call, text string, failed bool) responses.Item {
	caller := callerOf(call.Item)
	switch call.Type {
	case responses.TypeCustomToolCall:
		return Output(call, responses.MustJSON(text))
	case responses.TypeApplyPatchCall:
		status := "completed"
		if failed {
			status = "failed"
		}
		return responses.MustItem(responses.ApplyPatchCallOutput{Type: responses.TypeApplyPatchCallOutput, CallID: call.CallID, Status: status, Output: text, Caller: caller})
	case responses.TypeShellCall:
		code := 0
		out := responses.ShellCommandOutput{Stdout: text}
		if failed {
			code = 1
			out = responses.ShellCommandOutput{Stderr: text}
		}
		out.Outcome = responses.ShellOutcome{Type: "exit", ExitCode: &code}
		return responses.MustItem(responses.ShellCallOutput{Type: responses.TypeShellCallOutput, CallID: call.CallID, Output: []responses.ShellCommandOutput{out}, Caller: caller})
	case responses.TypeLocalShellCall:
		return responses.MustItem(responses.LocalShellCallOutput{Type: responses.TypeLocalShellCallOutput, ID: call.CallID, Output: text})
	}
	return Output(call, responses.MustJSON(text))
}

// Output returns the output item of a function or custom tool call: a
// function_call_output (custom_tool_call_output for a custom_tool_call)
// with the call's call_id and caller, whose output is the JSON value
// output (a string, or an array of content parts). Every output item of
// those types the loop and the executors send is built here.
func Output(call Call, output json.RawMessage) responses.Item {
	typ := responses.TypeFunctionCallOutput
	if call.Type == responses.TypeCustomToolCall {
		typ = responses.TypeCustomToolCallOutput
	}
	return responses.OutputItem(typ, call.CallID, output, callerOf(call.Item))
}

func callerOf(it responses.Item) json.RawMessage {
	c := it.Field("caller")
	if string(c) == "null" {
		return nil
	}
	return c
}
