package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Machine is the loop's rules as a deterministic state machine, in the
// spirit of etcd's raft RawNode: a driver tells it what happened (an
// [Observation], with the time), and it answers with the [Action]s to take
// and the events to emit. It does no I/O, starts no goroutine, reads no
// clock and never depends on map order; the same observations give the same
// actions. Every rule of a run lives here: max turns, budgets, the request
// to send (chained or stateless), when to compact, which calls to run (with
// their order, parallel or alone, and approval), what to ask the approver,
// deferred approvals, stop-at-tools, one output per call in call order,
// cancellation outputs, and the final [Result].
//
// [Agent.Run], [Agent.Stream] and [Agent.Resume] drive a Machine in process;
// a durable workflow drives the same Machine with each action an activity.
//
// A driver:
//
//  1. calls [Machine.Start] (or [Machine.Resume]) and performs the actions;
//  2. performs each action and reports its result with [Machine.Step]:
//     [ListTools] → [ToolsListed], [Compact] → [Compacted], [SendRequest] →
//     [CallStreamed] for each call item as it completes (optional), then
//     [ResponseDone] or [RequestFailed]; [ReviewCall] → [Reviewed];
//     [AskApproval] → [Approved]; [RunCall] and [DeclineCall] → [CallDone];
//  3. once a response is done and every call action it was given has been
//     reported, reports [TurnEnded];
//  4. stops at [Finish].
//
// Call actions ([ReviewCall], [AskApproval], [RunCall], [DeclineCall]) may
// be performed concurrently and reported in any order: results that depend
// on calls are ordered by the calls' position in the response. A Machine is
// not safe for concurrent use; a driver that performs calls concurrently
// serialises its calls to Step.
type Machine struct {
	cfg Config
	st  RunState

	start    time.Time
	turnBase int
	always   map[string]bool     // approval keys granted "always"
	decided  map[string]Approval // decisions given to Resume, by call key
	resuming bool
	finished bool

	// The tools of the current turn.
	tools  []ToolInfo
	defs   []responses.ToolDefinition // their definitions, for requests
	routes map[string]int             // route key → index in tools
	names  []string

	runInput []responses.Item // the input the run started with
	unsent   []responses.Item // outputs the continued conversation had not sent yet

	// The current turn.
	handoff  *callState       // the turn's first handoff call
	ended    error            // a tool guardrail ended the run
	input    []responses.Item // the new input of the request in flight
	req      *responses.Request
	attempts int // requests of this turn that broke and were asked again
	resp     *responses.Response
	calls    []*callState // in the order they were seen
	byKey    map[string]*callState

	compact compactState

	// silent: nobody reads the events (a quiet in-process run), so the
	// Machine gives no Emit actions.
	silent bool
}

// Config is what the loop's rules read of the agent in charge: plain data,
// so a driver can hand a later turn to another agent. [Agent.Config]
// returns an Agent's.
type Config struct {
	// Agent names the agent in charge; it is recorded in the RunState.
	Agent             string
	Model             string
	Instructions      string
	Request           responses.Request // the other create parameters; see Options.Request
	MaxTurns          int               // zero means 32, negative no bound
	MaxParallel       int               // zero means 8
	ParallelToolCalls *bool
	Stateless         bool
	StopAtTools       []string
	MaxTotalTokens    int64
	MaxDuration       time.Duration
	Compaction        Compaction
}

// ToolInfo describes one tool of a turn to the Machine.
type ToolInfo struct {
	Definition responses.ToolDefinition
	// Exclusive: the tool's calls must run alone ([tools.ParallelSafe]
	// said false).
	Exclusive bool
	// Reviews: the tool has a policy to consult before a call runs
	// ([tools.Reviewer]).
	Reviews bool
	// Declines: the tool builds its own output for a refused call
	// ([tools.Decliner]).
	Declines bool
	// Handoff names the agent a call of this tool hands the run to
	// ([Handoff]); the Machine answers such calls itself.
	Handoff string
	// Idempotent: running a call twice has the effect of running it once
	// ([tools.Idempotent]); a durable driver may retry it after a crash.
	Idempotent bool
}

// Name returns the name calls use for the tool: the definition's name for
// function and custom tools, else its type.
func (t ToolInfo) Name() string {
	if t.Definition.Name != "" {
		return t.Definition.Name
	}
	return t.Definition.Type
}

// An Observation is something that happened, reported to [Machine.Step].
type Observation interface{ observation() }

// An Action is something the driver must do, or an event to emit.
type Action interface{ action() }

// Observations.
type (
	// ToolsListed answers [ListTools]: the tools of the coming turn, or
	// the error that kept them from being listed.
	ToolsListed struct {
		Tools []ToolInfo
		Err   error
	}
	// Compacted answers [Compact]. Output is the compact endpoint's
	// output, or Summary the response of the summarising turn; Usage is
	// the compaction's usage; NoEndpoint says the server has no compact
	// endpoint (the driver then tried the summary). Err is set when both
	// failed or the run ended.
	Compacted struct {
		Output     []responses.Item
		Summary    *responses.Response
		Usage      *responses.Usage
		NoEndpoint bool
		Err        error
	}
	// CallStreamed reports a call item that is complete in the stream,
	// before the response is: its call may start at once.
	CallStreamed struct{ Item responses.Item }
	// ResponseDone reports the complete response of [SendRequest].
	ResponseDone struct{ Response *responses.Response }
	// RequestFailed reports a [SendRequest] that produced no response.
	// StreamBroke says the stream broke after output was delivered and the
	// transport's retry budget allows another request, so the turn may be
	// asked again if none of it was acted on (twice at most). The driver
	// has waited for the calls it had started.
	RequestFailed struct {
		Err         error
		StreamBroke bool
	}
	// Reviewed answers [ReviewCall] with the tool's verdict, or Err.
	Reviewed struct {
		CallID string
		Review tools.Review
		Err    error
	}
	// Approved answers [AskApproval]. Err is an approver's failure;
	// Canceled says the run ended while it was asked.
	Approved struct {
		CallID   string
		Approval Approval
		Err      error
		Canceled bool
	}
	// CallDone answers [RunCall] or [DeclineCall] with what the tool
	// returned. Canceled says the run's context ended before the call
	// returned; NotRun that the call was not started because of it.
	CallDone struct {
		CallID   string
		Output   responses.Item
		Err      error
		Duration time.Duration
		Canceled bool
		NotRun   bool
		// Usage is what an agent tool's sub-agent used; it counts toward
		// the run's usage and budget. UsageByModel splits it by model
		// (a driver that cannot tell leaves it nil: Usage then counts
		// under the model "").
		Usage        *responses.Usage
		UsageByModel map[string]responses.Usage
	}
	// TurnEnded reports that every call action of the turn was reported
	// after its [ResponseDone]. Err is the run's context error if it
	// ended meanwhile.
	TurnEnded struct{ Err error }
	// HandedOff answers [HandOff] with the configuration of the agent now
	// in charge. History, when not nil, is what that agent's first request
	// sends in place of the chain (a filtered history). Err ends the run.
	HandedOff struct {
		Config  Config
		History []responses.Item
		Err     error
	}
)

