package agent

import (
	"errors"
	"fmt"
	"time"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Result is what a run produced. When a run fails, the error is returned
// together with the partial Result.
type Result struct {
	// Agent names the agent that finished the run (Options.Name), which
	// differs from the one that started it after a handoff.
	Agent string `json:"agent,omitempty"`
	// Text is the final assistant text (or, when the run stopped at a
	// StopAtTools tool, that call's output).
	Text string `json:"text"`
	// Items are the items of this run in order: the model's output items
	// and the outputs sent back for its calls.
	Items []responses.Item `json:"items,omitempty"`
	// ResponseID is the id of the last response; pass it to
	// [WithPreviousResponse] to continue the conversation.
	ResponseID string `json:"response_id,omitempty"`
	// Transcript is the whole conversation in stateless mode (input items,
	// outputs, results); pass it to [WithTranscript] to continue.
	Transcript []responses.Item `json:"transcript,omitempty"`
	// Usage is summed over the run's responses (and its agent tools').
	Usage responses.Usage `json:"usage"`
	// UsageByModel splits Usage by the model each response names (the
	// model asked for when it names none), so that models priced apart
	// (a handoff, an agent tool on a smaller model) can be costed apart.
	UsageByModel map[string]responses.Usage `json:"usage_by_model,omitempty"`
	// Turns is the number of responses created.
	Turns int `json:"turns"`
	// ToolCalls counts the calls that ran (not the declined ones).
	ToolCalls int `json:"tool_calls"`
	// StopReason says why the run ended: "done", "stop_tool", "max_tokens",
	// "max_duration" or "pending_approval".
	StopReason string `json:"stop_reason"`

	// Pending lists the approvals an approver deferred; State continues the
	// run with [Agent.Resume] once they are decided.
	Pending []PendingApproval `json:"pending,omitempty"`
	State   *RunState         `json:"state,omitempty"`
}

// PendingApproval is a deferred approval request.
type PendingApproval struct {
	CallID  string                `json:"call_id"`
	Request tools.ApprovalRequest `json:"request"`
	// Via lists the calls of agent tools ([Agent.AsTool]) the request
	// came through, outermost first; empty for the run's own calls.
	Via []string `json:"via,omitempty"`
}

// Decision answers a [PendingApproval] when resuming.
type Decision struct {
	CallID string `json:"call_id"`
	Approval
}

// RunState is a run's continuation: everything a later run needs to go on
// from where this one stopped, as plain data that marshals to JSON. Every
// run's [Result.State] holds one. A finished run's state continues the
// conversation with a new prompt ([WithState]); a run stopped for approvals
// is resumed with [Agent.Resume]; a run stopped by a budget, MaxTurns, a
// failed request or a cancellation is resumed with [Agent.Resume] and no
// decisions, and sends the outputs it had not sent yet (Input). A new
// Agent (with the same tools) in another process can continue it.
//
// It is also the state of the [Machine] between turns.
//
// Compatibility: Version changes only when a field changes meaning or
// disappears; new fields may be added within a version, and a state
// written by an older version that this package still reads (listed at
// runStateVersion) resumes unchanged.
type RunState struct {
	Version int `json:"version"`
	// Agent names the agent in charge (Options.Name), if any.
	Agent              string                     `json:"agent,omitempty"`
	Model              string                     `json:"model,omitempty"`
	Turns              int                        `json:"turns"`
	PreviousResponseID string                     `json:"previous_response_id,omitempty"`
	Transcript         []responses.Item           `json:"transcript,omitempty"` // stateless mode: the whole conversation so far
	Items              []responses.Item           `json:"items,omitempty"`      // the run's items so far
	Calls              []responses.Item           `json:"calls"`                // a stopped turn's calls and approval requests, in order
	Outputs            map[string]responses.Item  `json:"outputs,omitempty"`    // by call key, for calls already answered
	Pending            []PendingApproval          `json:"pending"`
	Input              []responses.Item           `json:"input,omitempty"` // ready for the next request (outputs not sent yet)
	Usage              responses.Usage            `json:"usage"`
	UsageByModel       map[string]responses.Usage `json:"usage_by_model,omitempty"`
	ToolCalls          int                        `json:"tool_calls"`
	AlwaysApproved     []string                   `json:"always_approved,omitempty"`
	Nested             map[string]*RunState       `json:"nested,omitempty"` // by call key: sub-agents of agent tools waiting for approvals
	// LastUsage is the usage of the conversation's last response: a run
	// that continues this state ([WithState]) compacts before its first
	// request when the context is already past the threshold.
	LastUsage *responses.Usage `json:"last_usage,omitempty"`
	// Progress is the bookkeeping of the run in progress, set only by
	// [Machine.Checkpoint]: what [Machine.Continue] needs to go on with
	// the same run elsewhere (a durable workflow's continue-as-new).
	Progress *RunProgress `json:"progress,omitempty"`
	Params   RunParams    `json:"params,omitzero"`
}

// RunProgress is the bookkeeping of a run in progress; see
// [RunState.Progress].
type RunProgress struct {
	StartTurns        int              `json:"start_turns"`             // RunState.Turns when the run started: MaxTurns counts from here
	Started           time.Time        `json:"started"`                 // when it started: MaxDuration counts from here
	Input             []responses.Item `json:"input,omitempty"`         // the run's first input (a handoff's history)
	LastUsage         *responses.Usage `json:"last_usage,omitempty"`    // the last response's usage (compaction's trigger)
	UserMessages      []responses.Item `json:"user_messages,omitempty"` // the run's user messages (a summary's context)
	NoCompactEndpoint bool             `json:"no_compact_endpoint,omitempty"`
}

// runStateVersion is the version of RunState this package writes. It
// reads version 1 too (the same fields, without Agent).
const runStateVersion = 1

// ErrMaxTurns is wrapped by the error of a run that reached MaxTurns.
var ErrMaxTurns = errors.New("agent: maximum number of turns reached")

// ResponseError reports a response that ended failed or incomplete.
type ResponseError struct {
	ResponseID string
	Status     string                   // "failed", "incomplete" or "cancelled"
	Err        *responses.ResponseError // for failed responses
	Reason     string                   // incomplete_details.reason
}

func (e *ResponseError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("agent: response %s %s: %s: %s", e.ResponseID, e.Status, e.Err.Code, e.Err.Message)
	case e.Reason != "":
		return fmt.Sprintf("agent: response %s %s: %s", e.ResponseID, e.Status, e.Reason)
	}
	return fmt.Sprintf("agent: response %s %s", e.ResponseID, e.Status)
}

// InvariantError reports a request the loop refused to send because a call
// of the previous response had no output, or more than one. It means a bug
// in a tool or in the loop; the run ends.
type InvariantError struct {
	Missing   []string // call keys without an output
	Duplicate []string // call keys with more than one output
}

func (e *InvariantError) Error() string {
	return fmt.Sprintf("agent: refusing to send a request with unanswered calls %v and duplicated outputs %v", e.Missing, e.Duplicate)
}
