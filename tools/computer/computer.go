// Package computer lets a model operate a computer: the Responses API's
// computer-use tool, backed by a [Computer] the application implements (a
// browser driven by an automation library, a virtual machine, a remote
// desktop).
//
// The model looks at screenshots and answers with computer_call items whose
// actions (click, type, scroll, ...) [Tool] performs on the Computer in order;
// the call's output is a screenshot taken afterwards, sent as a PNG (or JPEG)
// data URL.
//
//	t := computer.New(myBrowser, &computer.Options{Environment: computer.Browser, Width: 1280, Height: 800})
//	a := agent.New(client, "gpt-5.4", &agent.Options{Tools: []tools.Tool{t}, Approver: approver})
//
// The computer-use-preview model wants the preview form of the tool
// (Options.Preview) and truncation "auto" in the request.
//
// # Safety checks
//
// A call may carry pending safety checks (the page may be trying to trick
// the model, the action may be sensitive). [Tool.Review] then asks the
// agent's Approver (an approval request of Kind "computer" listing the
// checks); once approved, the checks are acknowledged in the output, which
// the API requires to go on. A declined call performs no action: its output
// is a fresh screenshot with nothing acknowledged.
//
// # Failures
//
// A computer_call_output can only carry a screenshot, so a failed action
// cannot be explained to the model in words: the remaining actions of the
// call are skipped, the failure is reported as progress of the call (an
// event of the run) and logged, and the screenshot shows the model where
// things stand. Only a failed screenshot makes Call return an error.
package computer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Computer is the machine the model operates. Coordinates are pixels of the
// screenshot, from its top-left corner. keys are modifier keys held during
// a pointer action ("SHIFT", "CTRL", ...), usually none.
//
// The Tool calls one method at a time per call, and never two calls of one
// response at once; an implementation shared by several agents must do its
// own locking. Every method must return promptly when ctx is done.
type Computer interface {
	// Screenshot returns an image of the screen, PNG or JPEG encoded.
	Screenshot(ctx context.Context) ([]byte, error)
	// Click clicks button ("left", "right", "wheel", "back" or "forward")
	// at (x, y).
	Click(ctx context.Context, x, y int, button string, keys []string) error
	// DoubleClick double-clicks the left button at (x, y).
	DoubleClick(ctx context.Context, x, y int, keys []string) error
	// Scroll scrolls by (scrollX, scrollY) pixels with the pointer at (x, y).
	Scroll(ctx context.Context, x, y, scrollX, scrollY int, keys []string) error
	// Type types text.
	Type(ctx context.Context, text string) error
	// Keypress presses keys together, e.g. ["CTRL", "L"] or ["ENTER"].
	Keypress(ctx context.Context, keys []string) error
	// Wait waits a moment for the screen to settle (a page to load).
	Wait(ctx context.Context) error
	// Move moves the pointer to (x, y).
	Move(ctx context.Context, x, y int, keys []string) error
	// Drag presses the left button at path[0], moves through path, and
	// releases it at the last point. path has at least two points.
	Drag(ctx context.Context, path []responses.Point, keys []string) error
}

// Environments a computer tool may declare.
const (
	Browser = "browser"
	Mac     = "mac"
	Windows = "windows"
	Linux   = "linux"
	Ubuntu  = "ubuntu"
)

// Tool definition types.
const (
	TypeComputer        = "computer"             // batched actions
	TypeComputerPreview = "computer_use_preview" // one action per call
)

// Options configures a [Tool]. A nil *Options, and every zero field, means
// the documented default.
type Options struct {
	// Preview offers the computer_use_preview tool, whose definition
	// declares the display and environment and whose calls carry one action
	// each (the computer-use-preview model needs it). The default offers the
	// current computer tool ({"type":"computer"}), whose calls carry a batch
	// of actions. Both kinds of calls are accepted either way.
	Preview bool
	// Environment is browser, mac, windows, linux or ubuntu; empty means
	// browser.
	Environment string
	// Width and Height are the display size in pixels; zero means 1024 and
	// 768. Actions outside the display are refused.
	Width, Height int
	// AlwaysAsk consults the Approver before every call, not only before
	// calls with pending safety checks.
	AlwaysAsk bool
	// Logger receives failed actions. Nil discards logs.
	Logger *slog.Logger
}

// Tool is the computer-use tool. It implements [tools.Tool],
// [tools.Reviewer] and [tools.ParallelSafe] (its calls never run
// concurrently with other calls of a response). It is safe for concurrent
// use if its Computer is.
type Tool struct {
	c    Computer
	opts Options
	log  *slog.Logger
}

