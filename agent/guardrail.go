package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Guardrails check a run's input, its final output and its tool calls.
// They are built on [Middleware]: input guardrails wrap the first model
// request, output guardrails the run, tool guardrails each call. A check
// that trips ends the run with a [*TripwireError]; a check that fails (its
// own error) ends the run with that error, kept apart from a trip.

// GuardrailResult is what a guardrail check found.
type GuardrailResult struct {
	// Tripped ends the run (or, for a tool guardrail's Reject, refuses
	// the call).
	Tripped bool
	// Info is kept in the [TripwireError] for the program (a score, the
	// matched rule).
	Info any
	// Message explains the trip; for a rejected call it is what the model
	// reads.
	Message string
}

// InputGuardrail checks the input of a run. It runs concurrently with the
// first model request; a trip cancels that request, and no tool runs
// before every input guardrail has passed.
type InputGuardrail struct {
	Name  string
	Check func(ctx context.Context, input []responses.Item) (GuardrailResult, error)
}

// OutputGuardrail checks the final result of a run that completed, before
// Run returns it.
type OutputGuardrail struct {
	Name  string
	Check func(ctx context.Context, res *Result) (GuardrailResult, error)
}

// ToolVerdict is a tool guardrail's decision.
type ToolVerdict int

const (
	// ToolAllow lets the call run (Before) or its output stand (After).
	ToolAllow ToolVerdict = iota
	// ToolReject refuses the call: the model reads the message; the
	// call's outcome is denied. In After, the output is replaced by the
	// message.
	ToolReject
	// ToolEndRun ends the run with a [*TripwireError].
	ToolEndRun
	// ToolReplace (After only) replaces the call's output with Output.
	ToolReplace
)

// ToolCheck is a tool guardrail's answer.
type ToolCheck struct {
	Verdict ToolVerdict
	Message string
	Info    any
	Output  responses.Item // for ToolReplace: the output to send instead
}

// ToolGuardrail checks each call of a local tool before it runs and its
// output after. Either function may be nil.
type ToolGuardrail struct {
	Name   string
	Before func(ctx context.Context, call tools.Call) (ToolCheck, error)
	After  func(ctx context.Context, call tools.Call, out responses.Item) (ToolCheck, error)
}

// TripwireError ends a run whose guardrail tripped.
type TripwireError struct {
	Guardrail string `json:"guardrail"` // its name
	Kind      string `json:"kind"`      // "input", "output" or "tool"
	Message   string `json:"message,omitempty"`
	Info      any    `json:"info,omitempty"`
}

// GuardrailError ends a run whose guardrail failed to decide (its check
// returned an error).
type GuardrailError struct {
	Guardrail string
	Err       error
}

func (e *GuardrailError) Error() string {
	return fmt.Sprintf("agent: guardrail %q: %v", e.Guardrail, e.Err)
}

func (e *GuardrailError) Unwrap() error { return e.Err }

// endsRun reports whether a tool call's error ends the run: a tool
// guardrail tripped or failed.
func endsRun(err error) bool {
	var tw *TripwireError
	var ge *GuardrailError
	return errors.As(err, &tw) || errors.As(err, &ge)
}

