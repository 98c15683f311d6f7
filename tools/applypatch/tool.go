package applypatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Form is how a [Tool] is offered to the model.
type Form int

const (
	// Native is the hosted apply_patch tool ({"type":"apply_patch"}); the
	// model sends apply_patch_call items, one file operation each.
	Native Form = iota
	// Function is a function tool whose one argument, input, is a whole
	// envelope patch, for models or endpoints without the native tool.
	Function
	// Custom is a custom (freeform) tool whose input is a whole envelope
	// patch, constrained by a Lark grammar ([Grammar]).
	Custom
)

// Approval says when a patch needs a person's approval.
type Approval int

const (
	// ApproveNever runs every patch without asking (the default: the
	// application decides, for example through its Approver).
	ApproveNever Approval = iota
	// ApproveAlways asks before every patch.
	ApproveAlways
	// ApproveOutside asks unless every path the patch touches matches one
	// of ToolOptions.Trusted.
	ApproveOutside
)

// ToolOptions configures a [Tool]. The zero value offers the native tool
// and never asks for approval.
type ToolOptions struct {
	Form Form
	// Name is the tool name of the Function and Custom forms; empty means
	// "apply_patch". The native tool has no name.
	Name string
	// Approval says when the loop must ask its Approver; see [Approval].
	Approval Approval
	// Trusted lists doublestar patterns of paths that ApproveOutside lets
	// through without asking, such as "src/**".
	Trusted []string
	// JournalDir is where calls that carry an idempotency key record what
	// their patch will write (see [Tool.Idempotent]); empty means
	// "agentloop-applypatch" in [os.TempDir]. A worker that may run the
	// call again must see the same directory: keep it beside the
	// workspace when that is shared between machines.
	JournalDir string
}

// Tool is the agent-facing apply_patch tool. It implements [tools.Tool],
// [tools.Reviewer] and [tools.ParallelSafe] (it is not parallel-safe:
// patches of one response run in order). Whatever its Form, Call accepts
// apply_patch_call, function_call (arguments {"input": patch}) and
// custom_tool_call items.
//
// A failed patch changes no file. Call returns the failed output item
// ([tools.FailedOutput]) together with an error that gives the call its
// [tools.Outcome]: one wrapping [tools.ErrSandboxDenied] when the path
// policy refused a path (an absolute or escaping path, [ErrPath]; a
// protected or non-writable one, [ErrProtected]; a deny-read one,
// [ErrReadDenied]), a plain error when the patch does not parse or apply.
// A patch that its policy says needs approval is written only if the call
// carries the approved request ([tools.Call].Approved, which the loop sets)
// and the patch still produces exactly the diff shown there: nothing is
// kept between Review and Call, and a run resumed in another process
// checks against what the person saw.
//
// A call that carries an idempotency key ([tools.AttemptFrom]) recognises
// a patch it already applied; see [Tool.Idempotent].
//
// A Tool is safe for concurrent use.
type Tool struct {
	ws   *Workspace
	opts ToolOptions
	def  responses.ToolDefinition
}

var (
	_ tools.Tool         = (*Tool)(nil)
	_ tools.Reviewer     = (*Tool)(nil)
	_ tools.ParallelSafe = (*Tool)(nil)
	_ tools.Idempotent   = (*Tool)(nil)
)

