package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentloop/agentloop/internal/schema"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// DefaultTimeout bounds one call when [Options.Timeout] is zero.
const DefaultTimeout = 60 * time.Second

// abandonAfter is how long Call waits for a function to return once its
// context is done before it gives up on it.
const abandonAfter = time.Second

// maxOutput is the API's limit on a string output (10 MiB).
const maxOutput = 10 << 20

// validName reports whether name matches ^[a-zA-Z0-9_-]{1,64}$, the API's
// rule for tool names. (A function, not a regular expression compiled at
// package initialisation.)
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Options configures a tool. A nil *Options, and every zero field, means the
// documented default.
type Options struct {
	// NonStrict sends the definition with strict false. By default a
	// function tool derived by [New] is strict whenever its input type can be
	// expressed in the structured-output subset (see the package
	// documentation), and a [NewRaw] tool is strict when its schema already
	// is in that subset. Arguments are validated locally either way.
	NonStrict bool

	// NeedsApproval says whether a call must be approved by a person before
	// it runs; nil means never. Use [Always] for every call or [If] for a
	// typed predicate. It is consulted only for arguments that are valid:
	// invalid ones are rejected by Call without running anything.
	NeedsApproval ApprovalFunc

	// Idempotent says that running a call twice has the effect of running
	// it once, so a durable driver runs a call interrupted by a crash
	// again ([tools.Idempotent]). The function finds the call's
	// idempotency key in its context: tools.AttemptFrom(ctx).
	Idempotent bool

	// Serial marks the tool's calls as unsafe to run concurrently with other
	// calls; the loop then runs them alone. The default is parallel-safe.
	Serial bool

	// Timeout bounds each call. Zero means [DefaultTimeout]; a negative
	// value means no limit beyond the caller's context.
	Timeout time.Duration

	// Grammar constrains the input of a custom tool ([NewCustom]); nil means
	// free text. New and NewRaw panic when it is set.
	Grammar *Grammar

	// Logger receives the stack of a panicking function and warnings about
	// functions that ignore cancellation. Nil discards logs.
	Logger *slog.Logger
}

// Grammar is the format of a custom tool's input: a Lark grammar or a
// regular expression the model's text must match.
type Grammar struct {
	Syntax     string // "lark" or "regex"
	Definition string // the grammar source
}

// ApprovalFunc reports whether a call with the given arguments (a JSON
// object for function tools, a JSON string holding the input for custom
// tools) needs a person's approval. An error makes [Tool.Review] fail.
type ApprovalFunc func(ctx context.Context, args json.RawMessage) (bool, error)

// Always is an [ApprovalFunc] that asks for approval of every call.
func Always(context.Context, json.RawMessage) (bool, error) { return true, nil }

// If returns an [ApprovalFunc] that asks for approval when pred holds for
// the call's arguments decoded into In.
func If[In any](pred func(In) bool) ApprovalFunc {
	return func(_ context.Context, args json.RawMessage) (bool, error) {
		var in In
		if err := json.Unmarshal(args, &in); err != nil {
			return false, fmt.Errorf("decode arguments: %w", err)
		}
		return pred(in), nil
	}
}

// Tool is a Go function offered to the model as a function tool or a custom
// tool. It implements [tools.Tool], [tools.Reviewer] and [tools.ParallelSafe].
// Build one with [New], [NewRaw] or [NewCustom]; the zero Tool is not usable.
// A Tool is safe for concurrent use: calls may run in parallel if the
// function itself allows it. Its configuration is immutable; it only
// remembers, for a few calls, the arguments [Tool.Review] has checked, so
// that [Tool.Call] of the same call item does not parse them again.
type Tool struct {
	name      string
	kind      string // "function" or "custom"
	def       responses.ToolDefinition
	params    json.RawMessage
	strict    bool
	validator *validator // nil for custom tools
	in        reflect.Type
	defaults  *schema.Defaults // of New tools whose input type has defaults
	// prepare decodes the input and returns the call of the function.
	prepare    func(input string) (invocation, error)
	approval   ApprovalFunc
	serial     bool
	idempotent bool
	timeout    time.Duration
	logger     *slog.Logger

	checked checkedArgs // arguments Review checked, for Call
}

var (
	_ tools.Tool         = (*Tool)(nil)
	_ tools.Reviewer     = (*Tool)(nil)
	_ tools.ParallelSafe = (*Tool)(nil)
)

