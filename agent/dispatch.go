package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// dispatcher runs the calls of one response. Calls are submitted in order
// (as their items complete in the stream); one scheduling goroutine reviews
// them, asks the approver, and starts each call in its own goroutine:
// parallel-safe calls together (bounded by MaxParallel), others alone. All
// events go through q to the run's goroutine.
type dispatcher struct {
	r        *run
	rt       *router
	parallel bool
	decided  map[string]Approval // decisions given to Resume, by call key

	ctx    context.Context
	cancel context.CancelFunc
	in     chan responses.Item
	q      eventQueue

	done      chan struct{} // closed when the scheduler and every call have finished; nil until the first submit
	calls     *pool.Pool    // running calls, at most MaxParallel
	exclusive sync.RWMutex  // held shared by parallel-safe calls, exclusively by others
	closeOnce sync.Once
	submitted int // calls submitted; used by the run's goroutine only

	mu       sync.Mutex
	outputs  map[string]responses.Item // by call key
	deferred []PendingApproval
	ran      []ranCall
}

type ranCall struct{ key, name string }

func newDispatcher(r *run, rt *router, parallel bool, decided map[string]Approval) *dispatcher {
	ctx, cancel := context.WithCancel(r.ctx)
	d := &dispatcher{
		r: r, rt: rt, parallel: parallel, decided: decided,
		ctx: ctx, cancel: cancel,
		in:      make(chan responses.Item, 8),
		q:       eventQueue{notify: make(chan struct{}, 1)},
		calls:   pool.New().WithMaxGoroutines(r.a.opts.MaxParallel),
		outputs: map[string]responses.Item{},
	}
	return d
}

// submit queues a call. Items submitted twice (streamed, then found again
// in the final response) run once.
func (d *dispatcher) submit(it responses.Item) {
	d.submitted++
	if d.done == nil {
		// The scheduler starts with the first call: a turn without calls
		// costs no goroutine.
		d.done = make(chan struct{})
		go d.schedule()
	}
	select {
	case d.in <- it:
	case <-d.ctx.Done():
	}
}

// close says no more calls will be submitted.
func (d *dispatcher) close() { d.closeOnce.Do(func() { close(d.in) }) }

// abort cancels running calls and stops scheduling.
func (d *dispatcher) abort() {
	d.cancel()
	d.close()
}

// wait waits for every call to finish, emitting queued events meanwhile.
func (d *dispatcher) wait() {
	if d.done == nil {
		d.r.flush(d)
		d.cancel()
		return
	}
	for {
		select {
		case <-d.q.notify:
			d.r.flush(d)
		case <-d.done:
			d.r.flush(d)
			d.cancel()
			return
		}
	}
}

func (d *dispatcher) schedule() {
	defer close(d.done)
	defer d.calls.Wait()
	seen := map[string]bool{}
	for it := range d.in {
		key := it.CallKey()
		if seen[key] {
			continue
		}
		seen[key] = true
		if d.ctx.Err() != nil {
			d.setOutput(key, d.canceledOutput(it))
			continue
		}
		d.start(it)
	}
}

// start reviews one call and starts it. It runs on the scheduling goroutine.
func (d *dispatcher) start(it responses.Item) {
	if it.Type == responses.TypeMCPApprovalRequest {
		d.hostedMCPApproval(it)
		return
	}
	call := tools.NewCall(it)
	call.Progress = func(p tools.Progress) {
		d.q.push(Event{Kind: EventToolProgress, Tool: &ToolEvent{CallID: call.CallID, Type: call.Type, Name: toolName(call), Progress: &p}})
	}
	tool, ok := d.rt.byKey[callRouteKey(it)]
	if !ok {
		msg := fmt.Sprintf("unknown tool %q", toolName(call))
		if len(d.rt.names) > 0 {
			msg += "; available tools: " + strings.Join(d.rt.names, ", ")
		}
		d.finishRefused(call, tools.FailedOutput(call, errors.New(msg)), OutcomeUnknown, msg)
		return
	}
	if !d.approve(call, tool) {
		return
	}
	exclusive := !d.parallel
	if ps, ok := tool.(tools.ParallelSafe); ok && !ps.ParallelSafe() {
		exclusive = true
	}
	unlock := func(exclusive bool) {
		if exclusive {
			d.exclusive.Unlock()
		} else {
			d.exclusive.RUnlock()
		}
	}
	if exclusive {
		d.exclusive.Lock()
	} else {
		d.exclusive.RLock()
	}
	if d.ctx.Err() != nil {
		unlock(exclusive)
		d.setOutput(call.CallID, d.canceledOutput(it))
		return
	}
	// Go blocks while MaxParallel calls are running.
	d.calls.Go(func() {
		defer unlock(exclusive)
		d.run(call, tool)
	})
}