func (ToolsListed) observation()   {}
func (Compacted) observation()     {}
func (CallStreamed) observation()  {}
func (ResponseDone) observation()  {}
func (RequestFailed) observation() {}
func (Reviewed) observation()      {}
func (Approved) observation()      {}
func (CallDone) observation()      {}
func (TurnEnded) observation()     {}
func (HandedOff) observation()     {}

// Actions.
type (
	// ListTools asks for the tools of the coming turn ([ToolsListed]).
	ListTools struct{}
	// Compact asks to compact the conversation before the next request:
	// through the compact endpoint with Endpoint when it is set, falling
	// back to the summarising request Summary when the server has no such
	// endpoint; else with Summary.
	Compact struct {
		Endpoint *responses.CompactRequest
		Summary  *responses.Request
	}
	// SendRequest asks to send Request (streamed or not, as the driver
	// does) and report [CallStreamed]s, then [ResponseDone] or
	// [RequestFailed]. Retry is true when it asks again for a turn whose
	// stream broke.
	SendRequest struct {
		Request *responses.Request
		Turn    int
		Retry   bool
	}
	// ReviewCall asks for the verdict of the call's tool ([Reviewed]).
	ReviewCall struct{ Call tools.Call }
	// AskApproval asks the approver ([Approved]).
	AskApproval struct {
		CallID  string
		Request tools.ApprovalRequest
		Call    tools.Call // the call asking
	}
	// RunCall asks to run an approved call ([CallDone]). Exclusive calls
	// run alone; the others run together, at most MaxParallel at once.
	RunCall struct {
		Call      tools.Call
		Exclusive bool
		// Resume, for the call of an agent tool whose sub-agent stopped for
		// approvals, is what the sub-agent resumes with.
		Resume *NestedResume
	}
	// DeclineCall asks the call's tool for its output for a refused call
	// ([tools.Decliner]) and to report it with [CallDone].
	DeclineCall struct {
		Call   tools.Call
		Reason string
	}
	// HandOff asks to switch the run to the agent named To (the call
	// CallID asked for it, with Arguments): run the handoff's callback,
	// filter History if the handoff has a filter, and report [HandedOff].
	HandOff struct {
		To        string
		CallID    string
		Arguments json.RawMessage
		History   []responses.Item
	}
	// Emit is an event to hand to the run's consumer.
	Emit struct{ Event Event }
	// Finish ends the run with its result and error.
	Finish struct {
		Result *Result
		Err    error
	}
)

func (ListTools) action()   {}
func (Compact) action()     {}
func (SendRequest) action() {}
func (ReviewCall) action()  {}
func (AskApproval) action() {}
func (RunCall) action()     {}
func (DeclineCall) action() {}
func (HandOff) action()     {}
func (Emit) action()        {}
func (Finish) action()      {}

type callPhase int

const (
	callReviewing callPhase = iota
	callAsking
	callRunning
	callDeclining
	callDeferred
	callDone
)

// callState is one call of the current turn.
type callState struct {
	call    tools.Call
	tool    int // index in Machine.tools; -1 for approval requests and unknown tools
	phase   callPhase
	output  responses.Item
	ran     bool
	request tools.ApprovalRequest // what the approver is asked
	nested  *RunState             // an agent tool's sub-agent waiting for approvals
	cause   error                 // why a refused call was refused, if known
	outcome Outcome               // of a declined call
	reason  string                // of a declined call
}

// compactState is a run's compaction bookkeeping.
type compactState struct {
	last       *responses.Usage // usage of the last response
	users      []responses.Item // the user messages sent in this run, for summaries
	noEndpoint bool             // the server has no compact endpoint
}

// NewMachine returns a Machine for a new run under cfg. A nil st starts a
// conversation afresh; otherwise st (as a finished run's [Result.State]
// gives it) says how the conversation continues: its last response id or
// transcript, the approvals granted always, the per-run parameters, and
// the outputs it had not sent (st.Input), which the first request sends
// before the new input.
func NewMachine(cfg Config, st *RunState) *Machine {
	m := &Machine{cfg: cfg.withDefaults()}
	m.st.Version = runStateVersion
	if st != nil {
		m.st.PreviousResponseID = st.PreviousResponseID
		m.st.Transcript = slices.Clone(st.Transcript)
		m.st.Params = st.Params
		m.st.AlwaysApproved = slices.Clone(st.AlwaysApproved)
		m.st.Agent = st.Agent
		m.unsent = slices.Clone(st.Input)
		m.compact.last = copyUsage(st.LastUsage) // the context as the last run left it
	}
	for _, k := range m.st.AlwaysApproved {
		m.setAlways(k)
	}
	if m.st.Agent == "" {
		m.st.Agent = m.cfg.Agent
	}
	return m
}

func (m *Machine) setAlways(k string) {
	if m.always == nil {
		m.always = map[string]bool{}
	}
	m.always[k] = true
}

