package agent

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// RunOption configures one run.
type RunOption func(*runConfig)

type runConfig struct {
	state    *RunState // how the conversation continues
	params   RunParams // per-run parameters; see request.go
	recorder Recorder
	// collected: the run's events go to Collect, which keeps only the
	// last, so the stream's text deltas need not be decoded.
	collected bool
}

// collected marks a run whose events only [Collect] reads.
func collected(c *runConfig) { c.collected = true }

// WithState continues the conversation that st describes, as a finished
// run's [Result.State] gives it: the next request chains to its last
// response (or, in stateless mode, replays its transcript), approvals
// granted "always" stay granted, its per-run parameters apply, and the
// outputs it had not sent (a run stopped by a budget or a cancellation)
// are sent first. It is the one value a program saves to go on with a
// conversation later. A state with pending approvals is continued with
// [Agent.Resume] instead; its pending calls are ignored here.
func WithState(st *RunState) RunOption {
	return func(c *runConfig) {
		if st != nil {
			cp := *st
			c.state = &cp
		}
	}
}

// WithPreviousResponse continues the conversation of a stored response, as
// [Result.ResponseID] gives it: the run's first request chains to it. It is
// shorthand for [WithState] with only that id.
func WithPreviousResponse(id string) RunOption {
	return func(c *runConfig) {
		c.ensureState().PreviousResponseID = id
	}
}

// WithTranscript continues a stateless conversation: the items (as
// [Result.Transcript] gives them) are sent before the new input. It is
// shorthand for [WithState] with only that transcript.
func WithTranscript(items []responses.Item) RunOption {
	return func(c *runConfig) {
		c.ensureState().Transcript = slices.Clone(items)
	}
}

func (c *runConfig) ensureState() *RunState {
	if c.state == nil {
		c.state = &RunState{}
	}
	return c.state
}

// Run sends prompt as a user message and runs the loop until the model stops
// calling tools. It returns the result; on error it returns the partial
// result too. Since nothing reads its events, the stream's deltas are
// passed over undecoded (unless an Event middleware reads them).
func (a *Agent) Run(ctx context.Context, prompt string, opts ...RunOption) (*Result, error) {
	return Collect(a.Stream(ctx, prompt, append(opts[:len(opts):len(opts)], collected)...))
}