// approve consults the tool's policy and the approver. It reports whether
// the call may run; when it may not, the call's output has been recorded.
func (d *dispatcher) approve(call tools.Call, tool tools.Tool) bool {
	rv, ok := tool.(tools.Reviewer)
	if !ok {
		return true
	}
	review, err := rv.Review(d.ctx, call)
	if err != nil {
		d.finishRefused(call, tools.FailedOutput(call, err), OutcomeError, err.Error())
		return false
	}
	switch review.Decision {
	case tools.Allow:
		return true
	case tools.Deny:
		msg := "This call was refused by policy"
		if review.Reason != "" {
			msg += ": " + review.Reason
		}
		outcome := OutcomeDenied
		if review.Err != nil {
			outcome = tools.OutcomeOf(review.Err)
		}
		d.finishRefused(call, d.refusedOutput(call, tool, msg), outcome, msg)
		return false
	}
	req := review.Request
	if req.CallID == "" {
		req.CallID = call.CallID
	}
	if req.Tool == "" {
		req.Tool = toolName(call)
	}
	ap, decided := d.ask(req)
	if !decided {
		return false
	}
	if ap.Approved {
		return true
	}
	msg := "The user declined this call"
	if ap.Reason != "" {
		msg = "The call was declined: " + ap.Reason
	}
	d.finishRefused(call, d.refusedOutput(call, tool, msg), OutcomeDenied, msg)
	return false
}

// ask puts req to the approver (or a decision given to Resume, or an earlier
// "approve always"). decided is false when the approval was deferred.
func (d *dispatcher) ask(req tools.ApprovalRequest) (ap Approval, decided bool) {
	if d.r.a.approvedAlways(req.Key) {
		ap = Approve
		d.q.push(Event{Kind: EventApprovalDecided, Approval: &ApprovalEvent{Request: req, Decision: &ap, Remembered: true}})
		return ap, true
	}
	if given, ok := d.decided[req.CallID]; ok {
		ap = given
	} else {
		d.q.push(Event{Kind: EventApprovalRequested, Approval: &ApprovalEvent{Request: req}})
		if d.r.a.opts.Approver == nil {
			ap = Deny("no approver is configured to approve this call")
		} else {
			var err error
			ap, err = d.r.a.opts.Approver.Approve(d.ctx, req)
			if err != nil {
				if d.ctx.Err() != nil {
					ap = Deny("the run was canceled")
				} else {
					ap = Deny("approval failed: " + err.Error())
				}
			}
		}
	}
	if ap.Defer {
		d.mu.Lock()
		d.deferred = append(d.deferred, PendingApproval{CallID: req.CallID, Request: req})
		d.mu.Unlock()
		d.q.push(Event{Kind: EventApprovalDecided, Approval: &ApprovalEvent{Request: req, Decision: &ap}})
		return ap, false
	}
	if ap.Approved && ap.Always {
		d.r.a.rememberAlways(req.Key)
	}
	d.q.push(Event{Kind: EventApprovalDecided, Approval: &ApprovalEvent{Request: req, Decision: &ap}})
	return ap, true
}

// hostedMCPApproval answers an mcp_approval_request through the approver.
func (d *dispatcher) hostedMCPApproval(it responses.Item) {
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
	ap, decided := d.ask(req)
	if !decided {
		return
	}
	out := responses.MustItem(responses.MCPApprovalResponse{
		Type: responses.TypeMCPApprovalResponse, ApprovalRequestID: it.ID,
		Approve: ap.Approved, Reason: ap.Reason,
	})
	d.setOutput(it.ID, out)
}