func (c Config) withDefaults() Config {
	switch {
	case c.MaxTurns == 0:
		c.MaxTurns = 32
	case c.MaxTurns < 0:
		c.MaxTurns = math.MaxInt
	}
	if c.MaxParallel <= 0 {
		c.MaxParallel = 8
	}
	return c
}

// SetConfig hands the rest of the run to another agent's configuration,
// from the next decision on.
func (m *Machine) SetConfig(cfg Config) {
	m.cfg = cfg.withDefaults()
	m.st.Agent = m.cfg.Agent
}

// SetParams sets the per-run request parameters, replacing those that are
// set in p.
func (m *Machine) SetParams(p RunParams) { m.st.Params = m.st.Params.merge(p) }

// Grant records approval keys granted "always" before the run starts.
func (m *Machine) Grant(keys ...string) {
	for _, k := range keys {
		m.grant(k)
	}
}

func (m *Machine) grant(k string) {
	if k == "" || m.always[k] {
		return
	}
	m.setAlways(k)
	i, _ := slices.BinarySearch(m.st.AlwaysApproved, k)
	m.st.AlwaysApproved = slices.Insert(m.st.AlwaysApproved, i, k)
}

// Start begins a run whose first request sends input after what the
// conversation already holds.
func (m *Machine) Start(now time.Time, input []responses.Item) []Action {
	m.start = now
	slices.Sort(m.st.AlwaysApproved)
	if len(m.unsent) > 0 {
		// The conversation stopped with outputs it had not sent (a budget,
		// a cancellation): they answer calls of the response it chains to,
		// so they go first.
		input = append(m.unsent, input...)
		m.unsent = nil
	}
	m.runInput = slices.Clone(input)
	return m.beginTurn([]Action{m.emit(Event{Kind: EventRunStarted})}, slices.Clone(input))
}

// Resume continues a run that stopped (pending approvals, a budget, a
// failed or canceled turn) from its state, applying decisions (one per
// pending call). The Machine must have been made with NewMachine(cfg, nil).
func (m *Machine) Resume(now time.Time, st *RunState, decisions []Decision) []Action {
	return m.resume(now, st, decisions, false)
}

func (m *Machine) resume(now time.Time, st *RunState, decisions []Decision, cont bool) []Action {
	m.start = now
	if st == nil {
		return m.finish(nil, errors.New("agent: resume: nil state"))
	}
	if st.Version != runStateVersion {
		return m.finish(nil, fmt.Errorf("agent: resume: state version %d, want %d", st.Version, runStateVersion))
	}
	params := m.st.Params
	m.st = *st
	m.st.Version = runStateVersion
	m.st.Params = st.Params.merge(params)
	m.st.Transcript = slices.Clone(st.Transcript)
	m.st.Items = slices.Clone(st.Items)
	m.st.AlwaysApproved = slices.Clone(st.AlwaysApproved)
	m.st.UsageByModel = maps.Clone(st.UsageByModel)
	if m.st.Agent == "" {
		m.st.Agent = m.cfg.Agent
	}
	for _, k := range st.AlwaysApproved {
		m.setAlways(k)
	}
	slices.Sort(m.st.AlwaysApproved)
	m.turnBase = st.Turns
	m.st.Progress = nil
	m.st.LastUsage = nil // kept in m.compact: State gives it back
	m.compact.last = copyUsage(st.LastUsage)
	started, continued := m.emit(Event{Kind: EventRunStarted}), false
	if p := st.Progress; cont && p != nil {
		// The same run goes on: budgets count from its start, and it
		// does not start again.
		m.turnBase, m.start = p.StartTurns, p.Started
		m.runInput = slices.Clone(p.Input)
		m.compact = compactState{last: p.LastUsage, users: slices.Clone(p.UserMessages), noEndpoint: p.NoCompactEndpoint}
		started, continued = nil, true
	}
	m.decided = make(map[string]Approval, len(decisions))
	for _, d := range decisions {
		m.decided[d.CallID] = d.Approval
	}
	for _, p := range st.Pending {
		if _, ok := m.decided[p.CallID]; !ok {
			return m.finish(nil, fmt.Errorf("agent: resume: no decision for pending call %s", p.CallID))
		}
	}
	var acts []Action
	if started != nil {
		acts = append(acts, started)
	}
	if len(st.Calls) == 0 {
		// Stopped by a budget, MaxTurns or a failure, or between turns:
		// the next input is ready.
		return m.beginTurnKeepUsers(acts, slices.Clone(st.Input), continued)
	}
	m.resuming = true
	m.input = nil
	return append(acts, ListTools{})
}

// Checkpoint returns the state between turns together with the run's
// progress ([RunState.Progress]), for [Machine.Continue]: a driver that
// must move a run elsewhere mid-way (a durable workflow that continues as
// new) calls it when the Machine asks for [ListTools].
func (m *Machine) Checkpoint() *RunState {
	st := m.State()
	st.Progress = &RunProgress{
		StartTurns:        m.turnBase,
		Started:           m.start,
		Input:             slices.Clone(m.runInput),
		LastUsage:         m.compact.last,
		UserMessages:      slices.Clone(m.compact.users),
		NoCompactEndpoint: m.compact.noEndpoint,
	}
	return st
}

// Continue goes on with a run from a [Machine.Checkpoint]: the same run,
// with its turn and time budgets counted from its start and its compaction
// bookkeeping kept. The Machine must have been made with NewMachine(cfg,
// nil).
func (m *Machine) Continue(now time.Time, st *RunState) []Action {
	return m.resume(now, st, nil, true)
}

// State returns the run's continuation: what a later run needs to go on
// from here ([WithState], [Agent.Resume]). It shares nothing with the
// Machine.
func (m *Machine) State() *RunState {
	st := m.st
	st.Model = m.cfg.Model
	st.Transcript = slices.Clone(st.Transcript)
	st.Items = slices.Clone(st.Items)
	st.AlwaysApproved = slices.Clone(st.AlwaysApproved)
	st.UsageByModel = maps.Clone(st.UsageByModel)
	st.LastUsage = copyUsage(m.compact.last) // nil once compacted, until the next response
	if !m.cfg.Stateless {
		st.Transcript = nil
	}
	return &st
}

