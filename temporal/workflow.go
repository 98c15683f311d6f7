package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Names the workflow answers to.
const (
	// WorkflowName is the run workflow's type name.
	WorkflowName = "agentloop.Run"
	// ApproveUpdate answers a pending approval ([ApprovalAnswer]).
	ApproveUpdate = "approve"
	// StateQuery returns the run's [StateView].
	StateQuery = "state"
	// ErrTypeRun is the type of the application error a run that failed
	// ends with; its details hold the partial [agent.Result].
	ErrTypeRun = "AgentRunError"
)

// RunInput starts a run: plain data, recorded in the workflow's history.
type RunInput struct {
	// Config is the loop's configuration ([agent.Agent.Config]).
	Config agent.Config
	// State continues a conversation (a finished run's [agent.Result.State]);
	// nil starts afresh.
	State *agent.RunState `json:",omitempty"`
	// Input is the new input of the run's first request.
	Input []responses.Item
	// Resume continues State as [agent.Agent.Resume] does (a run stopped
	// with pending approvals, a budget or a failure) instead of starting a
	// new run of its conversation; Decisions answer its pending calls.
	Resume    bool
	Decisions []agent.Decision `json:",omitempty"`
	Options   RunOptions

	// Continued is set by the workflow when it continues as new: State is
	// then the state between two turns of this run.
	Continued *Continuation `json:",omitempty"`
}

// MarshalJSON carries Config.Request.Extra, which [responses.Request]
// does not decode, beside the request.
func (in RunInput) MarshalJSON() ([]byte, error) {
	type plain RunInput
	return json.Marshal(struct {
		plain
		RequestExtra map[string]any `json:",omitempty"`
	}{plain(in), in.Config.Request.Extra})
}

// UnmarshalJSON restores what MarshalJSON wrote.
func (in *RunInput) UnmarshalJSON(b []byte) error {
	type plain RunInput
	var v struct {
		plain
		RequestExtra map[string]any
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*in = RunInput(v.plain)
	in.Config.Request.Extra = v.RequestExtra
	return nil
}

// RunOptions are the durable run's own settings.
type RunOptions struct {
	// ContinueAsNewAfter is the number of turns one workflow execution
	// holds before it continues as new (also when Temporal suggests it).
	// Zero means 10.
	ContinueAsNewAfter int
	// ApprovalTimeout ends the wait for an approval with a denial. Zero
	// waits for as long as it takes.
	ApprovalTimeout time.Duration
	// ModelTimeout bounds one attempt of a model request. Zero means 10
	// minutes. A streaming request heartbeats: ModelHeartbeat (zero: 1
	// minute) notices a dead worker sooner.
	ModelTimeout   time.Duration
	ModelHeartbeat time.Duration
	// ModelAttempts bounds the attempts of one model request. Zero means 10.
	ModelAttempts int32
}

// Continuation is what a run carries over continue-as-new besides its
// state (a [agent.Machine.Checkpoint], whose Progress keeps the run's
// budgets and compaction bookkeeping).
type Continuation struct {
	// TurnsAtStart and Started are read from the inputs of runs continued
	// by an earlier version of this package, whose state had no Progress;
	// they are no longer written.
	TurnsAtStart int       `json:",omitempty"`
	Started      time.Time `json:",omitzero"`
	Executions   int       // workflow executions so far
	// Transcript is the run's conversation as sent and received, kept to
	// recover from previous_response_not_found.
	Transcript []responses.Item `json:",omitempty"`
	FellBack   bool             `json:",omitempty"`
}

// ApprovalAnswer answers a pending approval through [ApproveUpdate].
type ApprovalAnswer struct {
	CallID   string
	Approval agent.Approval
}

// StateView is what [StateQuery] returns.
type StateView struct {
	State   *agent.RunState
	Pending []agent.PendingApproval // approvals the run waits for now
	// Executions counts the workflow executions of the run (1 + the times
	// it continued as new); Events lists what the driver reported, such as
	// a fall-back to the stateless transcript.
	Executions int
	Events     []string `json:",omitempty"`
}

// RunWorkflow is the durable run: it drives an [agent.Machine] (the loop's
// rules, the same as [agent.Agent.Run]) and performs each of its actions as
// an activity or a durable wait.
func RunWorkflow(ctx workflow.Context, in RunInput) (*agent.Result, error) {
	d := newDriver(ctx, in)
	if err := d.handlers(ctx); err != nil {
		return nil, err
	}
	return d.drive(ctx)
}

type approvalWait struct {
	request tools.ApprovalRequest
	answer  *agent.Approval
}

type driver struct {
	in    RunInput
	cfg   agent.Config // of the agent in charge
	cont  Continuation
	runID string
	m     *agent.Machine

	tools  []ToolSpec
	turns  int // turns sent in this execution
	events []string

	// call actions of the turn
	queue     []agent.Action
	inflight  int // running calls
	exclusive bool

	waits   map[string]*approvalWait
	pending []string // call ids waiting for an answer, in order
}

func newDriver(ctx workflow.Context, in RunInput) *driver {
	d := &driver{in: in, cfg: in.Config, runID: workflow.GetInfo(ctx).WorkflowExecution.ID, waits: map[string]*approvalWait{}}
	if in.Continued != nil {
		d.cont = *in.Continued
	} else if in.State != nil {
		d.cont.Transcript = append(d.cont.Transcript, in.State.Transcript...)
	}
	d.cont.Executions++
	return d
}

func (d *driver) handlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (*StateView, error) {
		v := &StateView{Executions: d.cont.Executions, Events: d.events}
		if d.m != nil {
			v.State = d.m.State()
		}
		for _, id := range d.pending {
			v.Pending = append(v.Pending, agent.PendingApproval{CallID: id, Request: d.waits[id].request})
		}
		return v, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, ApproveUpdate,
		func(ctx workflow.Context, a ApprovalAnswer) error {
			w := d.waits[a.CallID]
			ap := a.Approval
			w.answer = &ap
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, a ApprovalAnswer) error {
			w, ok := d.waits[a.CallID]
			switch {
			case !ok:
				return fmt.Errorf("no approval is pending for call %q", a.CallID)
			case w.answer != nil:
				return fmt.Errorf("the approval for call %q was already answered", a.CallID)
			}
			return nil
		}})
}

