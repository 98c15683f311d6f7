package agent

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// dispatcher performs the call actions of one turn. Actions are queued in
// the order the Machine gives them; one scheduling goroutine performs
// reviews, approvals and declines one at a time, in that order, and starts
// each approved call on its own goroutine: parallel-safe calls together
// (bounded by MaxParallel), exclusive ones alone. Every result is reported
// to the Machine, and the call actions it gives back join the queue.
type dispatcher struct {
	r *run

	// ctx, cancel, wake and calls are made by the first submit: a turn
	// without calls costs none of them.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	aborted bool
	queue   []Action
	closed  bool
	final   bool // the response is complete: no call will be streamed in
	running int  // calls started and not finished
	wake    chan struct{}

	done      chan struct{} // closed when the scheduler and every call have finished; nil until the first submit
	deferred  bool          // the scheduler is to run in wait, on the run's goroutine
	calls     *pool.Pool    // running calls, at most MaxParallel
	exclusive sync.RWMutex  // held shared by parallel-safe calls, exclusively by others
}

func newDispatcher(r *run) *dispatcher { return &dispatcher{r: r} }

// submit queues call actions; it never blocks. The scheduler starts with
// the first action: a turn without calls costs no goroutine. When the
// response is already complete and nobody reads the run's events as they
// happen (a quiet run), the scheduler runs later in wait, on the run's own
// goroutine, which has nothing else to do until the calls end: a turn then
// costs no goroutine and no hand-over either.
func (d *dispatcher) submit(acts ...Action) {
	d.mu.Lock()
	d.queue = append(d.queue, acts...)
	if d.done == nil {
		d.ctx, d.cancel = context.WithCancel(d.r.ctx)
		if d.aborted {
			d.cancel()
		}
		d.wake = make(chan struct{}, 1)
		d.calls = pool.New().WithMaxGoroutines(d.r.a.opts.MaxParallel)
		d.done = make(chan struct{})
		if d.final && d.r.quiet {
			d.deferred = true
		} else {
			go d.schedule()
		}
	}
	wake := d.wake
	d.mu.Unlock()
	signal(wake)
}

// signal wakes the scheduler that waits on wake, if it has started.
func signal(wake chan struct{}) {
	select {
	case wake <- struct{}{}: // a nil wake (no scheduler yet) takes default
	default:
	}
}

// close says the turn's response is complete: once the queue is empty and
// every call has finished, the scheduler stops.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	wake := d.wake
	d.mu.Unlock()
	signal(wake)
}

// abort cancels running calls and stops scheduling.
func (d *dispatcher) abort() {
	d.mu.Lock()
	d.aborted = true
	d.mu.Unlock()
	d.release()
	d.close()
}