// New returns a function tool that calls fn with the call's arguments
// decoded into In, a struct (or a map with string keys). The parameters
// schema is derived from In: field names from json tags, descriptions,
// enums, defaults and other keywords from jsonschema tags (see the package
// documentation). Arguments are validated against that schema before fn
// runs. Out is sent to the model as text when it is a string, as content
// parts when it is a []responses.ContentPart, and as JSON otherwise.
//
// A nil opts uses the defaults. New panics when name does not match
// ^[a-zA-Z0-9_-]{1,64}$, when no schema can be derived from In (channels,
// functions, non-object types), or when opts sets a Grammar.
func New[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error), opts *Options) *Tool {
	o := options(name, opts)
	if o.Grammar != nil {
		panic(fmt.Sprintf("function: tool %q: Grammar is for custom tools (NewCustom)", name))
	}
	if fn == nil {
		panic(fmt.Sprintf("function: tool %q: nil function", name))
	}
	d := deriveSchema(name, reflect.TypeFor[In](), !o.NonStrict, o.Logger)
	t := newFunction(name, description, d.schema, d.strict, o, func(args string) (invocation, error) {
		var in In
		if err := json.Unmarshal([]byte(args), &in); err != nil {
			return nil, err
		}
		return func(ctx context.Context) (any, error) { return fn(ctx, in) }, nil
	})
	t.in, t.defaults = reflect.TypeFor[In](), d.defaults
	return t
}

// deriveSchema derives the schema and turns a reflection panic into one that
// names the tool.
func deriveSchema(name string, t reflect.Type, strict bool, logger *slog.Logger) derived {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if !strings.HasPrefix(msg, "function: ") {
				msg = fmt.Sprintf("function: cannot derive a schema from %s: %s", t, msg)
			}
			panic(fmt.Sprintf("%s (tool %q)", msg, name))
		}
	}()
	d := schemaFor(t, strict)
	if strict && !d.strict {
		logger.Debug("function tool is not strict", "tool", name, "reason", d.reason)
	}
	return d
}

// NewRaw returns a function tool whose parameters schema is given as JSON
// (for example a schema from another system) and whose function receives the
// arguments as JSON after they have been validated against it. The result is
// sent like Out in [New]: a string as text, a []responses.ContentPart as
// parts, anything else as JSON.
//
// The definition is strict when the schema is already in the
// structured-output subset and opts does not say NonStrict; NewRaw does not
// rewrite the schema. A nil opts uses the defaults. NewRaw panics when name
// is invalid, when schema is not a JSON Schema object whose type is
// "object", or when opts sets a Grammar.
func NewRaw(name, description string, schema json.RawMessage, fn func(ctx context.Context, args json.RawMessage) (any, error), opts *Options) *Tool {
	o := options(name, opts)
	if o.Grammar != nil {
		panic(fmt.Sprintf("function: tool %q: Grammar is for custom tools (NewCustom)", name))
	}
	if fn == nil {
		panic(fmt.Sprintf("function: tool %q: nil function", name))
	}
	var head struct {
		Type any `json:"type"`
	}
	if err := json.Unmarshal(schema, &head); err != nil {
		panic(fmt.Sprintf("function: tool %q: schema is not a JSON object: %v", name, err))
	}
	if head.Type != "object" {
		panic(fmt.Sprintf("function: tool %q: schema type must be \"object\", got %v", name, head.Type))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, schema); err != nil {
		panic(fmt.Sprintf("function: tool %q: schema: %v", name, err))
	}
	params := json.RawMessage(buf.Bytes())
	strict := !o.NonStrict && isStrictSchema(params)
	return newFunction(name, description, params, strict, o, func(args string) (invocation, error) {
		return func(ctx context.Context) (any, error) { return fn(ctx, json.RawMessage(args)) }, nil
	})
}

// NewCustom returns a custom tool: the model writes free text (constrained
// by opts.Grammar when set) and fn receives it verbatim; fn's result is the
// text of the custom_tool_call_output. A nil opts uses the defaults.
// NewCustom panics when name is invalid or opts.Grammar is malformed.
func NewCustom(name, description string, fn func(ctx context.Context, input string) (string, error), opts *Options) *Tool {
	o := options(name, opts)
	if fn == nil {
		panic(fmt.Sprintf("function: tool %q: nil function", name))
	}
	def := responses.CustomTool{Type: "custom", Name: name, Description: description}
	if g := o.Grammar; g != nil {
		if g.Syntax != "lark" && g.Syntax != "regex" {
			panic(fmt.Sprintf("function: tool %q: grammar syntax must be \"lark\" or \"regex\", got %q", name, g.Syntax))
		}
		if strings.TrimSpace(g.Definition) == "" {
			panic(fmt.Sprintf("function: tool %q: empty grammar definition", name))
		}
		def.Format = responses.MustJSON(map[string]string{"type": "grammar", "syntax": g.Syntax, "definition": g.Definition})
	}
	t := tool(name, "custom", o)
	t.def = responses.MustToolDefinition(def)
	t.prepare = func(input string) (invocation, error) {
		return func(ctx context.Context) (any, error) { return fn(ctx, input) }, nil
	}
	return t
}

