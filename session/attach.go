package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// AttachOptions configure [Attach]. The zero value chains each request to
// the conversation's last response.
type AttachOptions struct {
	// Stateless replays the stored items with the run's first request
	// instead of chaining to the last response (for servers that keep no
	// state, or agents with Options.Stateless set).
	Stateless bool
	// Window bounds what is replayed in stateless mode (the last N items,
	// or a token budget); nil replays the whole current context. Nothing
	// stored is deleted. It is ignored when chaining.
	Window *LoadOptions
	// Meta, when not nil, replaces the conversation's metadata with the
	// run's first append.
	Meta json.RawMessage
}

// Attached is a conversation joined to an agent run: it is the run's
// [agent.Recorder], so each step of the run is in the store as soon as it
// happens. Get one with [Attach] per run; it is not safe for concurrent
// use, and one Attached records one run.
//
// What it stores, in the conversation's items:
//
//   - Start: the run's input, appended at the version Attach loaded, so a
//     concurrent run on the same conversation fails with a [*ConflictError]
//     before a request is sent;
//   - Turn: every completed turn's items (the response's output items and
//     the outputs of its calls) with the turn's response id, and the
//     turn's continuation ([agent.RunState]) in the same transaction: a
//     process killed later loses no completed turn, and the next Attach
//     finds the continuation ([Attached.Interrupted]) so that no completed
//     call runs again;
//   - End, also when the run failed: the items the turns did not record
//     (a partial turn), the last response id, and for a run stopped for
//     approvals its continuation under [Attached.PendingID], which a later
//     request takes with [TakeApproval] exactly once. A new run on the
//     conversation before that abandons the approval (see
//     [Attached.Input]).
type Attached struct {
	store Store
	conv  string
	opts  AttachOptions

	mu           sync.Mutex
	info         Info
	window       []responses.Item // stateless: the items to replay
	interrupted  *agent.RunState
	version      int64
	stored       map[string]bool // input items already stored (unsent outputs), by JSON
	abandoned    *continuation   // the last run stopped for approvals
	base         int             // items of the run's Result that precede this run
	recorded     int             // items of this run recorded, after base
	started      bool            // Start or a Turn has run
	lost         error           // a conflict: this run no longer writes
	cont         string          // the continuation written with the last Turn
	lastResponse string          // the response id the last Turn appended
	pendingID    string
}

var _ agent.Recorder = (*Attached)(nil)

// continuation is what a pending row of an attached run holds.
type continuation struct {
	Conversation string          `json:"conversation"`
	State        *agent.RunState `json:"state"`
	// Ended is false for a turn's continuation (the run went on), true
	// for the continuation a run left at its end (unsent outputs).
	Ended bool `json:"ended,omitempty"`
	// Approval is the id of the approval a run stopped for; Send are the
	// outputs a new run sends first if it abandons that approval (its
	// calls answered, the undecided ones as declined), and Stored says
	// which of them are stored already.
	Approval string           `json:"approval,omitempty"`
	Send     []responses.Item `json:"send,omitempty"`
	Stored   []bool           `json:"stored,omitempty"`
}

// continuationID names the continuation kept with version v of conv.
func continuationID(conv string, v int64) string {
	return "run." + strconv.FormatInt(v, 10) + "." + conv
}