// Step reports an observation at time now and returns what to do next.
func (m *Machine) Step(now time.Time, o Observation) []Action {
	if m.finished {
		return nil
	}
	switch o := o.(type) {
	case ToolsListed:
		return m.toolsListed(o)
	case Compacted:
		return m.compacted(o)
	case CallStreamed:
		if m.req == nil || !isAnswerable(o.Item) || (o.Item.Status != "" && o.Item.Status != responses.StatusCompleted) {
			return nil
		}
		return m.discover(nil, o.Item)
	case ResponseDone:
		return m.responseDone(o.Response)
	case RequestFailed:
		return m.requestFailed(o)
	case Reviewed:
		return m.reviewed(o)
	case Approved:
		return m.approved(o)
	case CallDone:
		return m.callDone(o)
	case TurnEnded:
		return m.turnEnded(now, o.Err)
	case HandedOff:
		return m.handedOff(o)
	}
	return nil
}

// beginTurn starts a turn whose request sends input, unless MaxTurns is
// reached.
func (m *Machine) beginTurn(acts []Action, input []responses.Item) []Action {
	return m.beginTurnKeepUsers(acts, input, false)
}

// beginTurnKeepUsers is beginTurn; known says input's user messages are
// already in the compaction bookkeeping (a continued run).
func (m *Machine) beginTurnKeepUsers(acts []Action, input []responses.Item, known bool) []Action {
	if m.st.Turns-m.turnBase >= m.cfg.MaxTurns {
		m.st.Input = input
		return m.finish(acts, fmt.Errorf("after %d turns: %w", m.st.Turns-m.turnBase, ErrMaxTurns))
	}
	m.resetTurn()
	m.input = input
	m.st.Input = input // the state between turns: what the next request sends
	if m.cfg.Compaction.ContextWindow > 0 && !known {
		for _, it := range input {
			if isUserMessage(it) {
				m.compact.users = append(m.compact.users, it)
			}
		}
	}
	return append(acts, ListTools{})
}

func (m *Machine) resetTurn() {
	m.req, m.resp, m.attempts, m.handoff, m.ended = nil, nil, 0, nil, nil
	m.calls = m.calls[:0]
	clear(m.byKey)
}

func isUserMessage(it responses.Item) bool {
	if it.Type != responses.TypeMessage && it.Type != "" {
		return false
	}
	var role string
	return json.Unmarshal(it.Field("role"), &role) == nil && role == responses.RoleUser
}

func (m *Machine) toolsListed(o ToolsListed) []Action {
	if o.Err != nil {
		m.st.Input = m.input
		return m.finish(nil, o.Err)
	}
	if !sameTools(m.tools, o.Tools) {
		m.defs = make([]responses.ToolDefinition, len(o.Tools))
		for i, t := range o.Tools {
			m.defs[i] = t.Definition
		}
	}
	m.tools = o.Tools
	if m.routes == nil {
		m.routes = make(map[string]int, len(o.Tools))
	} else {
		clear(m.routes)
	}
	m.names = m.names[:0]
	for i, t := range o.Tools {
		key := routeKey(t.Definition)
		if key == "" {
			continue
		}
		if _, dup := m.routes[key]; dup {
			return m.finish(nil, fmt.Errorf("list tools: two tools handle %s", key))
		}
		m.routes[key] = i
		name := t.Definition.Name
		if name == "" {
			name = t.Definition.Type
		}
		m.names = append(m.names, name)
	}
	if m.resuming {
		m.resuming = false
		m.resetTurn()
		var acts []Action
		for _, c := range m.st.Calls {
			key := c.CallKey()
			if out, done := m.st.Outputs[key]; done || key == "" {
				cs := m.addCall(c)
				cs.phase, cs.output = callDone, out
				continue
			}
			if sub := m.st.Nested[key]; sub != nil {
				acts = m.resumeNested(acts, c, sub)
				continue
			}
			acts = m.discover(acts, c)
		}
		m.resp = &responses.Response{} // the turn's response was recorded before the stop
		return acts
	}
	if act, ok := m.compactAction(); ok {
		return []Action{act}
	}
	return m.send(nil)
}

// send builds the turn's request.
func (m *Machine) send(acts []Action) []Action {
	m.req = m.request(m.input)
	m.st.Turns++
	return append(acts, m.emit(Event{Kind: EventTurnStarted}), SendRequest{Request: m.req, Turn: m.st.Turns})
}

// request builds a create request whose new input is input.
func (m *Machine) request(input []responses.Item) *responses.Request {
	c := &m.cfg
	req := c.Request // copy of the template
	m.st.Params.apply(&req)
	req.Model = c.Model
	req.Instructions = c.Instructions
	req.Tools = slices.Clip(m.defs)
	req.Stream = false
	req.ParallelToolCalls = c.ParallelToolCalls
	if req.ParallelToolCalls == nil && len(m.tools) > 0 {
		req.ParallelToolCalls = responses.Ptr(true)
	}
	if c.Stateless {
		req.Store = responses.Ptr(false)
		if !slices.Contains(req.Include, "reasoning.encrypted_content") {
			req.Include = append(slices.Clip(req.Include), "reasoning.encrypted_content")
		}
		// The transcript followed by input, built in the transcript's
		// spare capacity rather than copied for every request: when the
		// turn ends, the transcript appends this same input there.
		m.st.Transcript = slices.Grow(m.st.Transcript, len(input))
		all := append(m.st.Transcript, input...)
		req.Input = responses.ItemsInput(slices.Clip(all)...)
	} else {
		if req.Conversation == "" { // a conversation carries the context itself
			req.PreviousResponseID = m.st.PreviousResponseID
		}
		req.Input = responses.ItemsInput(input...)
	}
	return &req
}