func options(name string, opts *Options) Options {
	if !validName(name) {
		panic(fmt.Sprintf("function: invalid tool name %q: want 1 to 64 letters, digits, '_' or '-'", name))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Grammar != nil {
		g := *o.Grammar
		o.Grammar = &g
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.Timeout == 0:
		o.Timeout = DefaultTimeout
	case o.Timeout < 0:
		o.Timeout = 0
	}
	return o
}

func tool(name, kind string, o Options) *Tool {
	return &Tool{name: name, kind: kind, approval: o.NeedsApproval, serial: o.Serial, idempotent: o.Idempotent, timeout: o.Timeout, logger: o.Logger}
}

// invocation is one call of the function with its input decoded.
type invocation func(ctx context.Context) (any, error)

func newFunction(name, description string, params json.RawMessage, strict bool, o Options, prepare func(string) (invocation, error)) *Tool {
	v, err := compile(name, params)
	if err != nil {
		panic(fmt.Sprintf("function: tool %q: %v", name, err))
	}
	t := tool(name, "function", o)
	t.params, t.strict, t.validator, t.prepare = params, strict, v, prepare
	t.def = responses.MustToolDefinition(responses.FunctionTool{Type: "function", Name: name, Description: description, Parameters: params, Strict: strict})
	return t
}

// Name returns the tool's name.
func (t *Tool) Name() string { return t.name }

// Definition returns the tool's entry for the request's tools array: a
// "function" definition with its parameters schema, or a "custom" one.
func (t *Tool) Definition() responses.ToolDefinition { return t.def }

// Schema returns the parameters schema of a function tool, or nil for a
// custom tool. The caller must not modify it.
func (t *Tool) Schema() json.RawMessage { return t.params }

// Strict reports whether the definition is sent with strict true.
func (t *Tool) Strict() bool { return t.strict }

// ParallelSafe reports whether calls may run concurrently with other calls
// (true unless [Options.Serial] was set).
func (t *Tool) ParallelSafe() bool { return !t.serial }

// Idempotent reports [Options.Idempotent].
func (t *Tool) Idempotent() bool { return t.idempotent }

var _ tools.Idempotent = (*Tool)(nil)

// Review asks for approval (tools.Ask) when [Options.NeedsApproval] says so
// for the call's arguments, and allows the call otherwise. Calls whose
// arguments are invalid are allowed: Call rejects them without running the
// function. NeedsApproval and the approval request see the arguments with
// defaults filled in, that is, what the function will get. The request has
// Kind "function" or "custom", a one-line summary and the Key
// "function:<name>" or "custom:<name>" (what "approve always" remembers).
func (t *Tool) Review(ctx context.Context, call tools.Call) (tools.Review, error) {
	if t.approval == nil {
		return tools.Review{Decision: tools.Allow}, nil
	}
	input, caller, err := t.input(call)
	if err != nil {
		return tools.Review{Decision: tools.Allow}, nil
	}
	input, err = t.arguments(input)
	if err != nil {
		return tools.Review{Decision: tools.Allow}, nil
	}
	t.checked.put(call.CallID, call.Item.Raw(), input, caller)
	args := json.RawMessage(input)
	if t.kind == "custom" {
		args = responses.MustJSON(input)
	}
	ask, err := t.approval(ctx, args)
	if err != nil {
		return tools.Review{}, fmt.Errorf("%s %s: needs approval: %w", t.kind, t.name, err)
	}
	if !ask {
		return tools.Review{Decision: tools.Allow}, nil
	}
	return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{
		Kind:      t.kind,
		Tool:      t.name,
		CallID:    call.CallID,
		Summary:   summary(t.name, input),
		Arguments: args,
		Key:       t.kind + ":" + t.name,
	}}, nil
}

// arguments validates the arguments of a function call and fills in
// defaults; the input of a custom tool call is returned as it is.
func (t *Tool) arguments(input string) (string, error) {
	if t.validator == nil {
		return input, nil
	}
	doc, err := t.validator.validate([]byte(input))
	if err != nil {
		return "", fmt.Errorf("invalid arguments: %w", err)
	}
	if t.defaults != nil && t.defaults.Apply(doc, t.in) {
		b, err := json.Marshal(doc)
		if err != nil {
			return "", fmt.Errorf("apply defaults: %w", err)
		}
		return string(b), nil
	}
	return input, nil
}

