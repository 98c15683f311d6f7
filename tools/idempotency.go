package tools

import "context"

// Idempotent is implemented by tools that say whether running one call twice
// has the same effect as running it once (a read, a lookup). A durable
// driver retries an idempotent tool's call after a crash; a call of any
// other tool (a shell command, a patch) is not run again unless the user
// allows it, and the model is told that it was interrupted. Tools that do
// not implement it are treated as not idempotent.
type Idempotent interface {
	Idempotent() bool
}

// Attempt identifies one execution of a call, for tools that deduplicate
// their effects: Key is the same on every attempt of the call, in any
// process, and differs between calls; Number counts attempts from 1.
type Attempt struct {
	Key    string // idempotency key: derived from the run and the call_id
	Number int
}

type attemptKey struct{}

// WithAttempt returns a copy of ctx that carries a. Drivers that may run a
// call more than once (a durable workflow) set it; the in-process loop runs
// each call once and sets nothing.
func WithAttempt(ctx context.Context, a Attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// AttemptFrom returns the attempt ctx carries, and whether it carries one.
func AttemptFrom(ctx context.Context) (Attempt, bool) {
	a, ok := ctx.Value(attemptKey{}).(Attempt)
	return a, ok
}