func (m *Machine) requestFailed(o RequestFailed) []Action {
	if o.StreamBroke && len(m.calls) == 0 && m.attempts < 2 && !isCanceled(o.Err) {
		// Nothing was acted on: the same turn can be asked again.
		m.attempts++
		return []Action{m.emit(Event{Kind: EventStreamRestarted}), SendRequest{Request: m.req, Turn: m.st.Turns, Retry: true}}
	}
	m.st.Input = m.input
	return m.finish(nil, fmt.Errorf("turn %d: %w", m.st.Turns, o.Err))
}

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (m *Machine) responseDone(resp *responses.Response) []Action {
	if resp == nil {
		return m.requestFailed(RequestFailed{Err: errors.New("no response")})
	}
	m.resp = resp
	if resp.Status != responses.StatusCompleted && resp.Status != "" {
		return nil
	}
	var acts []Action
	for _, c := range answerable(resp.Output) {
		acts = m.discover(acts, c)
	}
	return acts
}

func (m *Machine) addCall(it responses.Item) *callState {
	cs := &callState{call: tools.NewCall(it), tool: -1}
	cs.call.Progress = nil
	if m.byKey == nil {
		m.byKey = map[string]*callState{}
	}
	m.byKey[cs.call.CallID] = cs
	m.calls = append(m.calls, cs)
	return cs
}

// discover takes up a call item: a call seen twice (streamed, then in the
// final response) is taken up once.
func (m *Machine) discover(acts []Action, it responses.Item) []Action {
	key := it.CallKey()
	if _, seen := m.byKey[key]; seen {
		return acts
	}
	cs := m.addCall(it)
	if it.Type == responses.TypeMCPApprovalRequest {
		return m.ask(acts, cs, hostedMCPRequest(it))
	}
	idx, ok := m.routes[callRouteKey(it)]
	if !ok {
		msg := fmt.Sprintf("unknown tool %q", toolName(cs.call))
		if len(m.names) > 0 {
			msg += "; available tools: " + strings.Join(m.names, ", ")
		}
		return m.refuse(acts, cs, tools.FailedOutput(cs.call, errors.New(msg)), OutcomeUnknown, msg)
	}
	cs.tool = idx
	if to := m.tools[idx].Handoff; to != "" {
		if m.handoff != nil {
			msg := fmt.Sprintf("Ignored: this response already hands the conversation to %s.", m.tools[m.handoff.tool].Handoff)
			return m.refuse(acts, cs, tools.TextOutput(cs.call, msg, true), OutcomeError, msg)
		}
		m.handoff = cs
		out := tools.TextOutput(cs.call, "Transferred to "+to+".", false)
		cs.phase, cs.output = callDone, out
		return append(acts, m.emit(Event{Kind: EventToolFinished, Tool: &ToolEvent{
			CallID: cs.call.CallID, Type: cs.call.Type, Name: toolName(cs.call), Call: cs.call.Item,
			Outcome: OutcomeOK, Output: &out,
		}}))
	}
	if m.tools[idx].Reviews {
		cs.phase = callReviewing
		return append(acts, ReviewCall{Call: cs.call})
	}
	return m.run(acts, cs)
}

func (m *Machine) reviewed(o Reviewed) []Action {
	cs := m.byKey[o.CallID]
	if cs == nil || cs.phase != callReviewing {
		return nil
	}
	if o.Err != nil {
		cs.cause = o.Err
		return m.refuse(nil, cs, tools.FailedOutput(cs.call, o.Err), OutcomeError, o.Err.Error())
	}
	switch o.Review.Decision {
	case tools.Allow:
		return m.run(nil, cs)
	case tools.Deny:
		msg := "This call was refused by policy"
		if o.Review.Reason != "" {
			msg += ": " + o.Review.Reason
		}
		outcome := OutcomeDenied
		if o.Review.Err != nil {
			outcome = tools.OutcomeOf(o.Review.Err)
			cs.cause = o.Review.Err
		}
		return m.decline(nil, cs, outcome, msg)
	}
	req := o.Review.Request
	if req.CallID == "" {
		req.CallID = cs.call.CallID
	}
	if req.Tool == "" {
		req.Tool = toolName(cs.call)
	}
	return m.ask(nil, cs, req)
}

// ask puts req to the approver, unless an earlier "approve always" or a
// decision given to Resume answers it.
func (m *Machine) ask(acts []Action, cs *callState, req tools.ApprovalRequest) []Action {
	cs.request = req
	cs.phase = callAsking
	if req.Key != "" && m.always[req.Key] {
		ap := Approve
		acts = append(acts, m.emit(Event{Kind: EventApprovalDecided, Approval: &ApprovalEvent{Request: req, Decision: &ap, Remembered: true}}))
		return m.decide(acts, cs, ap, false)
	}
	if ap, ok := m.decided[cs.call.CallID]; ok {
		return m.decide(acts, cs, ap, true)
	}
	return append(acts,
		m.emit(Event{Kind: EventApprovalRequested, Approval: &ApprovalEvent{Request: req}}),
		AskApproval{CallID: cs.call.CallID, Request: req, Call: cs.call})
}

func (m *Machine) approved(o Approved) []Action {
	cs := m.byKey[o.CallID]
	if cs == nil || cs.phase != callAsking {
		return nil
	}
	ap := o.Approval
	switch {
	case o.Canceled:
		ap = Deny("the run was canceled")
	case o.Err != nil:
		ap = Deny("approval failed: " + o.Err.Error())
	}
	return m.decide(nil, cs, ap, true)
}