// summary is the one line an approver sees: the tool name and its compacted
// arguments (or its input with whitespace collapsed), cut at 200 characters.
func summary(name, input string) string {
	var s string
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(input)) == nil {
		s = buf.String()
	} else {
		s = strings.Join(strings.Fields(input), " ")
	}
	const max = 200
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return name + " " + s
}

// input returns the arguments of a function call or the input of a custom
// tool call, and the call's caller field.
func (t *Tool) input(call tools.Call) (string, json.RawMessage, error) {
	switch {
	case t.kind == "function" && call.Type == responses.TypeFunctionCall:
		var fc responses.FunctionCall
		if err := call.Item.Decode(&fc); err != nil {
			return "", nil, fmt.Errorf("decode function_call: %w", err)
		}
		args := fc.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		return args, fc.Caller, nil
	case t.kind == "custom" && call.Type == responses.TypeCustomToolCall:
		var cc responses.CustomToolCall
		if err := call.Item.Decode(&cc); err != nil {
			return "", nil, fmt.Errorf("decode custom_tool_call: %w", err)
		}
		return cc.Input, cc.Caller, nil
	}
	return "", nil, fmt.Errorf("%s tool %q cannot answer a %s item", t.kind, t.name, call.Type)
}

// Call runs the function for one function_call (or custom_tool_call) item
// and returns its output item: function_call_output (custom_tool_call_output)
// with the same call_id and caller.
//
// Tool failures are returned as errors, which the loop sends to the model
// with [tools.FailedOutput] as "error: <message>": arguments that are not
// valid JSON or do not match the schema (the function does not run; the
// message names the field), an error returned by the function, a timeout, a
// panic (recovered; its stack goes to the logger, the model only learns that
// the tool failed), and a result that cannot be encoded or exceeds 10 MiB.
// When ctx itself is done, Call returns ctx.Err() so that the run stops.
//
// The function runs on its own goroutine under a context that is cancelled
// at the timeout. A function that does not return within a second of its
// context being done is abandoned (and a warning logged) so that Call always
// returns promptly.
func (t *Tool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	var input string
	var caller json.RawMessage
	if c, ok := t.checked.take(call.CallID, call.Item.Raw()); ok {
		input, caller = c.input, c.caller // Review decoded, validated and completed them
	} else {
		var err error
		if input, caller, err = t.input(call); err != nil {
			return responses.Item{}, err
		}
		if input, err = t.arguments(input); err != nil {
			return responses.Item{}, err
		}
	}
	invoke, err := t.prepare(input)
	if err != nil {
		return responses.Item{}, fmt.Errorf("invalid arguments: %w", err)
	}
	out, err := t.run(ctx, call.CallID, invoke)
	if err != nil {
		return responses.Item{}, err
	}
	output, err := encodeOutput(out)
	if err != nil {
		return responses.Item{}, err
	}
	// The output is fresh, valid JSON: written once into the item, not
	// marshalled and checked again.
	typ := responses.TypeFunctionCallOutput
	if call.Type == responses.TypeCustomToolCall {
		typ = responses.TypeCustomToolCallOutput
	}
	return responses.OutputItem(typ, call.CallID, output, caller), nil
}

type result struct {
	out      any
	err      error
	panicked bool
}

var errPanic = errors.New("the tool crashed (internal error); its details were logged")

func (t *Tool) run(ctx context.Context, callID string, invoke invocation) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if t.timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, t.timeout)
	}
	defer cancel()
	done := make(chan result, 1)
	go func() {
		returned := false
		defer func() {
			if returned {
				return
			}
			if v := recover(); v != nil {
				t.logger.Error("function tool panicked", "tool", t.name, "call_id", callID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				done <- result{panicked: true}
				return
			}
			// runtime.Goexit, for example t.FailNow in a test's tool.
			done <- result{err: errors.New("the tool exited without a result")}
		}()
		out, err := invoke(cctx)
		returned = true
		done <- result{out: out, err: err}
	}()
	var r result
	select {
	case r = <-done:
	case <-cctx.Done():
		timer := time.NewTimer(abandonAfter)
		defer timer.Stop()
		select {
		case r = <-done:
		case <-timer.C:
			t.logger.Warn("function tool ignored cancellation; abandoned", "tool", t.name, "call_id", callID, "waited", abandonAfter)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w after %v", tools.ErrTimeout, t.timeout)
		}
	}
	switch {
	case r.panicked:
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, errPanic
	case r.err == nil:
		return r.out, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case cctx.Err() != nil:
		if errors.Is(r.err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w after %v", tools.ErrTimeout, t.timeout)
		}
		return nil, fmt.Errorf("%w after %v: %w", tools.ErrTimeout, t.timeout, r.err)
	}
	return nil, r.err
}