func (o RunOptions) continueAfter() int {
	if o.ContinueAsNewAfter <= 0 {
		return 10
	}
	return o.ContinueAsNewAfter
}

// machine makes the run's Machine and its first actions.
func (d *driver) machine(ctx workflow.Context) []agent.Action {
	now := workflow.Now(ctx)
	if d.in.Continued == nil {
		if d.in.Resume {
			d.m = agent.NewMachine(d.in.Config, nil)
			return d.m.Resume(now, d.in.State, d.in.Decisions)
		}
		d.m = agent.NewMachine(d.in.Config, d.in.State)
		return d.m.Start(now, d.in.Input)
	}
	// The same run goes on where it continued as new: its checkpoint
	// keeps the turns and time it started at, so MaxTurns and MaxDuration
	// count from the run's start.
	st := d.in.State
	if st != nil && st.Progress == nil {
		// Continued by an earlier version of this package, which kept the
		// run's start in the Continuation.
		cp := *st
		cp.Progress = &agent.RunProgress{StartTurns: d.cont.TurnsAtStart, Started: d.cont.Started}
		st = &cp
	}
	d.m = agent.NewMachine(d.in.Config, nil)
	return d.m.Continue(now, st)
}

func (d *driver) drive(ctx workflow.Context) (*agent.Result, error) {
	acts := d.split(d.machine(ctx))
	betweenTurns := false
	for {
		if len(acts) != 1 {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("agentloop: internal error: %d turn actions", len(acts)), "InternalError", nil)
		}
		switch act := acts[0].(type) {
		case agent.Finish:
			return d.finish(ctx, act)
		case agent.ListTools:
			if betweenTurns && (d.turns >= d.in.Options.continueAfter() || workflow.GetInfo(ctx).GetContinueAsNewSuggested()) {
				return nil, d.continueAsNew(ctx)
			}
			betweenTurns = false
			var listed ToolsListed
			err := workflow.ExecuteLocalActivity(d.localOptions(ctx), ListToolsActivity, AgentInput{Agent: d.cfg.Agent}).Get(ctx, &listed)
			d.tools = listed.Tools
			infos := make([]agent.ToolInfo, len(listed.Tools))
			for i, t := range listed.Tools {
				infos[i] = t.Info
			}
			acts = d.step(ctx, agent.ToolsListed{Tools: infos, Err: unwrap(err)})
			if len(acts) == 0 { // a resumed turn's calls
				d.runCalls(ctx)
				acts = d.step(ctx, agent.TurnEnded{Err: ctxErr(ctx)})
				betweenTurns = true
			}
		case agent.Compact:
			acts = d.step(ctx, d.compact(ctx, act))
		case agent.HandOff:
			acts = d.step(ctx, d.handOff(ctx, act))
			betweenTurns = true
		case agent.SendRequest:
			d.turns++
			resp, err := d.send(ctx, act)
			if err != nil {
				acts = d.step(ctx, agent.RequestFailed{Err: err})
				continue
			}
			d.record(act.Request, resp)
			acts = d.step(ctx, agent.ResponseDone{Response: resp})
			if len(acts) != 0 {
				return nil, temporal.NewNonRetryableApplicationError("agentloop: internal error: turn action before the turn ended", "InternalError", nil)
			}
			d.runCalls(ctx)
			acts = d.step(ctx, agent.TurnEnded{Err: ctxErr(ctx)})
			betweenTurns = true
		default:
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("agentloop: internal error: unexpected action %T", act), "InternalError", nil)
		}
	}
}

