package tools

import (
	"context"
	"errors"
)

// Outcome is how a call ended, as the loop reports it in its events and as
// a program acts on it. The loop never reads output text to learn it: the
// executor says so with the error it returns beside the output (see
// [OutcomeOf]).
type Outcome string

// Call outcomes.
const (
	OutcomeOK            Outcome = "ok"             // ran and succeeded
	OutcomeError         Outcome = "error"          // ran and failed: an error output, a non-zero exit, a patch that does not apply
	OutcomeDenied        Outcome = "denied"         // refused by policy or by the approver; never ran
	OutcomeSandboxDenied Outcome = "sandbox_denied" // blocked by the sandbox or refused by the command policy before running
	OutcomeTimeout       Outcome = "timeout"        // stopped by its time limit
	OutcomeCanceled      Outcome = "canceled"       // stopped by the run's context
	OutcomeUnknownTool   Outcome = "unknown_tool"   // no tool answers to the call's name or type
	OutcomeDeferred      Outcome = "deferred"       // waiting for an approval decision
)

// Sentinel errors an executor wraps (with %w) in the error it returns beside
// its output item, to give the call its [Outcome]. Any other error is
// [OutcomeError].
var (
	// ErrDenied: the call was refused by a policy or a person and never ran.
	ErrDenied = errors.New("denied")
	// ErrSandboxDenied: the sandbox blocked what the call tried to do (a
	// write outside the writable roots, a read of a denied path, the
	// network), or a command policy refused it before it ran.
	ErrSandboxDenied = errors.New("blocked by the sandbox")
	// ErrTimeout: the call ran out of time and was stopped.
	ErrTimeout = errors.New("timed out")
	// ErrUnknownTool: no tool answers to the call.
	ErrUnknownTool = errors.New("unknown tool")
)

// OutcomeOf returns the outcome an error returned by [Tool.Call] stands for:
// [OutcomeOK] for nil; [OutcomeSandboxDenied], [OutcomeDenied],
// [OutcomeTimeout] or [OutcomeUnknownTool] for an error wrapping the
// matching sentinel; [OutcomeTimeout] for context.DeadlineExceeded;
// [OutcomeCanceled] for context.Canceled; [OutcomeError] otherwise.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ErrSandboxDenied):
		return OutcomeSandboxDenied
	case errors.Is(err, ErrDenied):
		return OutcomeDenied
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	case errors.Is(err, ErrUnknownTool):
		return OutcomeUnknownTool
	}
	return OutcomeError
}