// release cancels the context of the turn's calls, if it was made.
func (d *dispatcher) release() {
	d.mu.Lock()
	cancel := d.cancel
	d.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// wait waits for every call to finish, emitting queued events meanwhile.
func (d *dispatcher) wait() {
	d.mu.Lock()
	done, deferred := d.done, d.deferred
	d.deferred = false
	d.mu.Unlock()
	if deferred {
		d.schedule()
	}
	if done == nil || deferred {
		d.r.flush()
		d.release()
		return
	}
	for {
		select {
		case <-d.r.q.notify:
			d.r.flush()
		case <-done:
			d.r.flush()
			d.release()
			return
		}
	}
}

func (d *dispatcher) schedule() {
	defer close(d.done)
	defer d.calls.Wait()
	for {
		d.mu.Lock()
		if len(d.queue) > 0 {
			act := d.queue[0]
			d.queue = d.queue[1:]
			d.mu.Unlock()
			d.perform(act)
			continue
		}
		if d.closed {
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		<-d.wake
	}
}

// report tells the Machine what happened.
func (d *dispatcher) report(o Observation) { d.r.observe(d, o) }

// perform performs one call action on the scheduling goroutine. Once the
// run is canceled, calls not yet started are answered as canceled.
func (d *dispatcher) perform(act Action) {
	if d.ctx.Err() != nil {
		switch act := act.(type) {
		case AskApproval:
			d.report(Approved{CallID: act.CallID, Canceled: true})
		case ReviewCall:
			d.report(CallDone{CallID: act.Call.CallID, Canceled: true, NotRun: true})
		case DeclineCall:
			d.report(CallDone{CallID: act.Call.CallID, Canceled: true, NotRun: true})
		case RunCall:
			d.report(CallDone{CallID: act.Call.CallID, Canceled: true, NotRun: true})
		}
		return
	}
	switch act := act.(type) {
	case ReviewCall:
		tool := d.r.rt.tool(act.Call.Item)
		review, err := tool.(tools.Reviewer).Review(d.ctx, act.Call)
		d.report(Reviewed{CallID: act.Call.CallID, Review: review, Err: err})
	case AskApproval:
		d.report(d.ask(act))
	case DeclineCall:
		tool := d.r.rt.tool(act.Call.Item)
		out, err := tool.(tools.Decliner).Declined(d.ctx, act.Call, act.Reason)
		if err != nil {
			d.r.a.log.Warn("tool gave no output for a declined call", "tool", toolName(act.Call), "call_id", act.Call.CallID, "err", err)
		}
		d.report(CallDone{CallID: act.Call.CallID, Output: out, Err: err})
	case RunCall:
		d.start(act)
	}
}

func (d *dispatcher) ask(act AskApproval) Approved {
	o := Approved{CallID: act.CallID}
	if d.ctx.Err() != nil {
		o.Canceled = true
		return o
	}
	ask := func(ctx context.Context, _ tools.Call, req tools.ApprovalRequest) (Approval, error) {
		approver := d.r.approver()
		if approver == nil {
			return Deny("no approver is configured to approve this call"), nil
		}
		return approver.Approve(ctx, req)
	}
	o.Approval, o.Err = d.r.top.approve(d.ctx, act.Call, act.Request, ask)
	if o.Err != nil && d.ctx.Err() != nil {
		o.Canceled = true
	}
	return o
}

// start starts an approved call on its own goroutine.
func (d *dispatcher) start(act RunCall) {
	call := act.Call
	tool := d.r.rt.tool(call.Item)
	exclusive := act.Exclusive
	if exclusive {
		d.exclusive.Lock()
	} else {
		d.exclusive.RLock()
	}
	unlock := func() {
		if exclusive {
			d.exclusive.Unlock()
		} else {
			d.exclusive.RUnlock()
		}
	}
	if d.ctx.Err() != nil {
		unlock()
		d.report(CallDone{CallID: call.CallID, Canceled: true, NotRun: true})
		return
	}
	d.mu.Lock()
	alone := d.final && len(d.queue) == 0 && d.running == 0
	d.running++
	d.mu.Unlock()
	body := func() {
		defer unlock()
		o := d.run(call, tool, act.Resume)
		d.mu.Lock()
		d.running--
		d.mu.Unlock()
		d.r.observe(d, o)
	}
	if alone {
		// The turn's last action and no call running: nothing can be
		// scheduled until this call reports, so it runs right here
		// rather than on a goroutine of its own.
		body()
		return
	}
	// Go blocks while MaxParallel calls are running.
	d.calls.Go(body)
}

// complete says the turn's response is complete: the call actions still
// to come are those its observation gives.
func (d *dispatcher) complete() {
	d.mu.Lock()
	d.final = true
	d.mu.Unlock()
}

// run executes one approved call.
func (d *dispatcher) run(call tools.Call, tool tools.Tool, resume *NestedResume) CallDone {
	name := toolName(call)
	call.Progress = func(p tools.Progress) {
		d.r.q.push(Event{Kind: EventToolProgress, Tool: &ToolEvent{CallID: call.CallID, Type: call.Type, Name: name, Progress: &p}})
	}
	ctx := d.ctx
	if t := d.r.a.opts.ToolTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	var link *parentLink
	if _, isAgent := tool.(*agentTool); isAgent {
		link = &parentLink{push: d.r.q.push, approver: d.r.approver(), resume: resume}
		ctx = context.WithValue(ctx, parentKey{}, link)
	}
	start := time.Now()
	out, err := d.r.top.callTool(ctx, tool, call, func(ctx context.Context, call tools.Call) (responses.Item, error) {
		// Started once the middleware let it through.
		d.r.q.push(Event{Kind: EventToolStarted, Tool: &ToolEvent{CallID: call.CallID, Type: call.Type, Name: name, Call: call.Item}})
		return d.invoke(ctx, call, tool)
	})
	if err == nil && !out.IsZero() && out.OutputKey() != call.CallID {
		d.r.a.log.Error("tool returned an output for another call", "tool", name, "call_id", call.CallID, "output_key", out.OutputKey())
	}
	done := CallDone{CallID: call.CallID, Output: out, Err: err, Duration: time.Since(start), Canceled: d.ctx.Err() != nil}
	if link != nil {
		done.Usage, done.UsageByModel = link.used()
	}
	return done
}

// invoke calls the tool, turning a panic into an error.
func (d *dispatcher) invoke(ctx context.Context, call tools.Call, tool tools.Tool) (out responses.Item, err error) {
	defer func() {
		if p := recover(); p != nil {
			d.r.a.log.Error("tool panicked", "tool", toolName(call), "call_id", call.CallID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("the tool failed with an internal error (panic)")
		}
	}()
	return tool.Call(ctx, call)
}

// approver returns the approver of the agent in charge, else that of the
// agent the run started with, else that of the run that called this one as
// a tool.
func (r *run) approver() Approver {
	if ap := r.a.opts.Approver; ap != nil {
		return ap
	}
	if ap := r.top.opts.Approver; ap != nil {
		return ap
	}
	if link, _ := r.ctx.Value(parentKey{}).(*parentLink); link != nil {
		return link.approver
	}
	return nil
}

// eventQueue carries events from tool goroutines to the run's goroutine.
type eventQueue struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{}
	drop   bool // nobody reads the events: push drops them (set before the run starts)
}

func (q *eventQueue) push(ev Event) {
	if q.drop {
		return
	}
	ev.Time = time.Now()
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *eventQueue) drain() []Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.events
	q.events = nil
	return slices.Clip(evs)
}