func ctxErr(ctx workflow.Context) error {
	if ctx.Err() != nil {
		return context.Canceled
	}
	return nil
}

func unwrap(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return errors.New(app.Message())
	}
	return err
}

// step reports o to the Machine; call actions join the queue, events are
// dropped (they are for in-process consumers), the rest is returned.
func (d *driver) step(ctx workflow.Context, o agent.Observation) []agent.Action {
	return d.split(d.m.Step(workflow.Now(ctx), o))
}

func (d *driver) split(acts []agent.Action) []agent.Action {
	n := 0
	for _, act := range acts {
		switch act.(type) {
		case agent.Emit:
		case agent.ReviewCall, agent.AskApproval, agent.RunCall, agent.DeclineCall:
			d.queue = append(d.queue, act)
		default:
			acts[n] = act
			n++
		}
	}
	return acts[:n]
}

func (d *driver) finish(ctx workflow.Context, f agent.Finish) (*agent.Result, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil && ctx.Err() == nil {
		return nil, err
	}
	if f.Err == nil {
		return f.Result, nil
	}
	if ctx.Err() != nil {
		return nil, temporal.NewCanceledError(f.Result)
	}
	return nil, temporal.NewApplicationErrorWithOptions(f.Err.Error(), ErrTypeRun, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{f.Result}})
}

func (d *driver) continueAsNew(ctx workflow.Context) error {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	next := d.in
	next.Config = d.cfg
	next.State = d.m.Checkpoint()
	cont := d.cont
	cont.TurnsAtStart, cont.Started = 0, time.Time{} // in next.State.Progress
	next.Continued = &cont
	next.Input, next.Resume, next.Decisions = nil, false, nil
	return workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}

// localOptions are those of the local activities: listing tools and
// reviewing calls, which have no side effects and run in the worker that
// runs the workflow task, their results recorded as markers.
func (d *driver) localOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
}

func (d *driver) modelOptions(ctx workflow.Context) workflow.Context {
	o := d.in.Options
	timeout, hb, attempts := o.ModelTimeout, o.ModelHeartbeat, o.ModelAttempts
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	if hb <= 0 {
		hb = time.Minute
	}
	if attempts <= 0 {
		attempts = 10
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    hb,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    500 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    attempts,
		},
	})
}