// decide applies an approval decision to a call; report emits the
// decision.
func (m *Machine) decide(acts []Action, cs *callState, ap Approval, report bool) []Action {
	if ap.Defer {
		cs.phase = callDeferred
		return append(acts, m.emit(Event{Kind: EventApprovalDecided, Approval: &ApprovalEvent{Request: cs.request, Decision: &ap}}))
	}
	if ap.Approved && ap.Always {
		m.grant(cs.request.Key)
	}
	if report {
		acts = append(acts, m.emit(Event{Kind: EventApprovalDecided, Approval: &ApprovalEvent{Request: cs.request, Decision: &ap}}))
	}
	if cs.call.Type == responses.TypeMCPApprovalRequest {
		cs.phase = callDone
		cs.output = responses.MustItem(responses.MCPApprovalResponse{
			Type: responses.TypeMCPApprovalResponse, ApprovalRequestID: cs.call.CallID,
			Approve: ap.Approved, Reason: ap.Reason,
		})
		return acts
	}
	if ap.Approved {
		req := cs.request
		cs.call.Approved = &req
		return m.run(acts, cs)
	}
	msg := "The user declined this call"
	if ap.Reason != "" {
		msg = "The call was declined: " + ap.Reason
	}
	return m.decline(acts, cs, OutcomeDenied, msg)
}

// resumeNested runs again the call of an agent tool whose sub-agent
// stopped for approvals, with the decisions given for them.
func (m *Machine) resumeNested(acts []Action, it responses.Item, sub *RunState) []Action {
	cs := m.addCall(it)
	idx, ok := m.routes[callRouteKey(it)]
	if !ok {
		msg := fmt.Sprintf("unknown tool %q", toolName(cs.call))
		return m.refuse(acts, cs, tools.FailedOutput(cs.call, errors.New(msg)), OutcomeUnknown, msg)
	}
	cs.tool = idx
	r := &NestedResume{State: sub}
	for _, p := range sub.Pending {
		r.Decisions = append(r.Decisions, Decision{CallID: p.CallID, Approval: m.decided[p.CallID]})
	}
	cs.phase, cs.ran = callRunning, true
	return append(acts, RunCall{Call: cs.call, Exclusive: !m.parallel() || m.tools[idx].Exclusive, Resume: r})
}

// run starts an approved call.
func (m *Machine) run(acts []Action, cs *callState) []Action {
	cs.phase = callRunning
	cs.ran = true
	exclusive := !m.parallel() || m.tools[cs.tool].Exclusive
	return append(acts, RunCall{Call: cs.call, Exclusive: exclusive})
}

func (m *Machine) parallel() bool {
	p := m.cfg.ParallelToolCalls
	return (p == nil || *p) && m.cfg.MaxParallel > 1
}

// decline answers a call that will not run: with the tool's own output when
// it builds one, else msg as text.
func (m *Machine) decline(acts []Action, cs *callState, outcome Outcome, msg string) []Action {
	if m.tools[cs.tool].Declines {
		cs.phase, cs.outcome, cs.reason = callDeclining, outcome, msg
		return append(acts, DeclineCall{Call: cs.call, Reason: msg})
	}
	return m.refuse(acts, cs, tools.TextOutput(cs.call, msg, true), outcome, msg)
}

// refuse records the output of a call that did not run.
func (m *Machine) refuse(acts []Action, cs *callState, out responses.Item, outcome Outcome, msg string) []Action {
	cs.phase, cs.output = callDone, out
	return append(acts, m.emit(Event{Kind: EventToolFinished, Tool: &ToolEvent{
		CallID: cs.call.CallID, Type: cs.call.Type, Name: toolName(cs.call), Call: cs.call.Item,
		Outcome: outcome, Error: msg, Err: refusal(outcome, msg, cs.cause), Output: &out,
	}}))
}

// refusal is the error of a call that did not run, for errors.Is: its
// cause when the refusal had one, else the outcome's sentinel.
func refusal(outcome Outcome, msg string, cause error) error {
	if cause != nil {
		return cause
	}
	switch outcome {
	case OutcomeDenied:
		return fmt.Errorf("%s: %w", msg, tools.ErrDenied)
	case OutcomeSandboxDenied:
		return fmt.Errorf("%s: %w", msg, tools.ErrSandboxDenied)
	case OutcomeUnknown:
		return fmt.Errorf("%s: %w", msg, tools.ErrUnknownTool)
	case OutcomeCanceled:
		return context.Canceled
	}
	return errors.New(msg)
}

func (m *Machine) callDone(o CallDone) []Action {
	cs := m.byKey[o.CallID]
	if cs == nil || cs.phase == callDone || cs.phase == callDeferred {
		return nil
	}
	if o.NotRun && cs.phase != callRunning {
		// Canceled before it was reviewed, decided or declined.
		if cs.call.Type == responses.TypeMCPApprovalRequest {
			cs.phase, cs.output = callDone, canceledOutput(cs.call.Item)
			return nil
		}
		return m.refuse(nil, cs, canceledOutput(cs.call.Item), OutcomeCanceled, "canceled")
	}
	switch cs.phase {
	case callDeclining:
		out := o.Output
		if o.Err != nil || out.IsZero() || out.OutputKey() != cs.call.CallID {
			out = tools.TextOutput(cs.call, cs.reason, true)
		}
		return m.refuse(nil, cs, out, cs.outcome, cs.reason)
	case callRunning:
	default:
		return nil
	}
	call := cs.call
	out, err := o.Output, o.Err
	if len(o.UsageByModel) > 0 {
		for model, u := range o.UsageByModel {
			m.addUsage(model, &u)
		}
	} else {
		m.addUsage("", o.Usage)
	}
	if nested, ok := pendingState(err); ok && nested != nil && len(nested.Pending) > 0 {
		// An agent tool's sub-agent waits for approvals: so does its call.
		cs.phase, cs.nested = callDeferred, nested
		return nil
	}
	var outcome Outcome
	var errText string
	switch {
	case o.NotRun:
		cs.ran = false
		outcome, errText, err = OutcomeCanceled, "canceled", context.Canceled
		out = canceledOutput(call.Item)
	case o.Canceled && (err != nil || out.IsZero()):
		// The outcome is what happened: a call that finished before the
		// cancellation keeps its output.
		outcome, errText = OutcomeCanceled, "canceled"
		if err == nil {
			err = context.Canceled
		}
		out = canceledOutput(call.Item)
	case err != nil && (out.IsZero() || out.OutputKey() != call.CallID):
		outcome, errText = tools.OutcomeOf(err), err.Error()
		out = tools.FailedOutput(call, err)
	case err != nil:
		// The tool's own output for its failure; err says what happened.
		outcome, errText = tools.OutcomeOf(err), err.Error()
	case out.IsZero():
		err = errors.New("the tool returned no output")
		outcome, errText = OutcomeError, "tool returned no output"
		out = tools.FailedOutput(call, err)
	case out.OutputKey() != call.CallID:
		err = errors.New("internal error: the tool answered another call")
		outcome, errText = OutcomeError, "tool returned an output for another call"
		out = tools.FailedOutput(call, err)
	default:
		outcome = OutcomeOK
	}
	cs.phase, cs.output = callDone, out
	if err != nil && m.ended == nil && endsRun(err) {
		m.ended = err
	}
	if m.silent {
		return nil
	}
	return []Action{m.emit(Event{Kind: EventToolFinished, Tool: &ToolEvent{
		CallID: call.CallID, Type: call.Type, Name: toolName(call), Call: call.Item,
		Outcome: outcome, Error: errText, Err: err, Duration: o.Duration, Output: &out,
	}})}
}