var (
	_ tools.Tool         = (*Tool)(nil)
	_ tools.Reviewer     = (*Tool)(nil)
	_ tools.ParallelSafe = (*Tool)(nil)
	_ tools.Decliner     = (*Tool)(nil)
)

// New returns a computer-use tool that performs actions on c. A nil opts
// uses the defaults. New panics when c is nil or opts names an unknown
// environment or a negative display size.
func New(c Computer, opts *Options) *Tool {
	if c == nil {
		panic("computer.New: nil Computer")
	}
	t := &Tool{c: c}
	if opts != nil {
		t.opts = *opts
	}
	o := &t.opts
	if o.Environment == "" {
		o.Environment = Browser
	}
	if !slices.Contains([]string{Browser, Mac, Windows, Linux, Ubuntu}, o.Environment) {
		panic(fmt.Sprintf("computer.New: unknown environment %q", o.Environment))
	}
	if o.Width < 0 || o.Height < 0 {
		panic(fmt.Sprintf("computer.New: negative display size %dx%d", o.Width, o.Height))
	}
	if o.Width == 0 {
		o.Width = 1024
	}
	if o.Height == 0 {
		o.Height = 768
	}
	t.log = o.Logger
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return t
}

// Definition returns {"type":"computer"}, or with Options.Preview the
// computer_use_preview definition with the display size and environment.
func (t *Tool) Definition() responses.ToolDefinition {
	if t.opts.Preview {
		return responses.MustToolDefinition(responses.ComputerTool{
			Type: TypeComputerPreview, DisplayWidth: t.opts.Width, DisplayHeight: t.opts.Height,
			Environment: t.opts.Environment,
		})
	}
	return responses.MustToolDefinition(responses.ComputerTool{Type: TypeComputer})
}

// ParallelSafe returns false: the actions of two calls must not interleave.
func (t *Tool) ParallelSafe() bool { return false }

// Review asks for approval when the call has pending safety checks (or
// always, with Options.AlwaysAsk). The request lists the checks in Summary
// and carries the actions as Arguments; its Key is empty, so an approval is
// never remembered for later calls. A call that is not a valid computer_call
// is allowed: Call reports it.
func (t *Tool) Review(ctx context.Context, call tools.Call) (tools.Review, error) {
	cc, err := decode(call)
	if err != nil {
		return tools.Review{Decision: tools.Allow}, nil
	}
	if len(cc.PendingSafetyChecks) == 0 && !t.opts.AlwaysAsk {
		return tools.Review{Decision: tools.Allow}, nil
	}
	actions := actionsOf(cc)
	var b strings.Builder
	b.WriteString(describe(actions))
	for _, sc := range cc.PendingSafetyChecks {
		fmt.Fprintf(&b, "; safety check %s", sc.Code)
		if sc.Message != "" {
			fmt.Fprintf(&b, ": %s", sc.Message)
		}
	}
	return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{
		Kind:      "computer",
		Tool:      "computer",
		CallID:    call.CallID,
		Summary:   b.String(),
		Arguments: responses.MustJSON(actions),
	}}, nil
}

// Call performs the call's actions in order, takes a screenshot and returns
// the computer_call_output, acknowledging the call's pending safety checks
// (the loop calls it only once they are approved; see [Tool.Review]). An
// action that fails or is invalid skips the rest (see the package
// documentation). Call returns an error only when the call item is not a
// computer_call or the screenshot fails.
func (t *Tool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	cc, err := decode(call)
	if err != nil {
		return responses.Item{}, err
	}
	for i, a := range actionsOf(cc) {
		if err := t.perform(ctx, a); err != nil {
			if ctx.Err() != nil {
				return responses.Item{}, ctx.Err()
			}
			msg := fmt.Sprintf("action %d (%s) failed: %v", i+1, a.Type, err)
			t.log.Warn("computer: "+msg, "call_id", call.CallID)
			if call.Progress != nil {
				call.Progress(tools.Progress{Message: msg})
			}
			break
		}
	}
	return t.output(ctx, call, cc.PendingSafetyChecks)
}

// Declined returns the output of a call the user declined: a screenshot of
// the screen as it is, with no action performed and no safety check
// acknowledged. The agent loop uses it instead of a text output, which a
// computer call cannot take.
func (t *Tool) Declined(ctx context.Context, call tools.Call, reason string) (responses.Item, error) {
	if _, err := decode(call); err != nil {
		return responses.Item{}, err
	}
	t.log.Info("computer: call declined", "call_id", call.CallID, "reason", reason)
	return t.output(ctx, call, nil)
}