// Attach loads what a run on conversation conv needs from store: only its
// last response id when chaining, the items to replay (bounded by
// opts.Window) when stateless. It also takes, exactly once, the
// continuation of a run on conv that did not finish (a crashed process, or
// a run that ended with outputs not yet sent): see [Attached.Interrupted].
// A nil opts chains.
func Attach(ctx context.Context, store Store, conv string, opts *AttachOptions) (*Attached, error) {
	s := &Attached{store: store, conv: conv}
	if opts != nil {
		s.opts = *opts
	}
	load := &LoadOptions{Last: -1}
	if s.opts.Stateless {
		load = s.opts.Window
	}
	c, err := store.Load(ctx, conv, load)
	if err != nil {
		return nil, err
	}
	s.info, s.window, s.version = c.Info, c.Items, c.Version
	if c.Version > 0 {
		data, err := store.TakePending(ctx, continuationID(conv, c.Version))
		switch {
		case err == nil:
			var cont continuation
			if err := json.Unmarshal(data, &cont); err != nil || (cont.State == nil && cont.Approval == "") {
				return nil, fmt.Errorf("session: conversation %q: the continuation of its last run is unreadable: %v", conv, err)
			}
			switch st := cont.State; {
			case cont.Approval != "":
				s.abandoned = &cont
			case len(st.Input) > 0 || len(st.Calls) > 0 || len(st.Pending) > 0:
				s.interrupted = st // else: the run's last turn, whose end was not recorded
			}
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrPendingTaken):
		default:
			return nil, err
		}
	}
	return s, nil
}

// Info returns the conversation as Attach loaded it.
func (s *Attached) Info() Info { return s.info }

// Interrupted returns the continuation of the last run on the
// conversation when that run did not finish: its process died after a
// completed turn, or it ended (a failed request, a budget, a
// cancellation) with tool outputs not yet sent. Resume it with
// [Attached.Resume] and no decisions to go on where it stopped, running no
// completed call again; or start a new run, whose input [Attached.Input]
// prefixes with the unsent outputs. It returns nil when the last run
// finished.
func (s *Attached) Interrupted() *agent.RunState { return s.interrupted }

// Input returns the input of a new run: in, after the outputs the last
// run had not sent. Those are the outputs an interrupted run had not sent
// yet when chaining (in stateless mode they are already among the replayed
// items), or, when the last run stopped for approvals that nobody decided,
// the answers to its calls, the undecided ones as declined: a new message
// abandons a pending approval, whose id [TakeApproval] then no longer
// takes. If another request is deciding that approval right now, Input
// returns an error matching [ErrConflict].
func (s *Attached) Input(ctx context.Context, in []responses.Item) ([]responses.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ab := s.abandoned; ab != nil {
		if _, err := s.store.TakePending(ctx, ab.Approval); errors.Is(err, ErrPendingTaken) {
			return nil, fmt.Errorf("session: conversation %q: its pending approval is being decided by another request: %w", s.conv, ErrConflict)
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		s.abandoned = nil
		s.stored = map[string]bool{}
		var send []responses.Item
		for i, it := range ab.Send {
			stored := i < len(ab.Stored) && ab.Stored[i]
			if stored && s.opts.Stateless {
				continue // replayed with the stored items
			}
			if stored {
				s.stored[string(it.Raw())] = true
			}
			send = append(send, it)
		}
		return append(send, in...), nil
	}
	st := s.interrupted
	if s.opts.Stateless || st == nil || len(st.Calls) > 0 || len(st.Input) == 0 {
		return in, nil
	}
	s.stored = map[string]bool{}
	for _, it := range st.Input {
		s.stored[string(it.Raw())] = true
	}
	return append(append([]responses.Item(nil), st.Input...), in...), nil
}

// RunOptions returns the options that continue the conversation in a new
// run and record it here: the last response to chain to (or the items to
// replay) and [agent.WithRecorder]. Pass the input through
// [Attached.Input].
func (s *Attached) RunOptions() []agent.RunOption {
	var opts []agent.RunOption
	if s.interrupted != nil {
		st := *s.interrupted
		st.Input = nil                            // Attached.Input sends the unsent outputs (and knows they are stored)
		opts = append(opts, agent.WithState(&st)) // approvals granted "always", parameters
	}
	if s.opts.Stateless {
		opts = append(opts, agent.WithTranscript(s.window))
	} else {
		opts = append(opts, agent.WithPreviousResponse(s.info.ResponseID))
	}
	return append(opts, agent.WithRecorder(s))
}

// Stream runs a on input as the conversation's next run, recording it as
// it goes; see [agent.Agent.StreamItems].
func (s *Attached) Stream(ctx context.Context, a *agent.Agent, input []responses.Item, opts ...agent.RunOption) iter.Seq2[agent.Event, error] {
	in, err := s.Input(ctx, input)
	if err != nil {
		return func(yield func(agent.Event, error) bool) {
			yield(agent.Event{Kind: agent.EventRunCompleted, Time: time.Now(), Result: &agent.Result{}}, err)
		}
	}
	return a.StreamItems(ctx, in, append(s.RunOptions(), opts...)...)
}

// Run is [Attached.Stream], collected.
func (s *Attached) Run(ctx context.Context, a *agent.Agent, input []responses.Item, opts ...agent.RunOption) (*agent.Result, error) {
	return agent.Collect(s.Stream(ctx, a, input, opts...))
}

// ResumeStream resumes st, a continuation of this conversation (from
// [TakeApproval] or [Attached.Interrupted]), with decisions, recording the
// resumed run; see [agent.Agent.ResumeStream].
func (s *Attached) ResumeStream(ctx context.Context, a *agent.Agent, st *agent.RunState, decisions []agent.Decision, opts ...agent.RunOption) iter.Seq2[agent.Event, error] {
	s.mu.Lock()
	if st != nil {
		s.base, s.started = len(st.Items), true
	}
	s.mu.Unlock()
	return a.ResumeStream(ctx, st, decisions, append(opts, agent.WithRecorder(s))...)
}

// Resume is [Attached.ResumeStream], collected.
func (s *Attached) Resume(ctx context.Context, a *agent.Agent, st *agent.RunState, decisions []agent.Decision, opts ...agent.RunOption) (*agent.Result, error) {
	return agent.Collect(s.ResumeStream(ctx, a, st, decisions, opts...))
}

// PendingID returns the id under which the run's end kept its
// continuation when it stopped for approvals, "" otherwise. Hand it to
// [TakeApproval] when the decisions come.
func (s *Attached) PendingID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pendingID
}