// RunItems is like [Agent.Run] with input items instead of a prompt.
func (a *Agent) RunItems(ctx context.Context, input []responses.Item, opts ...RunOption) (*Result, error) {
	return Collect(a.StreamItems(ctx, input, append(opts[:len(opts):len(opts)], collected)...))
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
		m := NewMachine(a.Config(), cfg.state)
		m.SetParams(cfg.params)
		m.Grant(a.alwaysKeys()...)
		r := a.newRun(yield, m)
		defer func() { r.cancel() }()
		r.rec = cfg.recorder
		r.setQuiet(cfg.collected && !r.top.hasEventMW)
		r.finish(r.handle(ctx, &RunInfo{Agent: a.opts.Name, Model: a.model}, func(now time.Time) []Action {
			if r.rec != nil {
				if err := r.rec.Start(r.ctx, input); err != nil {
					return m.finish(nil, err)
				}
			}
			return m.Start(now, input)
		}))
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
// continues, so [WithState], [WithPreviousResponse] and [WithTranscript]
// are ignored.
func (a *Agent) Resume(ctx context.Context, state *RunState, decisions []Decision, opts ...RunOption) (*Result, error) {
	return Collect(a.ResumeStream(ctx, state, decisions, append(opts[:len(opts):len(opts)], collected)...))
}

// ResumeStream is like [Agent.Resume] but yields events as [Agent.Stream].
func (a *Agent) ResumeStream(ctx context.Context, state *RunState, decisions []Decision, opts ...RunOption) iter.Seq2[Event, error] {
	var cfg runConfig
	for _, o := range opts {
		o(&cfg)
	}
	return func(yield func(Event, error) bool) {
		cur := a // the agent in charge when the run stopped
		if state != nil && state.Agent != "" {
			if found := a.find(state.Agent); found != nil {
				cur = found
			}
		}
		m := NewMachine(cur.Config(), nil)
		m.SetParams(cfg.params)
		m.Grant(a.alwaysKeys()...)
		r := a.newRun(yield, m)
		defer func() { r.cancel() }()
		r.a = cur
		r.rec = cfg.recorder
		r.setQuiet(cfg.collected && !r.top.hasEventMW)
		if state != nil {
			r.recTurns, r.recItems = state.Turns, len(state.Items)
		}
		r.finish(r.handle(ctx, &RunInfo{Agent: a.opts.Name, Model: a.model, Resumed: true}, func(now time.Time) []Action {
			return m.Resume(now, state, decisions)
		}))
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

// run is the in-process driver of one run's [Machine]. Its methods run on
// the iterating goroutine, except the dispatcher's, which report to the
// Machine under mu; every event goes through q to the iterating goroutine.
type run struct {
	a       *Agent // the agent in charge: the one the run started with, or one it was handed to
	top     *Agent // the agent the run started with: its middleware wraps the whole run
	ctx     context.Context
	cancel  context.CancelFunc
	yield   func(Event, error) bool
	stopped bool // the consumer stopped iterating

	mu sync.Mutex // guards m
	m  *Machine
	q  eventQueue

	rt   *router // the tools of the current turn
	turn int     // the number of the request in flight
	// quiet: nobody reads the run's events as they happen (a Run without
	// Event middleware): the stream skips the deltas undecoded and no
	// event is queued or yielded but the last (see setQuiet).
	quiet bool

	rec                Recorder
	recTurns, recItems int // what rec has recorded
}

func (a *Agent) newRun(yield func(Event, error) bool, m *Machine) *run {
	return &run{a: a, top: a, yield: yield, m: m, q: eventQueue{notify: make(chan struct{}, 1)}, cancel: func() {}}
}

// handle runs the run through the Run middleware, the innermost handler
// driving the Machine from the actions start returns.
func (r *run) handle(ctx context.Context, info *RunInfo, start func(time.Time) []Action) (*Result, error) {
	h := RunHandler(func(ctx context.Context, _ *RunInfo) (*Result, error) {
		r.ctx, r.cancel = context.WithCancel(ctx) // canceled once the run has finished
		return r.drive(r.step(nil, func(m *Machine, now time.Time) []Action { return start(now) }))
	})
	for _, mw := range slices.Backward(r.top.opts.Middleware) {
		if mw.Run != nil {
			h = mw.Run(h)
		}
	}
	return h(ctx, info)
}

// step runs f on the Machine under the lock, queues the events it emits,
// and returns the other actions. With d, call actions go to d.
func (r *run) step(d *dispatcher, f func(*Machine, time.Time) []Action) []Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	acts := f(r.m, time.Now())
	n := 0
	var calls []Action
	for _, act := range acts {
		switch act := act.(type) {
		case nil: // the event a silent Machine did not give
		case Emit:
			r.q.push(act.Event)
		case ReviewCall, AskApproval, RunCall, DeclineCall:
			calls = append(calls, act)
		default:
			acts[n] = act
			n++
		}
	}
	if len(calls) > 0 {
		d.submit(calls...) // at once, in the Machine's order: the lock is held
	}
	return acts[:n]
}

// observe reports o to the Machine; see step.
func (r *run) observe(d *dispatcher, o Observation) []Action {
	return r.step(d, func(m *Machine, now time.Time) []Action { return m.Step(now, o) })
}

// drive performs the Machine's turn actions until it finishes.
func (r *run) drive(acts []Action) (*Result, error) {
	for {
		r.flush()
		if len(acts) != 1 {
			return nil, fmt.Errorf("agent: internal error: %d turn actions", len(acts))
		}
		switch act := acts[0].(type) {
		case Finish:
			return act.Result, act.Err
		case ListTools:
			infos, err := r.listTools()
			d := newDispatcher(r)
			acts = r.observe(d, ToolsListed{Tools: infos, Err: err})
			if len(acts) == 0 {
				// A resumed turn: its remaining calls are being taken up.
				d.close()
				d.wait()
				acts = r.turnEnded()
			} else {
				d.release()
			}
		case Compact:
			acts = r.observe(nil, r.compact(act))
		case HandOff:
			acts = r.observe(nil, r.handOff(act))
		case SendRequest:
			acts = r.exchange(act)
		default:
			return nil, fmt.Errorf("agent: internal error: unexpected action %T", act)
		}
	}
}

// turnEnded reports the end of a turn's calls and records the turn.
func (r *run) turnEnded() []Action {
	acts := r.observe(nil, TurnEnded{Err: r.ctx.Err()})
	if err := r.record(); err != nil {
		if _, done := acts[0].(Finish); !done {
			r.mu.Lock()
			acts = r.m.finish(nil, err)
			r.mu.Unlock()
		}
	}
	return acts
}

// listTools lists the tools of the coming turn.
func (r *run) listTools() ([]ToolInfo, error) {
	rt, err := r.a.router(r.ctx)
	if err != nil {
		return nil, err
	}
	r.rt = rt
	return rt.infos, nil
}

// setQuiet says whether anybody reads the run's events as they happen:
// nobody does when the consumer is Collect and no middleware sees events,
// and then the events are not even queued (Collect reads only the
// EventRunCompleted that finish yields).
func (r *run) setQuiet(quiet bool) {
	r.quiet = quiet
	r.q.drop = quiet
	r.m.silent = quiet
}

// emit hands an event to the consumer. After the consumer stops, events are
// dropped and the run is cancelled.
func (r *run) emit(ev Event) {
	if r.stopped || r.quiet {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if ev.Turn == 0 {
		ev.Turn = r.turn
	}
	if r.top.hasEventMW {
		ev = r.eventMiddleware(ev)
	}
	if !r.yield(ev, nil) {
		r.stopped = true
		r.cancel()
	}
}

// eventMiddleware passes ev through the Event middleware (a function of
// its own, so that without middleware ev stays off the heap).
func (r *run) eventMiddleware(ev Event) Event {
	for _, mw := range r.top.opts.Middleware {
		if mw.Event != nil {
			mw.Event(r.ctx, &ev)
		}
	}
	return ev
}

// flush emits the queued events.
func (r *run) flush() {
	for _, ev := range r.q.drain() {
		r.emit(ev)
	}
}

func (r *run) finish(res *Result, err error) {
	r.flush()
	if r.rec != nil && res != nil {
		ctx := r.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		// Recorded even when the run was canceled: what the user saw is kept.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if rerr := r.rec.End(ctx, res, err); rerr != nil {
			r.a.log.Warn("recording the end of the run failed", "err", rerr)
		}
		cancel()
	}
	if res != nil && res.State != nil {
		for _, k := range res.State.AlwaysApproved {
			r.top.rememberAlways(k)
		}
	}
	if r.stopped {
		return
	}
	if res == nil {
		res = &Result{}
	}
	if tw := (*TripwireError)(nil); errors.As(err, &tw) {
		r.emit(Event{Kind: EventGuardrailTripped, Turn: res.Turns, Tripwire: tw})
	}
	if err != nil && r.ctx != nil && r.ctx.Err() != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (%w)", err, context.Cause(r.ctx))
	}
	done := Event{Kind: EventRunCompleted, Turn: res.Turns, Time: time.Now(), Result: res}
	if r.top.hasEventMW && r.ctx != nil {
		for _, mw := range r.top.opts.Middleware {
			if mw.Event != nil {
				mw.Event(r.ctx, &done)
			}
		}
	}
	r.yield(done, err)
	r.stopped = true
}

// exchange sends a request and runs its calls, streaming or not, and
// returns the Machine's next actions.
//
// A turn has one retry budget when the client offers one
// ([responses.Client.NewRetryBudget]): the client's own retries and the
// loop's re-asks of a broken stream draw from it, and a re-ask waits the
// client's backoff first, so a turn sends at most MaxRetries+1 requests.
func (r *run) exchange(act SendRequest) []Action {
	ctx := r.ctx
	var budget *responses.RetryBudget
	if bc, ok := r.a.client.(interface {
		NewRetryBudget() *responses.RetryBudget
	}); ok {
		budget = bc.NewRetryBudget()
		ctx = responses.WithRetryBudget(ctx, budget)
	}
	for {
		r.turn = act.Turn
		d := newDispatcher(r)
		call := &ModelCall{Agent: r.a.opts.Name, Turn: act.Turn, Request: act.Request, Retry: act.Retry}
		resp, err := r.top.callModel(ctx, call, func(ctx context.Context, call *ModelCall) (*responses.Response, error) {
			return r.send(ctx, call.Request, d)
		})
		if err != nil {
			d.abort()
			d.wait()
			var se *responses.StreamError
			broke := errors.As(err, &se) && (budget == nil || budget.Left() > 0)
			acts := r.observe(nil, RequestFailed{Err: err, StreamBroke: broke})
			if len(acts) == 1 {
				if next, ok := acts[0].(SendRequest); ok && next.Retry {
					r.a.log.Warn("stream broke after output; asking for the turn again", "turn", act.Turn, "err", err)
					if budget != nil {
						budget.Wait(ctx, err)
					}
					act = next
					continue
				}
			}
			return acts
		}
		d.complete()
		r.observe(d, ResponseDone{Response: resp})
		d.close()
		d.wait()
		return r.turnEnded()
	}
}

// ignoredEvents are the stream events a run reads through other events or
// the final response: the stream passes over them undecoded.
var ignoredEvents = []string{
	responses.EventResponseInProgress, responses.EventResponseQueued,
	responses.EventOutputItemAdded, responses.EventContentPartAdded, responses.EventContentPartDone,
	responses.EventOutputTextDone, responses.EventFunctionCallArgumentsDelta,
	responses.EventFunctionCallArgumentsDone, responses.EventReasoningSummaryPartAdded,
	responses.EventReasoningSummaryPartDone, responses.EventReasoningSummaryTextDone,
	responses.EventReasoningTextDone, responses.EventCustomToolCallInputDelta,
	responses.EventCustomToolCallInputDone,
}

// deltaEvents are the events of the text and reasoning deltas, skipped
// when nobody reads them.
var deltaEvents = []string{
	responses.EventOutputTextDelta, responses.EventReasoningSummaryTextDelta, responses.EventReasoningTextDelta,
}

// send sends req, streaming or not, and reports each call item to the
// Machine as soon as it is complete, so its call starts at once.
func (r *run) send(ctx context.Context, req *responses.Request, d *dispatcher) (*responses.Response, error) {
	if r.a.opts.DisableStreaming {
		resp, err := r.a.client.Create(ctx, req)
		if err == nil {
			for i := range resp.Output {
				it := resp.Output[i]
				r.emit(Event{Kind: EventItemDone, Item: &it})
				r.emitHostedItem(it)
			}
		}
		return resp, err
	}
	s, err := r.a.client.Stream(ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	s.Skip(ignoredEvents...)
	if r.quiet {
		// Nobody reads the deltas, nor the restart of a stream (which
		// resets them).
		s.Skip(deltaEvents...)
		s.Skip(responses.EventResponseCreated)
	}
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
				if isAnswerable(it) {
					r.observe(d, CallStreamed{Item: it})
				}
			}
		case responses.EventResponseCompleted, responses.EventResponseFailed, responses.EventResponseIncomplete:
			// The final response, read below.
		default:
			if slices.Contains(ignoredEvents, ev.Type) {
				break // skipped by the stream, unless it cannot tell its type
			}
			if hev, ok := hostedStreamEvent(ev); ok {
				r.emit(hev)
				break
			}
			r.emit(Event{Kind: EventServer, Server: &ServerEvent{Type: ev.Type, JSON: ev.Raw}})
		}
		r.flush()
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

// handOff switches the run to the agent the Machine names.
func (r *run) handOff(act HandOff) HandedOff {
	h, ok := r.a.handoff(act.To)
	if !ok {
		return HandedOff{Err: fmt.Errorf("agent %q cannot hand off to %q", r.a.opts.Name, act.To)}
	}
	if h.OnHandoff != nil {
		if err := h.OnHandoff(r.ctx, act.Arguments); err != nil {
			return HandedOff{Err: err}
		}
	}
	var history []responses.Item
	if !h.Filter.isZero() {
		history = h.Filter.apply(act.History)
		if history == nil {
			history = []responses.Item{}
		}
	}
	r.a = h.Agent
	return HandedOff{Config: r.a.Config(), History: history}
}

// compact performs a compaction the Machine asked for.
func (r *run) compact(act Compact) Compacted {
	var c Compacted
	if act.Endpoint != nil {
		call := &ModelCall{Agent: r.a.opts.Name, Turn: r.turn, Kind: "compact", Request: &responses.Request{
			Model: act.Endpoint.Model, Instructions: act.Endpoint.Instructions,
			PreviousResponseID: act.Endpoint.PreviousResponseID, Input: act.Endpoint.Input,
		}}
		out, err := r.top.callModel(r.ctx, call, func(ctx context.Context, _ *ModelCall) (*responses.Response, error) {
			out, err := r.a.client.Compact(ctx, act.Endpoint)
			if err != nil {
				return nil, err
			}
			return &responses.Response{ID: out.ID, Status: responses.StatusCompleted, Output: out.Output, Usage: out.Usage}, nil
		})
		switch {
		case err == nil && len(out.Output) == 0:
			c.Err = errors.New("the compact endpoint returned no items")
		case err == nil:
			c.Output, c.Usage = out.Output, out.Usage
			return c
		case isMissingEndpoint(err):
			r.a.log.Info("the server has no compact endpoint; compacting by a summary", "err", err)
			c.NoEndpoint = true
		default:
			c.Err = err
		}
	}
	if c.Err == nil {
		call := &ModelCall{Agent: r.a.opts.Name, Turn: r.turn, Kind: "summary", Request: act.Summary}
		resp, err := r.top.callModel(r.ctx, call, func(ctx context.Context, call *ModelCall) (*responses.Response, error) {
			return r.a.client.Create(ctx, call.Request)
		})
		if err != nil {
			c.Err = fmt.Errorf("summarising turn: %w", err)
		}
		c.Summary = resp
	}
	if c.Err != nil && r.ctx.Err() == nil {
		// Compaction is a precaution taken before the window is full: the
		// run goes on uncompacted, and tries again after its next response.
		r.a.log.Warn("compaction failed; continuing without it", "err", c.Err)
	}
	return c
}