// turnEnded records the turn and decides whether the run goes on.
func (m *Machine) turnEnded(now time.Time, ctxErr error) []Action {
	resp := m.resp
	if resp == nil {
		return m.finish(nil, errors.New("agent: turn ended before its response"))
	}
	var acts []Action
	resumed := resp.ID == "" && resp.Status == ""
	if !resumed {
		m.addUsage(modelOf(resp, m.cfg.Model), resp.Usage)
		m.compact.last = resp.Usage
		m.st.PreviousResponseID = resp.ID
		m.st.Items = append(m.st.Items, resp.Output...)
		if m.cfg.Stateless {
			m.st.Transcript = append(m.st.Transcript, m.input...)
			m.st.Transcript = append(m.st.Transcript, replayable(resp.Output)...)
		}
		if !m.silent {
			acts = append(acts, m.emit(Event{Kind: EventTurnCompleted, Usage: resp.Usage, Response: &ResponseInfo{ID: resp.ID, Status: resp.Status}}))
		}
	}
	if ctxErr == nil && m.ended != nil {
		ctxErr = m.ended // a guardrail ended the run: as a cancellation, with its error
	}
	if ctxErr != nil {
		// Canceled while the calls ran: every call still gets an output
		// (a canceled one if it did not finish), kept in State.Input so
		// the conversation can go on.
		outputs := make([]responses.Item, 0, len(m.calls))
		for _, c := range m.ordered() {
			if c.ran {
				m.st.ToolCalls++
			}
			if c.phase != callDone {
				c.output = canceledOutput(c.call.Item)
			}
			outputs = append(outputs, c.output)
		}
		m.st.Items = append(m.st.Items, outputs...)
		m.st.Input = outputs
		if ctxErr == m.ended {
			return m.finish(acts, ctxErr)
		}
		return m.finish(acts, fmt.Errorf("turn %d: %w", m.st.Turns, ctxErr))
	}
	if !resumed {
		if err := responseError(resp); err != nil {
			m.st.Input = nil
			return m.finish(acts, err)
		}
	}
	calls := m.ordered()
	if len(calls) == 0 {
		res := m.result()
		res.Text = resp.OutputText()
		res.StopReason = "done"
		m.st.Input = nil
		return m.finishResult(acts, res, nil)
	}
	var pending []PendingApproval
	var nested map[string]*RunState
	for _, c := range calls {
		if c.ran && c.phase != callDeferred {
			m.st.ToolCalls++
		}
		switch {
		case c.phase == callDeferred && c.nested != nil:
			if nested == nil {
				nested = map[string]*RunState{}
			}
			nested[c.call.CallID] = c.nested
			for _, p := range c.nested.Pending {
				p.Via = append([]string{c.call.CallID}, p.Via...)
				pending = append(pending, p)
			}
		case c.phase == callDeferred:
			pending = append(pending, PendingApproval{CallID: c.call.CallID, Request: c.request})
		}
	}
	if len(pending) > 0 {
		m.st.Nested = nested
		m.st.Calls = make([]responses.Item, len(calls))
		m.st.Outputs = map[string]responses.Item{}
		for i, c := range calls {
			m.st.Calls[i] = c.call.Item
			if c.phase == callDone {
				m.st.Outputs[c.call.CallID] = c.output
			}
		}
		m.st.Pending = pending
		m.st.Input = nil
		res := m.result()
		res.Pending = pending
		res.StopReason = "pending_approval"
		return m.finishResult(acts, res, nil)
	}
	m.st.Calls, m.st.Outputs, m.st.Pending, m.st.Nested = nil, nil, nil, nil
	next := make([]responses.Item, 0, len(calls))
	for _, c := range calls {
		if c.phase == callDone {
			next = append(next, c.output)
		}
	}
	if err := checkAnswered(callItems(calls), next); err != nil {
		return m.finish(acts, err)
	}
	m.st.Items = append(m.st.Items, next...)
	for _, c := range calls { // in call order, whatever finished first
		if c.ran && slices.Contains(m.cfg.StopAtTools, toolName(c.call)) {
			m.st.Input = next
			res := m.result()
			res.Text = outputText(c.output)
			res.StopReason = "stop_tool"
			return m.finishResult(acts, res, nil)
		}
	}
	if max := m.cfg.MaxTotalTokens; max > 0 && m.st.Usage.TotalTokens >= max {
		return m.stopAt(acts, next, "max_tokens")
	}
	if max := m.cfg.MaxDuration; max > 0 && now.Sub(m.start) >= max {
		return m.stopAt(acts, next, "max_duration")
	}
	if h := m.handoff; h != nil {
		m.st.Input = next
		to := m.tools[h.tool].Handoff
		var args struct {
			Arguments string `json:"arguments"`
		}
		_ = h.call.Item.Decode(&args)
		act := HandOff{To: to, CallID: h.call.CallID}
		if json.Valid([]byte(args.Arguments)) {
			act.Arguments = json.RawMessage(args.Arguments)
		}
		if m.cfg.Stateless {
			act.History = append(slices.Clone(m.st.Transcript), next...)
		} else {
			act.History = append(slices.Clone(m.runInput), m.st.Items...)
		}
		return append(acts, m.emit(Event{Kind: EventHandoff, Handoff: &HandoffEvent{From: m.st.Agent, To: to, CallID: h.call.CallID}}), act)
	}
	return m.beginTurn(acts, next)
}