// NewTool returns the apply_patch tool for ws. It returns an error for an
// invalid Trusted pattern or an unknown Form. A nil opts uses defaults.
func NewTool(ws *Workspace, opts *ToolOptions) (*Tool, error) {
	if ws == nil {
		return nil, errors.New("applypatch: NewTool needs a workspace")
	}
	var o ToolOptions
	if opts != nil {
		o = *opts
	}
	o.Trusted = append([]string(nil), o.Trusted...)
	if err := validatePatterns(o.Trusted); err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = "apply_patch"
	}
	t := &Tool{ws: ws, opts: o}
	switch o.Form {
	case Native:
		t.def = responses.MustToolDefinition(map[string]string{"type": "apply_patch"})
	case Function:
		t.def = responses.MustToolDefinition(responses.FunctionTool{
			Type: "function", Name: o.Name, Description: Instructions, Strict: true,
			Parameters: json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"The whole patch, from *** Begin Patch to *** End Patch."}},"required":["input"],"additionalProperties":false}`),
		})
	case Custom:
		format, _ := json.Marshal(map[string]string{"type": "grammar", "syntax": "lark", "definition": Grammar})
		t.def = responses.MustToolDefinition(responses.CustomTool{
			Type: "custom", Name: o.Name, Description: Instructions, Format: format,
		})
	default:
		return nil, fmt.Errorf("applypatch: unknown tool form %d", int(o.Form))
	}
	return t, nil
}

// Definition returns the tools[] entry of the tool's Form.
func (t *Tool) Definition() responses.ToolDefinition { return t.def }

// ParallelSafe returns false: patches may touch the same files.
func (t *Tool) ParallelSafe() bool { return false }

// Idempotent returns true: a call run again with the same idempotency key
// ([tools.Attempt].Key, which a durable driver gives every attempt)
// changes nothing when its files already hold what its patch produces,
// and answers as the first attempt did. Before a keyed call writes, it
// records in [ToolOptions.JournalDir] the SHA-256 of each file it touches
// before and after; the next attempt compares the files with them. An
// attempt that died while writing (some files patched, some not) makes
// the next one fail with an output naming them, writing nothing. The
// in-process loop gives no key: its calls run once and are not journaled.
func (t *Tool) Idempotent() bool { return true }

// Workspace returns the workspace the tool writes to.
func (t *Tool) Workspace() *Workspace { return t.ws }

// PatchOf returns the patch a call item carries: the operation of an
// apply_patch_call, the input argument of a function_call, or the input of
// a custom_tool_call.
func PatchOf(call tools.Call) (*Patch, error) {
	switch call.Type {
	case responses.TypeApplyPatchCall:
		var c struct {
			Operation struct {
				Type   string `json:"type"`
				Path   string `json:"path"`
				Diff   string `json:"diff"`
				MoveTo string `json:"move_to"`
			} `json:"operation"`
		}
		if err := call.Item.Decode(&c); err != nil {
			return nil, fmt.Errorf("decode apply_patch_call: %w", err)
		}
		op := c.Operation
		return parseOperation(op.Type, op.Path, op.Diff, op.MoveTo)
	case responses.TypeFunctionCall:
		var fc responses.FunctionCall
		if err := call.Item.Decode(&fc); err != nil {
			return nil, fmt.Errorf("decode function_call: %w", err)
		}
		var args struct {
			Input *string `json:"input"`
		}
		if err := json.Unmarshal([]byte(fc.Arguments), &args); err != nil || args.Input == nil {
			return nil, errors.New(`the arguments must be a JSON object {"input": "<the whole patch>"}`)
		}
		return Parse(*args.Input)
	case responses.TypeCustomToolCall:
		var cc responses.CustomToolCall
		if err := call.Item.Decode(&cc); err != nil {
			return nil, fmt.Errorf("decode custom_tool_call: %w", err)
		}
		return Parse(cc.Input)
	}
	return nil, fmt.Errorf("apply_patch cannot answer a %s item", call.Type)
}

// Review says whether the call needs approval (see [ToolOptions]). When
// it does, the request shows the paths and the unified diff of the exact
// change, computed without writing. Review has no side effects on files.
func (t *Tool) Review(ctx context.Context, call tools.Call) (tools.Review, error) {
	if t.opts.Approval == ApproveNever {
		return tools.Review{Decision: tools.Allow}, nil
	}
	p, err := PatchOf(call)
	if err != nil {
		return tools.Review{Decision: tools.Allow}, nil // Call fails the same way, writing nothing
	}
	res, err := t.ws.DryRun(ctx, p)
	if err != nil {
		if ctx.Err() != nil {
			return tools.Review{}, ctx.Err()
		}
		// The call will fail and write nothing; should the files change
		// before it runs, Call refuses a patch that was never approved.
		return tools.Review{Decision: tools.Allow}, nil
	}
	if !t.needsApproval(res) {
		return tools.Review{Decision: tools.Allow}, nil
	}
	diff := res.Diff()
	var sum []string
	for _, c := range res.Changes {
		sum = append(sum, fmt.Sprintf("%s %s (+%d -%d)", c.Kind.letter(), c.Path, c.Added, c.Removed))
	}
	return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{
		Kind:    "apply_patch",
		Tool:    t.toolName(),
		CallID:  call.CallID,
		Summary: "apply patch: " + strings.Join(sum, ", "),
		Paths:   res.Paths(),
		Diff:    diff,
		Key:     "apply_patch",
	}}, nil
}

func (t *Tool) toolName() string {
	if t.opts.Form == Native {
		return "apply_patch"
	}
	return t.opts.Name
}

// DryRun returns what the call's patch would do (see [Result.Diff] for
// the unified diff) without writing anything.
func (t *Tool) DryRun(ctx context.Context, call tools.Call) (*Result, error) {
	p, err := PatchOf(call)
	if err != nil {
		return nil, err
	}
	return t.ws.DryRun(ctx, p)
}

// needsApproval reports whether the policy asks before applying res.
func (t *Tool) needsApproval(res *Result) bool {
	switch t.opts.Approval {
	case ApproveNever:
		return false
	case ApproveOutside:
		for _, p := range res.Paths() {
			if !matchAny(t.opts.Trusted, p) {
				return true
			}
		}
		return false
	}
	return true
}

// Call applies the call's patch and returns its output item: for an
// apply_patch_call, status "completed" with a summary of the files and
// lines changed, and a nil error. A patch that does not parse or apply, or
// that the path policy refuses, writes nothing: Call returns the failed
// output item with the error that classifies it (see [Tool]).
func (t *Tool) Call(ctx context.Context, call tools.Call) (out responses.Item, err error) {
	defer func() {
		if r := recover(); r != nil {
			t.ws.log.Error("applypatch: panic", "call_id", call.CallID, "panic", r, "stack", string(debug.Stack()))
			err = errors.New("apply_patch: internal error; no file was changed")
		}
		if err != nil {
			err = classify(err)
			out = tools.FailedOutput(call, err)
		}
	}()
	p, err := PatchOf(call)
	if err != nil {
		return responses.Item{}, err
	}
	at, keyed := tools.AttemptFrom(ctx)
	keyed = keyed && at.Key != ""
	if keyed {
		if out, done, err := t.replay(ctx, call, at.Key, p.String()); done {
			return out, err
		}
	}
	verify := func(r *Result) error {
		if t.needsApproval(r) && (call.Approved == nil || call.Approved.Diff != r.Diff()) {
			return errors.New("the files changed after the patch was reviewed, or it was not approved as it is now; nothing was written, send the patch again")
		}
		if keyed {
			return t.record(at.Key, entryOf(p.String(), r))
		}
		return nil
	}
	res, err := t.ws.apply(ctx, p, false, verify)
	if err != nil {
		return responses.Item{}, err
	}
	return tools.TextOutput(call, res.Summary(), false), nil
}

// classify returns err, made to match [tools.ErrSandboxDenied] as well
// when the path policy refused the patch.
func classify(err error) error {
	if errors.Is(err, ErrPath) || errors.Is(err, ErrProtected) || errors.Is(err, ErrReadDenied) {
		return &sandboxDenied{err}
	}
	return err
}

// sandboxDenied is a refusal by the path policy. Its message is the
// refusal's; it matches both the refusal (and its [*OpError]) and
// [tools.ErrSandboxDenied].
type sandboxDenied struct{ err error }

func (e *sandboxDenied) Error() string   { return e.err.Error() }
func (e *sandboxDenied) Unwrap() []error { return []error{e.err, tools.ErrSandboxDenied} }
