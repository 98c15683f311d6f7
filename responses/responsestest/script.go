package responsestest

import (
	"time"

	"github.com/agentloop/agentloop/responses"
)

// A Turn is one entry of a server's script: what the model answers to one
// create request. It is a [Reply] (static), a [TurnFunc] (computed from the
// request) or a [Model] (computed from the request, for every request from
// then on).
type Turn interface {
	reply(req *responses.Request) Reply
}

// Reply is a scripted answer: the output items of one response and how to
// serve them. The zero Reply is a completed response with no output.
//
// Faults are served first, one per attempt, each once: with two faults the
// first request for this turn gets Faults[0], the retry gets Faults[1], and
// the third attempt gets the reply. A fault does not use up the turn.
type Reply struct {
	// Output is the response's output, in order. Items without an id (and
	// calls without a call_id) get deterministic ones; see [Text].
	Output []responses.Item

	// Status is the response status: "" or "completed", "incomplete" or
	// "failed".
	Status string
	// Error is the error of a failed response; nil means code
	// "server_error" with a generic message.
	Error *responses.ResponseError
	// IncompleteReason is the reason of an incomplete response; "" means
	// "max_output_tokens".
	IncompleteReason string

	// Usage is the response's usage; nil derives plausible numbers from the
	// sizes of the conversation and the output. TotalTokens zero is filled
	// in as input plus output.
	Usage *responses.Usage

	// Faults are injected before the reply, one per attempt (see above).
	Faults []Fault

	// Delay is waited before the reply is sent, and EventDelay between
	// two stream events. Both end early when the client goes away or the
	// server is closed.
	Delay, EventDelay time.Duration
}

func (r Reply) reply(*responses.Request) Reply { return r }

// Output returns a completed Reply with the given output items.
func Output(items ...responses.Item) Reply { return Reply{Output: items} }

// TurnFunc is a turn computed from the request it answers: a scripted model
// that can look at the input. It is called once per attempt (so it sees
// retries) and must not call back into the server's script. The Faults of
// the Reply it returns are counted per turn, as for a static Reply.
type TurnFunc func(req *responses.Request) Reply

func (f TurnFunc) reply(req *responses.Request) Reply { return f(req) }

// Model answers every request that reaches it, for the rest of the server's
// life; it must be the last turn of a script. The server calls it
// concurrently when requests arrive concurrently (one Model may serve a
// thousand agents), so it must be safe for concurrent use. Each call makes
// one reply: only the first of its Faults is used, so a Model that wants a
// retry to succeed returns no fault the second time.
type Model func(req *responses.Request) Reply

func (m Model) reply(req *responses.Request) Reply { return m(req) }