func (t *Tool) output(ctx context.Context, call tools.Call, acknowledged []responses.SafetyCheck) (responses.Item, error) {
	img, err := t.c.Screenshot(ctx)
	if err != nil {
		return responses.Item{}, fmt.Errorf("screenshot: %w", err)
	}
	if len(img) == 0 {
		return responses.Item{}, errors.New("screenshot: the computer returned an empty image")
	}
	return responses.MustItem(responses.ComputerCallOutput{
		Type:   responses.TypeComputerCallOutput,
		CallID: call.CallID,
		Output: responses.ComputerScreenshot{
			Type:     "computer_screenshot",
			ImageURL: responses.DataURL(img, ""),
		},
		AcknowledgedSafetyChecks: acknowledged,
	}), nil
}

func decode(call tools.Call) (responses.ComputerCall, error) {
	var cc responses.ComputerCall
	if call.Item.Type != responses.TypeComputerCall {
		return cc, fmt.Errorf("computer: cannot handle a %s item", call.Item.Type)
	}
	if err := call.Item.Decode(&cc); err != nil {
		return cc, fmt.Errorf("computer: malformed computer_call: %w", err)
	}
	return cc, nil
}

// actionsOf returns the actions of a call in order: the batch, or the single
// action of the preview form.
func actionsOf(cc responses.ComputerCall) []responses.ComputerAction {
	if len(cc.Actions) > 0 {
		return cc.Actions
	}
	if cc.Action != nil {
		return []responses.ComputerAction{*cc.Action}
	}
	return nil
}

// perform validates and performs one action.
func (t *Tool) perform(ctx context.Context, a responses.ComputerAction) error {
	in := func(x, y int) error {
		if x < 0 || y < 0 || x >= t.opts.Width || y >= t.opts.Height {
			return fmt.Errorf("(%d, %d) is outside the %dx%d display", x, y, t.opts.Width, t.opts.Height)
		}
		return nil
	}
	switch a.Type {
	case "click":
		button := a.Button
		if button == "" {
			button = "left"
		}
		if !slices.Contains([]string{"left", "right", "wheel", "back", "forward"}, button) {
			return fmt.Errorf("unknown button %q", a.Button)
		}
		if err := in(a.X, a.Y); err != nil {
			return err
		}
		return t.c.Click(ctx, a.X, a.Y, button, a.Keys)
	case "double_click":
		if err := in(a.X, a.Y); err != nil {
			return err
		}
		return t.c.DoubleClick(ctx, a.X, a.Y, a.Keys)
	case "scroll":
		if err := in(a.X, a.Y); err != nil {
			return err
		}
		return t.c.Scroll(ctx, a.X, a.Y, a.ScrollX, a.ScrollY, a.Keys)
	case "type":
		return t.c.Type(ctx, a.Text)
	case "keypress":
		if len(a.Keys) == 0 {
			return errors.New("keypress without keys")
		}
		return t.c.Keypress(ctx, a.Keys)
	case "wait":
		return t.c.Wait(ctx)
	case "move":
		if err := in(a.X, a.Y); err != nil {
			return err
		}
		return t.c.Move(ctx, a.X, a.Y, a.Keys)
	case "drag":
		if len(a.Path) < 2 {
			return fmt.Errorf("drag path has %d points, need at least 2", len(a.Path))
		}
		for _, p := range a.Path {
			if err := in(p.X, p.Y); err != nil {
				return err
			}
		}
		return t.c.Drag(ctx, a.Path, a.Keys)
	case "screenshot":
		return nil // every call ends with one
	}
	return fmt.Errorf("unknown action type %q", a.Type)
}

// describe summarises actions for an approval request.
func describe(actions []responses.ComputerAction) string {
	if len(actions) == 0 {
		return "take a screenshot"
	}
	parts := make([]string, len(actions))
	for i, a := range actions {
		switch a.Type {
		case "click", "double_click", "move":
			parts[i] = fmt.Sprintf("%s at (%d, %d)", a.Type, a.X, a.Y)
		case "scroll":
			parts[i] = fmt.Sprintf("scroll (%d, %d) at (%d, %d)", a.ScrollX, a.ScrollY, a.X, a.Y)
		case "type":
			parts[i] = fmt.Sprintf("type %q", a.Text)
		case "keypress":
			parts[i] = "press " + strings.Join(a.Keys, "+")
		case "drag":
			parts[i] = fmt.Sprintf("drag through %d points", len(a.Path))
		default:
			parts[i] = a.Type
		}
	}
	return strings.Join(parts, ", ")
}
