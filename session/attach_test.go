package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

type echoArgs struct {
	Text string `json:"text"`
}

// newAgent returns an agent with an echo tool that counts its calls.
func newAgent(srv *rt.Server, calls *atomic.Int32, opts *agent.Options) *agent.Agent {
	var o agent.Options
	if opts != nil {
		o = *opts
	}
	fo := &function.Options{}
	if o.Approver != nil {
		fo.NeedsApproval = function.Always
	}
	o.Tools = []tools.Tool{function.New("echo", "Echo text.", func(ctx context.Context, in echoArgs) (string, error) {
		calls.Add(1)
		return in.Text, nil
	}, fo)}
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, APIKey: "k",
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond, MaxRetries: -1})
	return agent.New(c, "m", &o)
}

func user(s string) []responses.Item { return []responses.Item{responses.UserMessage(s)} }

// Every turn is appended as it completes; the next run chains to the last
// response.
func TestAttachRecordsTurns(t *testing.T) {
	ctx := t.Context()
	store := session.NewMemory()
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Output(rt.Text("done")),
		rt.Output(rt.Text("again")),
	)
	var calls atomic.Int32
	a := newAgent(srv, &calls, nil)

	s, err := session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	res, err := s.Run(ctx, a, user("go"))
	require.NoError(t, err)
	c, err := store.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 4, "input, call, output, answer")
	assert.Equal(t, res.ResponseID, c.ResponseID)
	assert.Equal(t, int64(3), c.Version, "start, two turns (the end has nothing left to write)")

	s, err = session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	assert.Nil(t, s.Interrupted())
	_, err = s.Run(ctx, a, user("more"))
	require.NoError(t, err)
	reqs := srv.Requests()
	assert.Equal(t, res.ResponseID, reqs[len(reqs)-1].Params.PreviousResponseID)
}

// A second run attached at the same version fails at Start, before it
// sends a request.
func TestAttachConflict(t *testing.T) {
	ctx := t.Context()
	store := session.NewMemory()
	srv := rt.New(t, rt.Output(rt.Text("one")))
	var calls atomic.Int32
	a := newAgent(srv, &calls, nil)
	s1, err := session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	s2, err := session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	_, err = s1.Run(ctx, a, user("first"))
	require.NoError(t, err)
	_, err = s2.Run(ctx, a, user("second"))
	var ce *session.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Len(t, srv.Requests(), 1, "the loser spent nothing")
	c, err := store.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 2)
}

// dying is a store that takes only the first n appends: a process killed
// after them.
type dying struct {
	session.Store
	n atomic.Int32
}

func (d *dying) Append(ctx context.Context, conv string, v int64, t session.Turn) (int64, error) {
	if d.n.Add(-1) < 0 {
		return 0, errors.New("killed")
	}
	return d.Store.Append(ctx, conv, v, t)
}

// A run whose process dies after its first turn is resumed from that
// turn's continuation: the completed call does not run again.
func TestAttachResumeAfterCrash(t *testing.T) {
	ctx := t.Context()
	mem := session.NewMemory()
	store := &dying{Store: mem}
	store.n.Store(2) // the input and the first turn
	var calls atomic.Int32
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Reply{Status: "failed"},
		rt.Output(rt.Text("done")),
	)
	a := newAgent(srv, &calls, nil)
	s, err := session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	_, err = s.Run(ctx, a, user("go"))
	require.Error(t, err)
	require.Equal(t, int32(1), calls.Load())

	s, err = session.Attach(ctx, mem, "conv", nil)
	require.NoError(t, err)
	st := s.Interrupted()
	require.NotNil(t, st, "the first turn's continuation was kept")
	res, err := s.Resume(ctx, a, st, nil)
	require.NoError(t, err)
	assert.Equal(t, "done", res.Text)
	assert.Equal(t, int32(1), calls.Load(), "the completed call did not run again")
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, st.PreviousResponseID, last.Params.PreviousResponseID)
	require.Len(t, last.Params.Input.Items, 1)
	assert.True(t, last.Params.Input.Items[0].IsOutput())

	c, err := mem.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 4, "input, call, output, answer: nothing twice")
	again, err := session.Attach(ctx, mem, "conv", nil)
	require.NoError(t, err)
	assert.Nil(t, again.Interrupted(), "taken once")
}