func (e *TripwireError) Error() string {
	msg := fmt.Sprintf("agent: %s guardrail %q tripped", e.Kind, e.Guardrail)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// guardrails returns the middleware that runs the agent's guardrails, or
// false when it has none.
func guardrails(o *Options) (Middleware, bool) {
	in, out, tl := o.InputGuardrails, o.OutputGuardrails, o.ToolGuardrails
	if len(in) == 0 && len(out) == 0 && len(tl) == 0 {
		return Middleware{}, false
	}
	var mw Middleware
	mw.Run = func(next RunHandler) RunHandler {
		return func(ctx context.Context, info *RunInfo) (*Result, error) {
			g := &inputGate{open: make(chan struct{})}
			if len(in) == 0 || info.Resumed {
				g.pass()
			}
			res, err := next(context.WithValue(ctx, gateKey{}, g), info)
			if err != nil || res == nil || res.StopReason != "done" {
				return res, err
			}
			for _, og := range out {
				r, cerr := og.Check(ctx, res)
				if cerr != nil {
					return res, &GuardrailError{Guardrail: og.Name, Err: cerr}
				}
				if r.Tripped {
					return res, &TripwireError{Guardrail: og.Name, Kind: "output", Message: r.Message, Info: r.Info}
				}
			}
			return res, nil
		}
	}
	if len(in) > 0 {
		mw.Model = func(next ModelHandler) ModelHandler {
			return func(ctx context.Context, call *ModelCall) (*responses.Response, error) {
				g, _ := ctx.Value(gateKey{}).(*inputGate)
				if g == nil || !g.first() {
					return next(ctx, call)
				}
				return g.check(ctx, in, call, next)
			}
		}
	}
	mw.Tool = func(next ToolHandler) ToolHandler {
		return func(ctx context.Context, call tools.Call) (responses.Item, error) {
			if g, _ := ctx.Value(gateKey{}).(*inputGate); g != nil {
				if err := g.wait(ctx); err != nil {
					return responses.Item{}, err
				}
			}
			for _, tg := range tl {
				if tg.Before == nil {
					continue
				}
				c, err := tg.Before(ctx, call)
				if err != nil {
					return responses.Item{}, &GuardrailError{Guardrail: tg.Name, Err: err}
				}
				switch c.Verdict {
				case ToolReject:
					return responses.Item{}, fmt.Errorf("%s: %w", rejected(tg.Name, c.Message), tools.ErrDenied)
				case ToolEndRun:
					return responses.Item{}, &TripwireError{Guardrail: tg.Name, Kind: "tool", Message: c.Message, Info: c.Info}
				}
			}
			out, err := next(ctx, call)
			for _, tg := range tl {
				if tg.After == nil || err != nil {
					continue
				}
				c, cerr := tg.After(ctx, call, out)
				if cerr != nil {
					return responses.Item{}, &GuardrailError{Guardrail: tg.Name, Err: cerr}
				}
				switch c.Verdict {
				case ToolReject:
					return responses.Item{}, fmt.Errorf("%s: %w", rejected(tg.Name, c.Message), tools.ErrDenied)
				case ToolEndRun:
					return out, &TripwireError{Guardrail: tg.Name, Kind: "tool", Message: c.Message, Info: c.Info}
				case ToolReplace:
					out = c.Output
				}
			}
			return out, err
		}
	}
	return mw, true
}

func rejected(name, msg string) string {
	if msg == "" {
		msg = "refused by the " + name + " guardrail"
	}
	return msg
}

type gateKey struct{}

// inputGate holds the calls of a run until its input guardrails pass.
type inputGate struct {
	once    sync.Once
	started bool
	open    chan struct{}
	mu      sync.Mutex
	err     error // why the gate stays shut
}

// first reports whether this is the run's first model request.
func (g *inputGate) first() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return false
	}
	g.started = true
	return true
}

func (g *inputGate) pass() { g.once.Do(func() { close(g.open) }) }

func (g *inputGate) fail(err error) {
	g.mu.Lock()
	g.err = err
	g.mu.Unlock()
	g.pass()
}

// wait blocks until the input guardrails passed (nil) or tripped.
func (g *inputGate) wait(ctx context.Context) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// check runs the input guardrails concurrently with the first request: a
// trip cancels the request. The request is sent on the calling goroutine.
func (g *inputGate) check(ctx context.Context, in []InputGuardrail, call *ModelCall, next ModelHandler) (*responses.Response, error) {
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	verdict := make(chan error, 1)
	go func() {
		err := runInputGuardrails(ctx, in, call.Request.Input.Items)
		if err != nil {
			g.fail(err)
			cancel()
		} else {
			g.pass()
		}
		verdict <- err
	}()
	resp, err := next(reqCtx, call)
	if gerr := <-verdict; gerr != nil {
		return nil, gerr
	}
	return resp, err
}

func runInputGuardrails(ctx context.Context, in []InputGuardrail, input []responses.Item) error {
	errs := make([]error, len(in))
	var wg sync.WaitGroup
	for i, ig := range in {
		wg.Go(func() {
			r, err := ig.Check(ctx, input)
			switch {
			case err != nil:
				errs[i] = &GuardrailError{Guardrail: ig.Name, Err: err}
			case r.Tripped:
				errs[i] = &TripwireError{Guardrail: ig.Name, Kind: "input", Message: r.Message, Info: r.Info}
			}
		})
	}
	wg.Wait()
	for _, err := range errs { // the first in the guardrails' order
		if err != nil {
			return err
		}
	}
	return nil
}
