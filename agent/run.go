package agent

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// RunOption configures one run.
type RunOption func(*runConfig)

type runConfig struct {
	previousResponseID string
	transcript         []responses.Item
	params             RunParams // per-run parameters; see request.go
}

// WithPreviousResponse continues the conversation of a stored response, as
// [Result.ResponseID] gives it: the run's first request chains to it.
func WithPreviousResponse(id string) RunOption {
	return func(c *runConfig) { c.previousResponseID = id }
}

// WithTranscript continues a stateless conversation: the items (as
// [Result.Transcript] gives them) are sent before the new input.
func WithTranscript(items []responses.Item) RunOption {
	return func(c *runConfig) { c.transcript = slices.Clone(items) }
}

// Run sends prompt as a user message and runs the loop until the model stops
// calling tools. It returns the result; on error it returns the partial
// result too.
func (a *Agent) Run(ctx context.Context, prompt string, opts ...RunOption) (*Result, error) {
	return Collect(a.Stream(ctx, prompt, opts...))
}

// RunItems is like [Agent.Run] with input items instead of a prompt.
func (a *Agent) RunItems(ctx context.Context, input []responses.Item, opts ...RunOption) (*Result, error) {
	return Collect(a.StreamItems(ctx, input, opts...))
}

// Stream is like [Agent.Run] but yields the run's events as they happen. The
// last pair is an [EventRunCompleted] event carrying the Result, with the
// run's error (nil on success). Stopping the iteration early cancels the run
// and waits for its tools to return.
func (a *Agent) Stream(ctx context.Context, prompt string, opts ...RunOption) iter.Seq2[Event, error] {
	return a.StreamItems(ctx, []responses.Item{responses.UserMessage(prompt)}, opts...)
}

// StreamItems is like [Agent.Stream] with input items instead of a prompt.
func (a *Agent) StreamItems(ctx context.Context, input []responses.Item, opts ...RunOption) iter.Seq2[Event, error] {
	var cfg runConfig
	for _, o := range opts {
		o(&cfg)
	}
	return func(yield func(Event, error) bool) {
		r := a.newRun(ctx, yield)
		defer r.cancel()
		r.prevID = cfg.previousResponseID
		r.transcript = cfg.transcript
		r.params = cfg.params
		r.finish(r.loop(slices.Clone(input)))
	}
}

// Resume continues a run that stopped with pending approvals, applying
// decisions (one per pending call; a missing decision is an error). The Agent
// needs the same tools as the one that produced state; it may be a new
// Agent in another process.
//
// The resumed run keeps the per-run parameters of the original one
// ([WithConversation], [WithPrompt], [WithTextFormat]), which the state
// holds; opts may replace them. The state already says how the conversation
// continues, so [WithPreviousResponse] and [WithTranscript] are ignored.
func (a *Agent) Resume(ctx context.Context, state *RunState, decisions []Decision, opts ...RunOption) (*Result, error) {
	return Collect(a.ResumeStream(ctx, state, decisions, opts...))
}

// ResumeStream is like [Agent.Resume] but yields events as [Agent.Stream].
func (a *Agent) ResumeStream(ctx context.Context, state *RunState, decisions []Decision, opts ...RunOption) iter.Seq2[Event, error] {
	var cfg runConfig
	for _, o := range opts {
		o(&cfg)
	}
	return func(yield func(Event, error) bool) {
		r := a.newRun(ctx, yield)
		defer r.cancel()
		r.params = cfg.params
		r.finish(r.resume(state, decisions))
	}
}

