package agent

import (
	"encoding/json"
	"time"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// EventSchemaVersion is the version of the JSON form of [Event]. It changes
// only when a field changes meaning or disappears; new fields and kinds may
// be added within a version.
const EventSchemaVersion = 1

// EventKind names what an [Event] reports.
type EventKind string

// Event kinds, in the order a run typically emits them.
//
// The lifecycle events come from the run's [Machine], in this order:
// run_started; then per turn turn_started, the model's events (text and
// reasoning deltas, item_done, hosted_tool, server_event), and for each call
// approval_requested and approval_decided (when it asks), tool_started,
// tool_progress and tool_finished (calls of one turn interleave, and a call
// may start while the model is still streaming), then turn_completed; a
// compacted event comes before the turn_started of the request it
// shortens; run_completed is always last.
const (
	// EventRunStarted: a run starts (or resumes); Turn is the number of
	// turns before it.
	EventRunStarted EventKind = "run_started"
	// EventTurnStarted: a request is about to be sent (Turn is its number).
	EventTurnStarted EventKind = "turn_started"
	// EventTextDelta: Delta is the next piece of the assistant's text.
	EventTextDelta EventKind = "text_delta"
	// EventReasoningDelta: Delta is the next piece of a reasoning summary.
	EventReasoningDelta EventKind = "reasoning_delta"
	// EventStreamRestarted: the stream broke before any output item was
	// complete and was retried; text and reasoning deltas of this turn so far
	// belong to the abandoned attempt and should be discarded.
	EventStreamRestarted EventKind = "stream_restarted"
	// EventItemDone: Item is a finished output item of the model.
	EventItemDone EventKind = "item_done"
	// EventServer: Server is a stream event the loop does not interpret
	// (annotations, ...).
	EventServer EventKind = "server_event"
	// EventHostedTool: Hosted reports progress or the result of a tool the
	// server runs (web search, file search, code interpreter, image
	// generation, hosted shell, hosted MCP).
	EventHostedTool EventKind = "hosted_tool"
	// EventCompacted: the run compacted its context; Item is the compaction
	// item (or the summary message) that replaces the earlier items, and
	// Usage the usage of the compaction request, if any.
	EventCompacted EventKind = "compacted"
	// EventApprovalRequested: Approval.Request is put to the Approver.
	EventApprovalRequested EventKind = "approval_requested"
	// EventApprovalDecided: Approval holds the request and the decision.
	EventApprovalDecided EventKind = "approval_decided"
	// EventToolStarted: Tool describes a call that starts running.
	EventToolStarted EventKind = "tool_started"
	// EventToolProgress: Tool.Progress reports progress of a running call.
	EventToolProgress EventKind = "tool_progress"
	// EventToolFinished: Tool describes a finished (or refused) call with
	// its outcome, duration and output item.
	EventToolFinished EventKind = "tool_finished"
	// EventTurnCompleted: Response finished; Usage is that response's usage.
	EventTurnCompleted EventKind = "turn_completed"
	// EventHandoff: Handoff says which agent hands the run to which; the
	// next turn runs under the new one.
	EventHandoff EventKind = "handoff"
	// EventGuardrailTripped: Tripwire says which guardrail ended the run;
	// run_completed follows with the error.
	EventGuardrailTripped EventKind = "guardrail_tripped"
	// EventRunCompleted: the run ended; Result is its result.
	EventRunCompleted EventKind = "run_completed"
)

// Event is one thing that happened in a run. Which fields are set depends on
// Kind. Events marshal to JSON (one object per event) for logs and UIs.
type Event struct {
	Kind EventKind `json:"kind"`
	Turn int       `json:"turn"`
	Time time.Time `json:"time"`
	// Path names the agent tools an event of a sub-agent came through,
	// outermost first; empty for the run's own events.
	Path []string `json:"path,omitempty"`

	Delta    string           `json:"delta,omitempty"`
	Item     *responses.Item  `json:"item,omitempty"`
	Server   *ServerEvent     `json:"server,omitempty"`
	Hosted   *HostedEvent     `json:"hosted,omitempty"`
	Tool     *ToolEvent       `json:"tool,omitempty"`
	Approval *ApprovalEvent   `json:"approval,omitempty"`
	Handoff  *HandoffEvent    `json:"handoff,omitempty"`
	Tripwire *TripwireError   `json:"tripwire,omitempty"`
	Usage    *responses.Usage `json:"usage,omitempty"`
	Response *ResponseInfo    `json:"response,omitempty"`
	Result   *Result          `json:"result,omitempty"`
}

// HandoffEvent describes a handoff between agents.
type HandoffEvent struct {
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
	CallID string `json:"call_id"`
}

// ServerEvent is a stream event passed through: its type and JSON.
type ServerEvent struct {
	Type string          `json:"type"`
	JSON json.RawMessage `json:"json,omitempty"`
}

// ResponseInfo summarises a finished response.
type ResponseInfo struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Outcome is how a call ended; see [tools.Outcome].
type Outcome = tools.Outcome

// Call outcomes.
const (
	OutcomeOK            = tools.OutcomeOK
	OutcomeError         = tools.OutcomeError
	OutcomeDenied        = tools.OutcomeDenied
	OutcomeSandboxDenied = tools.OutcomeSandboxDenied
	OutcomeTimeout       = tools.OutcomeTimeout
	OutcomeDeferred      = tools.OutcomeDeferred
	OutcomeCanceled      = tools.OutcomeCanceled
	OutcomeUnknown       = tools.OutcomeUnknownTool
)

// ToolEvent describes one call.
type ToolEvent struct {
	CallID  string         `json:"call_id"`
	Type    string         `json:"type"` // call item type
	Name    string         `json:"name"` // tool name (function/custom/MCP) or item type
	Call    responses.Item `json:"call"`
	Outcome Outcome        `json:"outcome,omitempty"`
	Error   string         `json:"error,omitempty"`
	// Err is the error behind a failed outcome, for errors.Is (for example
	// tools.ErrSandboxDenied); nil when the call succeeded.
	Err      error           `json:"-"`
	Duration time.Duration   `json:"duration_ns,omitempty"`
	Output   *responses.Item `json:"output,omitempty"`
	Progress *tools.Progress `json:"progress,omitempty"`
}

// ApprovalEvent describes an approval request and, once decided, its answer.
type ApprovalEvent struct {
	Request  tools.ApprovalRequest `json:"request"`
	Decision *Approval             `json:"decision,omitempty"`
	// Remembered is true when an earlier "approve always" answered it.
	Remembered bool `json:"remembered,omitempty"`
}