// send performs a model request; on previous_response_not_found it sends
// the run's transcript instead, once.
func (d *driver) send(ctx workflow.Context, act agent.SendRequest) (*responses.Response, error) {
	var resp responses.Response
	err := workflow.ExecuteActivity(d.modelOptions(ctx), ModelActivity, ModelInput{Request: act.Request, Turn: act.Turn, Agent: d.cfg.Agent}).Get(ctx, &resp)
	var app *temporal.ApplicationError
	if err != nil && errors.As(err, &app) && app.Type() == ErrTypePreviousResponseNotFound && !d.cont.FellBack && act.Request.PreviousResponseID != "" {
		d.cont.FellBack = true
		d.events = append(d.events, fmt.Sprintf("turn %d: response %s is gone (previous_response_not_found): sent the run's transcript of %d items instead", act.Turn, act.Request.PreviousResponseID, len(d.cont.Transcript)))
		workflow.GetLogger(ctx).Warn("previous response not found; falling back to the transcript", "previous_response_id", act.Request.PreviousResponseID)
		req := *act.Request
		req.PreviousResponseID = ""
		all := append(append([]responses.Item(nil), d.cont.Transcript...), act.Request.Input.Items...)
		req.Input = responses.ItemsInput(all...)
		err = workflow.ExecuteActivity(d.modelOptions(ctx), ModelActivity, ModelInput{Request: &req, Turn: act.Turn, Agent: d.cfg.Agent}).Get(ctx, &resp)
	}
	if err != nil {
		if ctx.Err() != nil || temporal.IsCanceledError(err) {
			return nil, context.Canceled
		}
		return nil, unwrap(err)
	}
	return &resp, nil
}

// record keeps the transcript of a chained run, for recovery: the items
// sent and the output received, without reasoning items (a stateless
// request may not replay them without their encrypted content).
func (d *driver) record(req *responses.Request, resp *responses.Response) {
	if d.cfg.Stateless || req.Conversation != "" {
		return
	}
	d.cont.Transcript = append(d.cont.Transcript, req.Input.Items...)
	for _, it := range resp.Output {
		if it.Type != responses.TypeReasoning {
			d.cont.Transcript = append(d.cont.Transcript, it)
		}
	}
}

// handOff switches the run to the agent act names: the worker runs the
// handoff's OnHandoff and filter (a local activity: OnHandoff may run
// again if a worker dies before the workflow records its result).
func (d *driver) handOff(ctx workflow.Context, act agent.HandOff) agent.HandedOff {
	var out HandOffOutput
	in := HandOffInput{From: d.cfg.Agent, To: act.To, Arguments: act.Arguments, History: act.History}
	if err := workflow.ExecuteLocalActivity(d.localOptions(ctx), HandOffActivity, in).Get(ctx, &out); err != nil {
		return agent.HandedOff{Err: unwrap(err)}
	}
	d.cfg = out.Config
	h := agent.HandedOff{Config: out.Config}
	if out.Filtered {
		h.History = append([]responses.Item{}, out.History...)
	}
	return h
}

func (d *driver) compact(ctx workflow.Context, act agent.Compact) agent.Compacted {
	var out CompactOutput
	in := CompactInput{Agent: d.cfg.Agent, Endpoint: act.Endpoint, Summary: act.Summary}
	if act.Summary != nil {
		in.SummaryExtra = act.Summary.Extra
	}
	err := workflow.ExecuteActivity(d.modelOptions(ctx), CompactActivity, in).Get(ctx, &out)
	c := agent.Compacted{Output: out.Output, Summary: out.Summary, Usage: out.Usage, NoEndpoint: out.NoEndpoint}
	switch {
	case err != nil && ctx.Err() != nil:
		c.Err = context.Canceled
	case err != nil:
		c.Err = unwrap(err)
	case out.Err != "":
		c.Err = errors.New(out.Err)
	}
	return c
}

// runCalls performs the turn's call actions as the in-process dispatcher
// does: reviews, approvals and declines one at a time in the Machine's
// order; approved calls as parallel activities, at most MaxParallel at
// once, an exclusive call alone. It returns when every call has reported.
func (d *driver) runCalls(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	maxPar := d.cfg.MaxParallel
	if maxPar <= 0 {
		maxPar = 8
	}
	for {
		_ = workflow.Await(dctx, func() bool { return len(d.queue) > 0 || d.inflight == 0 })
		if len(d.queue) == 0 {
			return
		}
		act := d.queue[0]
		d.queue = d.queue[1:]
		if ctx.Err() != nil {
			d.notRun(ctx, act)
			continue
		}
		switch act := act.(type) {
		case agent.ReviewCall:
			d.review(ctx, act)
		case agent.AskApproval:
			d.ask(ctx, act)
		case agent.DeclineCall:
			d.decline(ctx, act)
		case agent.RunCall:
			excl := act.Exclusive
			_ = workflow.Await(dctx, func() bool {
				if excl {
					return d.inflight == 0
				}
				return !d.exclusive && d.inflight < maxPar
			})
			if ctx.Err() != nil {
				d.notRun(ctx, act)
				continue
			}
			d.inflight++
			d.exclusive = excl
			workflow.Go(ctx, func(gctx workflow.Context) {
				o := d.call(gctx, act.Call)
				d.inflight--
				if excl {
					d.exclusive = false
				}
				d.split(d.m.Step(workflow.Now(gctx), o))
			})
		}
	}
}