// run executes one approved call on its own goroutine.
func (d *dispatcher) run(call tools.Call, tool tools.Tool) {
	name := toolName(call)
	d.q.push(Event{Kind: EventToolStarted, Tool: &ToolEvent{CallID: call.CallID, Type: call.Type, Name: name, Call: call.Item}})
	ctx := d.ctx
	if t := d.r.a.opts.ToolTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	start := time.Now()
	out, err := d.invoke(ctx, call, tool)
	outcome := OutcomeOK
	var errText string
	switch {
	case d.ctx.Err() != nil:
		outcome, errText = OutcomeCanceled, "canceled"
		out = d.canceledOutput(call.Item)
	case err != nil && (out.IsZero() || out.OutputKey() != call.CallID):
		outcome, errText = tools.OutcomeOf(err), err.Error()
		out = tools.FailedOutput(call, err)
	case err != nil:
		// The tool's own output for its failure; err says what happened.
		outcome, errText = tools.OutcomeOf(err), err.Error()
	case out.IsZero():
		outcome, errText = OutcomeError, "tool returned no output"
		out = tools.FailedOutput(call, errors.New("the tool returned no output"))
	case out.OutputKey() != call.CallID:
		d.r.a.log.Error("tool returned an output for another call", "tool", name, "call_id", call.CallID, "output_key", out.OutputKey())
		outcome, errText = OutcomeError, "tool returned an output for another call"
		out = tools.FailedOutput(call, errors.New("internal error: the tool answered another call"))
	default:
		if failedOutput(out) {
			outcome = OutcomeError
		}
	}
	d.setOutput(call.CallID, out)
	d.mu.Lock()
	d.ran = append(d.ran, ranCall{key: call.CallID, name: name})
	d.mu.Unlock()
	d.q.push(Event{Kind: EventToolFinished, Tool: &ToolEvent{
		CallID: call.CallID, Type: call.Type, Name: name, Call: call.Item,
		Outcome: outcome, Error: errText, Err: err, Duration: time.Since(start), Output: &out,
	}})
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

func (d *dispatcher) finishRefused(call tools.Call, out responses.Item, outcome Outcome, msg string) {
	d.setOutput(call.CallID, out)
	d.q.push(Event{Kind: EventToolFinished, Tool: &ToolEvent{
		CallID: call.CallID, Type: call.Type, Name: toolName(call), Call: call.Item,
		Outcome: outcome, Error: msg, Output: &out,
	}})
}

func (d *dispatcher) canceledOutput(it responses.Item) responses.Item {
	call := tools.NewCall(it)
	if it.Type == responses.TypeMCPApprovalRequest {
		return responses.MustItem(responses.MCPApprovalResponse{Type: responses.TypeMCPApprovalResponse, ApprovalRequestID: it.ID, Reason: "canceled"})
	}
	return tools.TextOutput(call, "Canceled by the user before it finished.", true)
}

func (d *dispatcher) setOutput(key string, out responses.Item) {
	d.mu.Lock()
	d.outputs[key] = out
	d.mu.Unlock()
}

func toolName(call tools.Call) string {
	if call.Name != "" {
		return call.Name
	}
	return strings.TrimSuffix(call.Type, "_call")
}

// failedOutput reports whether an output item says the call failed.
func failedOutput(out responses.Item) bool {
	switch out.Type {
	case responses.TypeApplyPatchCallOutput:
		var o responses.ApplyPatchCallOutput
		return out.Decode(&o) == nil && o.Status == "failed"
	case responses.TypeShellCallOutput:
		var o responses.ShellCallOutput
		if out.Decode(&o) != nil {
			return false
		}
		for _, c := range o.Output {
			if c.Outcome.Type == "timeout" || (c.Outcome.ExitCode != nil && *c.Outcome.ExitCode != 0) {
				return true
			}
		}
	case responses.TypeFunctionCallOutput, responses.TypeCustomToolCallOutput:
		return strings.HasPrefix(outputText(out), "error:")
	}
	return false
}

// outputText returns the text an output item carries.
func outputText(out responses.Item) string {
	var o struct {
		Output json.RawMessage `json:"output"`
	}
	if out.Decode(&o) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(o.Output, &s) == nil {
		return s
	}
	var parts []responses.ContentPart
	if json.Unmarshal(o.Output, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	var sh []responses.ShellCommandOutput
	if json.Unmarshal(o.Output, &sh) == nil {
		var b strings.Builder
		for _, c := range sh {
			b.WriteString(c.Stdout)
			b.WriteString(c.Stderr)
		}
		return b.String()
	}
	return string(o.Output)
}

// eventQueue carries events from tool goroutines to the run's goroutine.
type eventQueue struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{}
}

func (q *eventQueue) push(ev Event) {
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