// A run whose request failed after a turn leaves its unsent outputs; the next run
// sends them before its input.
func TestAttachUnsentOutputs(t *testing.T) {
	ctx := t.Context()
	store := session.NewMemory()
	var calls atomic.Int32
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Reply{Faults: []rt.Fault{rt.ServerError(500)}, Output: []responses.Item{rt.Text("done")}},
	)
	a := newAgent(srv, &calls, nil)
	s, err := session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	_, err = s.Run(ctx, a, user("go"))
	require.Error(t, err)

	s, err = session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	require.NotNil(t, s.Interrupted())
	_, err = s.Run(ctx, a, user("go on"))
	require.NoError(t, err)
	reqs := srv.Requests()
	in := reqs[len(reqs)-1].Params.Input.Items
	require.Len(t, in, 2)
	assert.True(t, in[0].IsOutput(), "the unsent output first")
	c, err := store.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 5, "go, call, output, go on, answer: the output once")
	assert.Equal(t, int32(1), calls.Load())
}

// A deferred approval is kept under an id; the decision, in another
// "process" (a new store handle and agent), takes it exactly once.
func TestAttachApproval(t *testing.T) {
	for _, approve := range []bool{true, false} {
		t.Run(map[bool]string{true: "approve", false: "deny"}[approve], func(t *testing.T) {
			ctx := t.Context()
			store := session.NewMemory()
			var calls atomic.Int32
			srv := rt.New(t,
				rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
				rt.Output(rt.Text("final")),
			)
			defer_ := agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) { return agent.Defer, nil })
			a := newAgent(srv, &calls, &agent.Options{Approver: defer_})
			s, err := session.Attach(ctx, store, "conv", nil)
			require.NoError(t, err)
			res, err := s.Run(ctx, a, user("go"))
			require.NoError(t, err)
			require.Equal(t, "pending_approval", res.StopReason)
			id := s.PendingID()
			require.NotEmpty(t, id)

			ap, err := session.TakeApproval(ctx, store, id)
			require.NoError(t, err)
			assert.Equal(t, "conv", ap.Conversation)
			_, err = session.TakeApproval(ctx, store, id)
			require.ErrorIs(t, err, session.ErrPendingTaken)

			s2, err := session.Attach(ctx, store, ap.Conversation, nil)
			require.NoError(t, err)
			d := agent.Decision{CallID: ap.State.Pending[0].CallID, Approval: agent.Approve}
			if !approve {
				d.Approval = agent.Deny("no")
			}
			res, err = s2.Resume(ctx, a, ap.State, []agent.Decision{d})
			require.NoError(t, err)
			assert.Equal(t, "final", res.Text)
			assert.Equal(t, map[bool]int32{true: 1, false: 0}[approve], calls.Load())
			c, err := store.Load(ctx, "conv", nil)
			require.NoError(t, err)
			assert.Len(t, c.Items, 4, "go, call, output, answer")
			assert.Equal(t, res.ResponseID, c.ResponseID)
		})
	}
}

// Stateless: the stored items are replayed, bounded by the window.
func TestAttachStatelessWindow(t *testing.T) {
	ctx := t.Context()
	store := session.NewMemory()
	srv := rt.New(t, rt.Output(rt.Text("1")), rt.Output(rt.Text("2")), rt.Output(rt.Text("3")))
	var calls atomic.Int32
	a := newAgent(srv, &calls, &agent.Options{Stateless: true})
	opts := &session.AttachOptions{Stateless: true, Window: &session.LoadOptions{Last: 2}}
	for _, q := range []string{"a", "b", "c"} {
		s, err := session.Attach(ctx, store, "conv", opts)
		require.NoError(t, err)
		_, err = s.Run(ctx, a, user(q))
		require.NoError(t, err)
	}
	reqs := srv.Requests()
	assert.Len(t, reqs[2].Params.Input.Items, 3, "the last two stored items, then the input")
	c, err := store.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 6, "everything stays stored")
}