func (d *driver) notRun(ctx workflow.Context, act agent.Action) {
	var o agent.Observation
	switch act := act.(type) {
	case agent.AskApproval:
		o = agent.Approved{CallID: act.CallID, Canceled: true}
	case agent.ReviewCall:
		o = agent.CallDone{CallID: act.Call.CallID, Canceled: true, NotRun: true}
	case agent.DeclineCall:
		o = agent.CallDone{CallID: act.Call.CallID, Canceled: true, NotRun: true}
	case agent.RunCall:
		o = agent.CallDone{CallID: act.Call.CallID, Canceled: true, NotRun: true}
	}
	d.step(ctx, o)
}

// spec returns the tool of the turn that answers a call, found by the
// agent package's own routing ([agent.ToolFor]).
func (d *driver) spec(it responses.Item) ToolSpec {
	ts := make([]tools.Tool, len(d.tools))
	for i, t := range d.tools {
		ts[i] = listed{i: i, def: t.Info.Definition}
	}
	if t, ok := agent.ToolFor(ts, it); ok {
		return d.tools[t.(listed).i]
	}
	return ToolSpec{Options: ToolOptions{}.withDefaults()}
}

// listed stands for a listed tool in [agent.ToolFor]; it is never called.
type listed struct {
	i   int
	def responses.ToolDefinition
}

func (t listed) Definition() responses.ToolDefinition { return t.def }

func (t listed) Call(context.Context, tools.Call) (responses.Item, error) {
	return responses.Item{}, errors.New("agentloop: a listed tool is not called in the workflow")
}

// callOptions are the activity options of one call: its id derived from
// the run and the call id, and retries only for an idempotent tool.
func (d *driver) callOptions(ctx workflow.Context, kind, callID string, spec ToolSpec) workflow.Context {
	o := spec.Options
	attempts := o.MaxAttempts
	if !spec.Info.Idempotent && !o.RetryInterrupted {
		attempts = 1
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ActivityID:          d.runID + "/" + callID + "/" + kind,
		StartToCloseTimeout: o.StartToClose,
		HeartbeatTimeout:    o.Heartbeat,
		WaitForCancellation: true,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: attempts, InitialInterval: time.Second},
	})
}

// InterruptedMessage is the output the model gets for a call of a tool
// that is not idempotent whose worker stopped while it ran.
const InterruptedMessage = "This call was interrupted before it reported a result (the process running it stopped), " +
	"so it may or may not have taken effect. Check its effect before running it again."

func (d *driver) call(ctx workflow.Context, call tools.Call) agent.CallDone {
	spec := d.spec(call.Item)
	var out CallOutput
	start := workflow.Now(ctx)
	err := workflow.ExecuteActivity(d.callOptions(ctx, "call", call.CallID, spec), CallActivity,
		CallInput{Agent: d.cfg.Agent, RunID: d.runID, Item: call.Item}).Get(ctx, &out)
	done := agent.CallDone{CallID: call.CallID, Canceled: ctx.Err() != nil}
	switch {
	case err == nil:
		done.Output, done.Duration = out.Output, out.Duration
		done.Err = outcomeError(out.Err, out.Outcome)
		switch {
		case out.Tripwire != nil:
			done.Err = out.Tripwire // ends the run, as in process
		case len(out.Guardrail) == 2:
			done.Err = &agent.GuardrailError{Guardrail: out.Guardrail[0], Err: errors.New(out.Guardrail[1])}
		}
	case ctx.Err() != nil || temporal.IsCanceledError(err):
		done.Err = context.Canceled
	default:
		// The activity itself failed: its worker died (no heartbeat) and
		// the tool is not retried, or every attempt did, or it ran out of
		// its StartToClose time.
		done.Duration = workflow.Now(ctx).Sub(start)
		var te *temporal.TimeoutError
		if errors.As(err, &te) && te.TimeoutType() == enumspb.TIMEOUT_TYPE_START_TO_CLOSE {
			msg := fmt.Sprintf("This call ran out of its time (%s) and was stopped, so it may or may not have taken effect.", spec.Options.StartToClose)
			done.Output = tools.TextOutput(call, msg, true)
			done.Err = fmt.Errorf("%s: %w", msg, tools.ErrTimeout)
			break
		}
		done.Output = tools.TextOutput(call, InterruptedMessage, true)
		done.Err = fmt.Errorf("interrupted: %w", unwrap(err))
	}
	return done
}