// handedOff continues the run under the agent now in charge.
func (m *Machine) handedOff(o HandedOff) []Action {
	next := m.st.Input
	if o.Err != nil {
		return m.finish(nil, fmt.Errorf("handoff: %w", o.Err))
	}
	m.SetConfig(o.Config)
	if o.History != nil {
		// The filtered history replaces the chain.
		m.st.PreviousResponseID = ""
		m.st.Transcript = nil
		next = o.History
	}
	return m.beginTurn(nil, next)
}

// stopAt ends the run by a budget; the outputs not sent stay in State.Input.
func (m *Machine) stopAt(acts []Action, next []responses.Item, reason string) []Action {
	m.st.Input = next
	res := m.result()
	res.StopReason = reason
	return m.finishResult(acts, res, nil)
}

// sameTools reports whether two tool lists are the same slice (a driver
// that lists static tools passes the same one every turn).
func sameTools(a, b []ToolInfo) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ordered returns the turn's calls in response order: the order of the
// final response's answerable items, then any streamed call it lacks.
func (m *Machine) ordered() []*callState {
	if m.resp == nil || len(m.resp.Output) == 0 {
		return m.calls
	}
	// Usually the calls were seen in response order already.
	i := 0
	inOrder := true
	for _, it := range m.resp.Output {
		if cs := m.byKey[it.CallKey()]; cs != nil && isAnswerable(it) {
			if i >= len(m.calls) || m.calls[i] != cs {
				inOrder = false
				break
			}
			i++
		}
	}
	if inOrder && i == len(m.calls) {
		return m.calls
	}
	out := make([]*callState, 0, len(m.calls))
	in := make(map[*callState]bool, len(m.calls))
	for _, it := range m.resp.Output {
		if cs := m.byKey[it.CallKey()]; cs != nil && isAnswerable(it) && !in[cs] {
			in[cs] = true
			out = append(out, cs)
		}
	}
	for _, cs := range m.calls {
		if !in[cs] {
			out = append(out, cs)
		}
	}
	return out
}

func callItems(calls []*callState) []responses.Item {
	items := make([]responses.Item, len(calls))
	for i, c := range calls {
		items[i] = c.call.Item
	}
	return items
}

// copyUsage returns a copy of u, or nil.
func copyUsage(u *responses.Usage) *responses.Usage {
	if u == nil {
		return nil
	}
	c := *u
	return &c
}

// addUsage counts u toward the run's usage, and model's.
func (m *Machine) addUsage(model string, u *responses.Usage) {
	if u == nil {
		return
	}
	m.st.Usage.Add(u)
	if m.st.UsageByModel == nil {
		m.st.UsageByModel = make(map[string]responses.Usage)
	}
	byModel := m.st.UsageByModel[model]
	byModel.Add(u)
	m.st.UsageByModel[model] = byModel
}

// modelOf is the model a response says it came from, else the one asked.
func modelOf(resp *responses.Response, asked string) string {
	if resp != nil && resp.Model != "" {
		return resp.Model
	}
	return asked
}

func (m *Machine) result() *Result {
	return &Result{
		Agent:        m.st.Agent,
		Items:        slices.Clone(m.st.Items),
		ResponseID:   m.st.PreviousResponseID,
		Usage:        m.st.Usage,
		UsageByModel: maps.Clone(m.st.UsageByModel),
		Turns:        m.st.Turns,
		ToolCalls:    m.st.ToolCalls,
	}
}

// finish ends the run with err and the partial result.
func (m *Machine) finish(acts []Action, err error) []Action {
	return m.finishResult(acts, m.result(), err)
}

func (m *Machine) finishResult(acts []Action, res *Result, err error) []Action {
	m.finished = true
	if m.cfg.Stateless {
		res.Transcript = slices.Clone(m.st.Transcript)
	}
	res.State = m.State()
	res.State.Items = res.Items // both read-only: one copy
	return append(acts, Finish{Result: res, Err: err})
}

// emit returns the Emit action of ev, or nil when the Machine is silent.
func (m *Machine) emit(ev Event) Action {
	if m.silent {
		return nil
	}
	ev.Turn = m.st.Turns
	return Emit{Event: ev}
}

// canceledOutput is the output of a call the run's cancellation stopped.
func canceledOutput(it responses.Item) responses.Item {
	if it.Type == responses.TypeMCPApprovalRequest {
		return responses.MustItem(responses.MCPApprovalResponse{Type: responses.TypeMCPApprovalResponse, ApprovalRequestID: it.ID, Reason: "canceled"})
	}
	return tools.TextOutput(tools.NewCall(it), "Canceled by the user before it finished.", true)
}

// hostedMCPRequest is what the approver is shown for an
// mcp_approval_request.
func hostedMCPRequest(it responses.Item) tools.ApprovalRequest {
	var ar responses.MCPApprovalRequest
	_ = it.Decode(&ar)
	req := tools.ApprovalRequest{
		Kind:    "hosted_mcp",
		Tool:    ar.ServerLabel + "/" + ar.Name,
		CallID:  it.ID,
		Summary: fmt.Sprintf("call %s on MCP server %s", ar.Name, ar.ServerLabel),
		Key:     "hosted_mcp:" + ar.ServerLabel + "/" + ar.Name,
	}
	if json.Valid([]byte(ar.Arguments)) {
		req.Arguments = json.RawMessage(ar.Arguments)
	}
	return req
}