// Start implements [agent.Recorder]: it appends the run's input at the
// version Attach loaded.
func (s *Attached) Start(ctx context.Context, input []responses.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started, s.base, s.recorded = true, 0, 0
	items := input
	if len(s.stored) > 0 {
		items = slices.DeleteFunc(slices.Clone(input), func(it responses.Item) bool { return s.stored[string(it.Raw())] })
	}
	return s.append(ctx, Turn{Items: items, Meta: s.opts.Meta})
}

// Turn implements [agent.Recorder]: it appends the turn's items and
// response id, with the turn's continuation.
func (s *Attached) Turn(ctx context.Context, t *agent.RecordedTurn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		// Recording a run resumed without ResumeStream.
		s.started, s.base = true, max(0, len(t.State.Items)-len(t.Items))
	}
	state, err := json.Marshal(continuation{Conversation: s.conv, State: t.State})
	if err != nil {
		return fmt.Errorf("session: record turn %d: %w", t.Turn, err)
	}
	id := continuationID(s.conv, s.version+1)
	if err := s.append(ctx, Turn{Items: t.Items, ResponseID: t.ResponseID, Pending: &Pending{ID: id, State: state, Replaces: s.cont}}); err != nil {
		return err
	}
	s.recorded += len(t.Items)
	s.cont, s.lastResponse = id, t.ResponseID
	return nil
}