// "Resume from here": a branch of a conversation at an earlier item is
// attached like any other and chains to the response of that point; the
// original is unchanged.
func TestAttachBranch(t *testing.T) {
	ctx := t.Context()
	store := session.NewMemory()
	srv := rt.New(t, rt.Output(rt.Text("1")), rt.Output(rt.Text("2")), rt.Output(rt.Text("from 1")))
	var calls atomic.Int32
	a := newAgent(srv, &calls, nil)
	var ids []string
	for _, q := range []string{"a", "b"} {
		s, err := session.Attach(ctx, store, "conv", nil)
		require.NoError(t, err)
		res, err := s.Run(ctx, a, user(q))
		require.NoError(t, err)
		ids = append(ids, res.ResponseID)
	}
	require.NoError(t, store.Branch(ctx, "conv", 2, "conv-branch")) // "a" and its answer
	s, err := session.Attach(ctx, store, "conv-branch", nil)
	require.NoError(t, err)
	assert.Equal(t, ids[0], s.Info().ResponseID)
	_, err = s.Run(ctx, a, user("c"))
	require.NoError(t, err)
	reqs := srv.Requests()
	assert.Equal(t, ids[0], reqs[2].Params.PreviousResponseID)
	c, err := store.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 4)
	b, err := store.Load(ctx, "conv-branch", nil)
	require.NoError(t, err)
	assert.Len(t, b.Items, 4, "a, 1, c, from 1")
}

// A new message while an approval is pending abandons it: the calls are
// answered as declined before the message, the conversation goes on, and
// the approval can no longer be taken.
func TestAttachAbandonedApproval(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		t.Run(map[bool]string{false: "chained", true: "stateless"}[stateless], func(t *testing.T) {
			ctx := t.Context()
			store := session.NewMemory()
			var calls atomic.Int32
			srv := rt.New(t,
				rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
				rt.Output(rt.Text("never mind then")),
			)
			defer_ := agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) { return agent.Defer, nil })
			a := newAgent(srv, &calls, &agent.Options{Approver: defer_, Stateless: stateless})
			opts := &session.AttachOptions{Stateless: stateless}
			s, err := session.Attach(ctx, store, "conv", opts)
			require.NoError(t, err)
			res, err := s.Run(ctx, a, user("go"))
			require.NoError(t, err)
			require.Equal(t, "pending_approval", res.StopReason)
			id := s.PendingID()

			s, err = session.Attach(ctx, store, "conv", opts)
			require.NoError(t, err)
			res, err = s.Run(ctx, a, user("something else"))
			require.NoError(t, err)
			assert.Equal(t, "never mind then", res.Text)
			reqs := srv.Requests()
			in := reqs[1].Params.Input.Items
			if stateless {
				require.Len(t, in, 4, "go, the call, its declined output, the message")
				assert.Empty(t, reqs[1].Params.PreviousResponseID)
			} else {
				require.Len(t, in, 2, "the declined output, the message")
				assert.Equal(t, reqs[0].ResponseID, reqs[1].Params.PreviousResponseID)
			}
			assert.True(t, in[len(in)-2].IsOutput())
			assert.Contains(t, string(in[len(in)-2].Raw()), "without approving")
			assert.Equal(t, int32(0), calls.Load())
			_, err = session.TakeApproval(ctx, store, id)
			require.ErrorIs(t, err, session.ErrPendingTaken, "abandoned")
			c, err := store.Load(ctx, "conv", nil)
			require.NoError(t, err)
			assert.Len(t, c.Items, 5, "go, call, declined output, message, answer")
		})
	}
}

// While a decision is being resumed, a new message on the conversation
// is refused before it spends anything.
func TestAttachNewMessageWhileDeciding(t *testing.T) {
	ctx := t.Context()
	store := session.NewMemory()
	var calls atomic.Int32
	srv := rt.New(t, rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)))
	defer_ := agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) { return agent.Defer, nil })
	a := newAgent(srv, &calls, &agent.Options{Approver: defer_})
	s, err := session.Attach(ctx, store, "conv", nil)
	require.NoError(t, err)
	_, err = s.Run(ctx, a, user("go"))
	require.NoError(t, err)
	other, err := session.Attach(ctx, store, "conv", nil) // a new message arrives...
	require.NoError(t, err)
	_, err = session.TakeApproval(ctx, store, s.PendingID()) // ...while the decision is taken
	require.NoError(t, err)
	_, err = other.Run(ctx, a, user("meanwhile"))
	require.ErrorIs(t, err, session.ErrConflict)
	assert.Len(t, srv.Requests(), 1)
}