// outcomeError rebuilds a tool's error so that [tools.OutcomeOf] gives
// the outcome the activity reported.
func outcomeError(msg string, outcome tools.Outcome) error {
	if msg == "" {
		return nil
	}
	var sentinel error
	switch outcome {
	case tools.OutcomeDenied:
		sentinel = tools.ErrDenied
	case tools.OutcomeSandboxDenied:
		sentinel = tools.ErrSandboxDenied
	case tools.OutcomeTimeout:
		sentinel = tools.ErrTimeout
	case tools.OutcomeUnknownTool:
		sentinel = tools.ErrUnknownTool
	case tools.OutcomeCanceled:
		sentinel = context.Canceled
	default:
		return errors.New(msg)
	}
	return fmt.Errorf("%s (%w)", msg, sentinel)
}

func (d *driver) review(ctx workflow.Context, act agent.ReviewCall) {
	var out ReviewOutput
	err := workflow.ExecuteLocalActivity(d.localOptions(ctx), ReviewActivity, CallInput{Agent: d.cfg.Agent, RunID: d.runID, Item: act.Call.Item}).Get(ctx, &out)
	o := agent.Reviewed{CallID: act.Call.CallID}
	switch {
	case err != nil:
		o.Err = unwrap(err)
	case out.Err != "":
		o.Err = errors.New(out.Err)
	default:
		o.Review = tools.Review{Decision: out.Decision, Reason: out.Reason, Request: out.Request}
		if out.Outcome != "" && out.Outcome != tools.OutcomeDenied {
			o.Review.Err = outcomeError(string(out.Outcome), out.Outcome)
		}
	}
	d.step(ctx, o)
}

func (d *driver) decline(ctx workflow.Context, act agent.DeclineCall) {
	var out CallOutput
	err := workflow.ExecuteActivity(d.callOptions(ctx, "decline", act.Call.CallID, ToolSpec{Info: agent.ToolInfo{Idempotent: true}, Options: d.spec(act.Call.Item).Options}),
		DeclineActivity, CallInput{Agent: d.cfg.Agent, RunID: d.runID, Item: act.Call.Item, Reason: act.Reason}).Get(ctx, &out)
	o := agent.CallDone{CallID: act.Call.CallID, Output: out.Output}
	if err != nil {
		o.Err = unwrap(err)
	} else {
		o.Err = outcomeError(out.Err, out.Outcome)
	}
	d.step(ctx, o)
}

// ask waits durably for an answer through [ApproveUpdate], denying when
// the approval timeout passes.
func (d *driver) ask(ctx workflow.Context, act agent.AskApproval) {
	w := &approvalWait{request: act.Request}
	d.waits[act.CallID] = w
	d.pending = append(d.pending, act.CallID)
	defer func() {
		for i, id := range d.pending {
			if id == act.CallID {
				d.pending = append(d.pending[:i], d.pending[i+1:]...)
				break
			}
		}
	}()
	o := agent.Approved{CallID: act.CallID}
	answered := func() bool { return w.answer != nil }
	var err error
	ok := true
	if t := d.in.Options.ApprovalTimeout; t > 0 {
		ok, err = workflow.AwaitWithTimeout(ctx, t, answered)
	} else {
		err = workflow.Await(ctx, answered)
	}
	switch {
	case err != nil:
		o.Canceled = true
	case !ok:
		o.Approval = agent.Deny("no answer came within " + d.in.Options.ApprovalTimeout.String())
		no := o.Approval
		w.answer = &no // a late answer is rejected
	default:
		o.Approval = *w.answer
	}
	d.step(ctx, o)
}