// End implements [agent.Recorder]: it appends what the turns did not
// record, and keeps the run's continuation when the run stopped for
// approvals or left outputs unsent. It records nothing after a conflict.
func (s *Attached) End(ctx context.Context, res *agent.Result, runErr error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost != nil || !s.started {
		return nil
	}
	t := Turn{ResponseID: res.ResponseID}
	if n := s.base + s.recorded; len(res.Items) > n {
		t.Items = res.Items[n:]
	}
	var cont *continuation
	if st := res.State; st != nil && (len(st.Pending) > 0 || len(st.Input) > 0 || len(st.Calls) > 0) {
		cont = &continuation{Conversation: s.conv, State: st, Ended: true}
	}
	if cont != nil {
		data, err := json.Marshal(cont)
		if err != nil {
			return fmt.Errorf("session: record the end of the run: %w", err)
		}
		id := continuationID(s.conv, s.version+1)
		if len(res.State.Pending) > 0 {
			id = NewID()
		}
		t.Pending = &Pending{ID: id, State: data, Replaces: s.cont}
	}
	prev := s.cont
	if len(t.Items) == 0 && t.Pending == nil && (t.ResponseID == "" || t.ResponseID == s.lastResponse) && prev != "" {
		// The turns recorded everything. The last turn's continuation
		// stays until the next Attach takes it, which sees that it has
		// nothing left to do: no write here.
		return nil
	}
	if err := s.append(ctx, t); err != nil {
		return err
	}
	if t.Pending != nil && len(res.State.Pending) > 0 {
		s.pendingID = t.Pending.ID
		// What a new run sends if it abandons the approval, kept where the
		// next Attach looks.
		mark := continuation{Conversation: s.conv, Approval: s.pendingID}
		storedNow := map[string]bool{}
		for _, it := range t.Items {
			storedNow[string(it.Raw())] = true
		}
		for _, call := range res.State.Calls {
			out, ok := res.State.Outputs[call.CallKey()]
			if !ok {
				out = declined(call)
			}
			mark.Send = append(mark.Send, out)
			mark.Stored = append(mark.Stored, ok && storedNow[string(out.Raw())])
		}
		data, err := json.Marshal(mark)
		if err != nil {
			return fmt.Errorf("session: record the end of the run: %w", err)
		}
		if err := s.store.PutPending(ctx, s.conv, continuationID(s.conv, s.version), data); err != nil {
			return err
		}
	}
	s.cont = ""
	if t.Pending == nil {
		s.drop(ctx, prev)
	}
	return nil
}

// append appends t at the current version; s.mu is held.
func (s *Attached) append(ctx context.Context, t Turn) error {
	if s.lost != nil {
		return s.lost
	}
	v, err := s.store.Append(ctx, s.conv, s.version, t)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			s.lost = err
		}
		return err
	}
	s.version = v
	return nil
}

// drop takes a superseded continuation so the store does not keep it. A
// failure only leaves it stored.
func (s *Attached) drop(ctx context.Context, id string) {
	if id != "" {
		_, _ = s.store.TakePending(ctx, id)
	}
}

// declined is the answer to a call whose approval was abandoned.
func declined(call responses.Item) responses.Item {
	if call.Type == responses.TypeMCPApprovalRequest {
		return responses.MustItem(responses.MCPApprovalResponse{Type: responses.TypeMCPApprovalResponse, ApprovalRequestID: call.ID, Reason: "declined: the user went on without deciding"})
	}
	return tools.TextOutput(tools.NewCall(call), "Not run: the user went on without approving it.", true)
}

// Approval is a run stopped for approvals, as [TakeApproval] returns it.
type Approval struct {
	// Conversation is the run's conversation: check that the user deciding
	// may act on it, then Attach it and resume State.
	Conversation string
	// State is the run's continuation; State.Pending lists the calls that
	// await a decision.
	State *agent.RunState
}

// TakeApproval takes the continuation kept under id by the end of a run
// stopped for approvals ([Attached.PendingID]), exactly once: a second
// take returns an error matching [ErrPendingTaken], an unknown id one
// matching [ErrNotFound]. Resume it with [Attached.Resume] on the
// conversation it names:
//
//	ap, err := session.TakeApproval(ctx, store, id)
//	s, err := session.Attach(ctx, store, ap.Conversation, nil)
//	res, err := s.Resume(ctx, a, ap.State, decisions)
func TakeApproval(ctx context.Context, store Store, id string) (*Approval, error) {
	data, err := store.TakePending(ctx, id)
	if err != nil {
		return nil, err
	}
	var cont continuation
	if err := json.Unmarshal(data, &cont); err != nil || cont.State == nil || len(cont.State.Pending) == 0 {
		return nil, fmt.Errorf("session: pending %q is not an approval of an attached run", id)
	}
	return &Approval{Conversation: cont.Conversation, State: cont.State}, nil
}