// Collect drains an event sequence from [Agent.Stream] and returns the run's
// result and error.
func Collect(seq iter.Seq2[Event, error]) (*Result, error) {
	var res *Result
	for ev, err := range seq {
		if ev.Kind == EventRunCompleted {
			res = ev.Result
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// run is the state of one run. Its methods run on the iterating goroutine;
// tool goroutines talk to it only through the dispatcher's event queue.
type run struct {
	a       *Agent
	ctx     context.Context
	cancel  context.CancelFunc
	yield   func(Event, error) bool
	stopped bool // the consumer stopped iterating

	start      time.Time
	turn       int
	turnBase   int
	prevID     string
	transcript []responses.Item // stateless mode: everything sent and received
	res        Result
	params     RunParams    // per-run request parameters
	compact    compactState // see compact.go
}

func (a *Agent) newRun(ctx context.Context, yield func(Event, error) bool) *run {
	ctx, cancel := context.WithCancel(ctx)
	return &run{a: a, ctx: ctx, cancel: cancel, yield: yield, start: time.Now()}
}

// emit hands an event to the consumer. After the consumer stops, events are
// dropped and the run is cancelled.
func (r *run) emit(ev Event) {
	if r.stopped {
		return
	}
	ev.Turn = r.turn
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if !r.yield(ev, nil) {
		r.stopped = true
		r.cancel()
	}
}

func (r *run) finish(err error) {
	if r.stopped {
		return
	}
	r.res.Turns = r.turn
	if r.a.opts.Stateless {
		r.res.Transcript = r.transcript
	}
	res := r.res
	if err != nil && r.ctx.Err() != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (%w)", err, context.Cause(r.ctx))
	}
	r.yield(Event{Kind: EventRunCompleted, Turn: r.turn, Time: time.Now(), Result: &res}, err)
	r.stopped = true
}

// loop runs turns until the model stops calling tools. input holds the new
// items of the first request.
func (r *run) loop(input []responses.Item) error {
	for {
		if r.turn-r.turnBase >= r.a.opts.MaxTurns {
			r.res.State = r.state(nil, nil, nil)
			r.res.State.Input = input
			return fmt.Errorf("after %d turns: %w", r.turn-r.turnBase, ErrMaxTurns)
		}
		rt, err := r.a.router(r.ctx)
		if err != nil {
			return err
		}
		if input, err = r.compactIfNeeded(rt, input); err != nil {
			return fmt.Errorf("compact: %w", err)
		}
		req := r.request(rt, input)
		r.turn++
		r.emit(Event{Kind: EventTurnStarted})
		d := newDispatcher(r, rt, r.parallel(), nil)
		resp, err := r.exchange(req, d)
		if resp == nil {
			// The request did not complete; the same input can be sent again.
			r.res.State = r.state(nil, nil, nil)
			r.res.State.Input = input
			return fmt.Errorf("turn %d: %w", r.turn, err)
		}
		r.res.Usage.Add(resp.Usage)
		r.compact.last = resp.Usage
		r.res.ResponseID = resp.ID
		r.prevID = resp.ID
		r.res.Items = append(r.res.Items, resp.Output...)
		if r.a.opts.Stateless {
			r.transcript = append(r.transcript, input...)
			r.transcript = append(r.transcript, replayable(resp.Output)...)
		}
		r.emit(Event{Kind: EventTurnCompleted, Usage: resp.Usage, Response: &ResponseInfo{ID: resp.ID, Status: resp.Status}})
		if err != nil {
			// Canceled while the calls ran: every call still gets an output
			// (a canceled one if it did not finish), kept in State.Input so
			// the conversation can go on.
			var outputs []responses.Item
			for _, c := range answerable(resp.Output) {
				out, ok := d.outputs[c.CallKey()]
				if !ok {
					out = d.canceledOutput(c)
				}
				outputs = append(outputs, out)
			}
			r.res.Items = append(r.res.Items, outputs...)
			r.res.ToolCalls += len(d.ran)
			r.res.State = r.state(nil, nil, nil)
			r.res.State.Input = outputs
			return fmt.Errorf("turn %d: %w", r.turn, err)
		}
		if err := responseError(resp); err != nil {
			return err
		}
		calls := answerable(resp.Output)
		if len(calls) == 0 {
			r.res.Text = resp.OutputText()
			r.res.StopReason = "done"
			return nil
		}
		next, done, err := r.afterCalls(calls, d.outputs, d.deferred, d.ran)
		if done || err != nil {
			return err
		}
		input = next
	}
}

// afterCalls records the outputs of a turn's calls and decides whether the
// run goes on. It returns the next request's input.
func (r *run) afterCalls(calls []responses.Item, outputs map[string]responses.Item, deferred []PendingApproval, ran []ranCall) ([]responses.Item, bool, error) {
	r.res.ToolCalls += len(ran)
	if len(deferred) > 0 {
		r.res.Pending = deferred
		r.res.State = r.state(calls, outputs, deferred)
		r.res.StopReason = "pending_approval"
		return nil, true, nil
	}
	next := make([]responses.Item, 0, len(calls))
	for _, c := range calls {
		next = append(next, outputs[c.CallKey()])
	}
	if err := checkAnswered(calls, next); err != nil {
		return nil, true, err
	}
	r.res.Items = append(r.res.Items, next...)
	for _, rc := range ran {
		if slices.Contains(r.a.opts.StopAtTools, rc.name) {
			r.res.Text = outputText(outputs[rc.key])
			r.res.StopReason = "stop_tool"
			r.finishOutputs(next)
			return nil, true, nil
		}
	}
	if max := r.a.opts.MaxTotalTokens; max > 0 && r.res.Usage.TotalTokens >= max {
		r.res.StopReason = "max_tokens"
		r.finishOutputs(next)
		return nil, true, nil
	}
	if max := r.a.opts.MaxDuration; max > 0 && time.Since(r.start) >= max {
		r.res.StopReason = "max_duration"
		r.finishOutputs(next)
		return nil, true, nil
	}
	return next, false, nil
}

// finishOutputs keeps outputs that were not sent (the run stopped before the
// next request) in a RunState, so the conversation can still be continued.
func (r *run) finishOutputs(outputs []responses.Item) {
	r.res.State = r.state(nil, nil, nil)
	r.res.State.Input = outputs
}

func (r *run) parallel() bool {
	p := r.a.opts.ParallelToolCalls
	return (p == nil || *p) && r.a.opts.MaxParallel > 1
}

// request builds the next create request.
func (r *run) request(rt *router, input []responses.Item) *responses.Request {
	o := &r.a.opts
	req := o.Request // copy of the template
	r.params.apply(&req)
	req.Model = r.a.model
	req.Instructions = o.Instructions
	req.Tools = slices.Clip(rt.defs)
	req.Stream = false
	req.ParallelToolCalls = o.ParallelToolCalls
	if req.ParallelToolCalls == nil && len(rt.defs) > 0 {
		req.ParallelToolCalls = responses.Ptr(true)
	}
	if o.Stateless {
		req.Store = responses.Ptr(false)
		if !slices.Contains(req.Include, "reasoning.encrypted_content") {
			req.Include = append(slices.Clip(req.Include), "reasoning.encrypted_content")
		}
		all := make([]responses.Item, 0, len(r.transcript)+len(input))
		all = append(all, r.transcript...)
		all = append(all, input...)
		req.Input = responses.ItemsInput(all...)
	} else {
		if req.Conversation == "" { // a conversation carries the context itself
			req.PreviousResponseID = r.prevID
		}
		req.Input = responses.ItemsInput(input...)
	}
	return &req
}

// exchange sends req and dispatches the response's calls on d, streaming or
// not. It returns once the response is complete and every call has finished.
func (r *run) exchange(req *responses.Request, d *dispatcher) (*responses.Response, error) {
	var resp *responses.Response
	var err error
	if r.a.opts.DisableStreaming {
		resp, err = r.a.client.Create(r.ctx, req)
		if err == nil {
			for i := range resp.Output {
				it := resp.Output[i]
				r.emit(Event{Kind: EventItemDone, Item: &it})
				r.emitHostedItem(it)
			}
		}
	} else {
		for attempt := 0; ; attempt++ {
			resp, err = r.stream(req, d)
			// The client retries a broken stream only until an output item
			// has been delivered. If none of the delivered items was a call,
			// nothing has been acted on and the turn can be asked again.
			var se *responses.StreamError
			if err == nil || !errors.As(err, &se) || d.submitted > 0 || attempt >= 2 || r.ctx.Err() != nil {
				break
			}
			r.a.log.Warn("stream broke after output; retrying the turn", "turn", r.turn, "err", err)
		}
	}
	if err != nil {
		d.abort()
		d.wait()
		return nil, err
	}
	if resp.Status == responses.StatusCompleted || resp.Status == "" {
		// Calls not yet started (non-streaming, or missing from the stream).
		for _, c := range answerable(resp.Output) {
			d.submit(c)
		}
	}
	d.close()
	d.wait()
	// The response is complete even when the run was canceled while its
	// calls ran; the caller records it either way.
	return resp, r.ctx.Err()
}

// stream reads one streamed response, emitting events and submitting each
// call to d as soon as its item is done.
func (r *run) stream(req *responses.Request, d *dispatcher) (*responses.Response, error) {
	s, err := r.a.client.Stream(r.ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	created := 0
	for s.Next() {
		ev := s.Event()
		switch ev.Type {
		case "response.created":
			// A second response.created means the client retried a broken
			// stream: deltas shown so far belong to an abandoned attempt.
			if created++; created > 1 {
				r.emit(Event{Kind: EventStreamRestarted})
			}
		case "response.output_text.delta":
			r.emit(Event{Kind: EventTextDelta, Delta: ev.Delta})
		case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
			r.emit(Event{Kind: EventReasoningDelta, Delta: ev.Delta})
		case "response.output_item.done":
			if ev.Item != nil {
				it := *ev.Item
				r.emit(Event{Kind: EventItemDone, Item: &it})
				r.emitHostedItem(it)
				if isAnswerable(it) && (it.Status == "" || it.Status == responses.StatusCompleted) {
					d.submit(it)
				}
			}
		case "response.in_progress", "response.queued",
			"response.output_item.added", "response.content_part.added", "response.content_part.done",
			"response.output_text.done", "response.function_call_arguments.delta",
			"response.function_call_arguments.done", "response.completed", "response.failed",
			"response.incomplete", "response.reasoning_summary_part.added",
			"response.reasoning_summary_part.done", "response.reasoning_summary_text.done",
			"response.reasoning_text.done", "response.custom_tool_call_input.delta",
			"response.custom_tool_call_input.done":
			// Interpreted through other events or the final response.
		default:
			if hev, ok := hostedStreamEvent(ev); ok {
				r.emit(hev)
				break
			}
			r.emit(Event{Kind: EventServer, Server: &ServerEvent{Type: ev.Type, JSON: ev.Raw}})
		}
		r.flush(d)
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	resp := s.Response()
	if resp == nil {
		return nil, errors.New("stream ended without a response")
	}
	return resp, nil
}

// flush emits the events queued by tool goroutines.
func (r *run) flush(d *dispatcher) {
	for _, ev := range d.q.drain() {
		r.emit(ev)
	}
}

// responseError returns the typed error of a response that did not complete.
func responseError(resp *responses.Response) error {
	switch resp.Status {
	case responses.StatusFailed, responses.StatusCancelled:
		return &ResponseError{ResponseID: resp.ID, Status: resp.Status, Err: resp.Error}
	case responses.StatusIncomplete:
		e := &ResponseError{ResponseID: resp.ID, Status: resp.Status}
		if resp.IncompleteDetails != nil {
			e.Reason = resp.IncompleteDetails.Reason
		}
		return e
	}
	return nil
}

// isAnswerable reports whether the client must answer the item: a call it
// executes (not one of a hosted environment) or an MCP approval request.
func isAnswerable(it responses.Item) bool {
	if it.Type == responses.TypeMCPApprovalRequest {
		return true
	}
	if !it.IsCall() {
		return false
	}
	if it.Type == responses.TypeShellCall {
		var sc struct {
			Environment *struct {
				Type string `json:"type"`
			} `json:"environment"`
		}
		if it.Decode(&sc) == nil && sc.Environment != nil && sc.Environment.Type != "" && sc.Environment.Type != "local" {
			return false // runs in a hosted container
		}
	}
	return true
}

// answerable returns the items of output the client must answer, in order,
// leaving out calls the server answered itself in the same output.
func answerable(output []responses.Item) []responses.Item {
	var answered map[string]bool
	var calls []responses.Item
	for _, it := range output {
		if it.IsOutput() {
			if answered == nil {
				answered = map[string]bool{}
			}
			answered[it.OutputKey()] = true
		}
	}
	for _, it := range output {
		if isAnswerable(it) && !answered[it.CallKey()] {
			calls = append(calls, it)
		}
	}
	return calls
}

// checkAnswered verifies that outputs hold exactly one output per call.
func checkAnswered(calls, outputs []responses.Item) error {
	count := make(map[string]int, len(outputs))
	for _, o := range outputs {
		count[o.OutputKey()]++
	}
	var e InvariantError
	for _, c := range calls {
		switch n := count[c.CallKey()]; {
		case n == 0:
			e.Missing = append(e.Missing, c.CallKey())
		case n > 1:
			e.Duplicate = append(e.Duplicate, c.CallKey())
		}
	}
	if e.Missing != nil || e.Duplicate != nil {
		return &e
	}
	return nil
}

// state captures the run for a later Resume.
func (r *run) state(calls []responses.Item, outputs map[string]responses.Item, pending []PendingApproval) *RunState {
	st := &RunState{
		Version:            runStateVersion,
		Model:              r.a.model,
		Turns:              r.turn,
		PreviousResponseID: r.prevID,
		Items:              slices.Clone(r.res.Items),
		Calls:              calls,
		Outputs:            outputs,
		Pending:            pending,
		Usage:              r.res.Usage,
		ToolCalls:          r.res.ToolCalls,
		AlwaysApproved:     r.a.alwaysKeys(),
		Params:             r.params,
	}
	if r.a.opts.Stateless {
		st.Transcript = slices.Clone(r.transcript)
	}
	return st
}

// resume continues a stopped run.
func (r *run) resume(st *RunState, decisions []Decision) error {
	if st == nil {
		return errors.New("agent: resume: nil state")
	}
	if st.Version != runStateVersion {
		return fmt.Errorf("agent: resume: state version %d, want %d", st.Version, runStateVersion)
	}
	for _, k := range st.AlwaysApproved {
		r.a.rememberAlways(k)
	}
	r.turn, r.turnBase = st.Turns, st.Turns
	r.prevID = st.PreviousResponseID
	r.transcript = slices.Clone(st.Transcript)
	r.res.Items = slices.Clone(st.Items)
	r.res.Usage = st.Usage
	r.res.ToolCalls = st.ToolCalls
	r.params = st.Params.merge(r.params)
	r.res.ResponseID = st.PreviousResponseID

	byCall := make(map[string]Approval, len(decisions))
	for _, d := range decisions {
		byCall[d.CallID] = d.Approval
	}
	for _, p := range st.Pending {
		if _, ok := byCall[p.CallID]; !ok {
			return fmt.Errorf("agent: resume: no decision for pending call %s", p.CallID)
		}
	}
	outputs := make(map[string]responses.Item, len(st.Calls))
	for k, v := range st.Outputs {
		outputs[k] = v
	}
	rt, err := r.a.router(r.ctx)
	if err != nil {
		return err
	}
	d := newDispatcher(r, rt, r.parallel(), byCall)
	for _, c := range st.Calls {
		if _, done := outputs[c.CallKey()]; !done && c.CallKey() != "" {
			d.submit(c)
		}
	}
	d.close()
	d.wait()
	if err := r.ctx.Err(); err != nil {
		return err
	}
	for k, v := range d.outputs {
		outputs[k] = v
	}
	if len(st.Calls) == 0 {
		// Stopped by a budget or MaxTurns: the next input is ready.
		return r.loop(slices.Clone(st.Input))
	}
	next, done, err := r.afterCalls(st.Calls, outputs, d.deferred, d.ran)
	if done || err != nil {
		return err
	}
	return r.loop(next)
}
