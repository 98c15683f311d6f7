package sessiontest

import (
	"context"
	"errors"
	"sync"
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

// attachAgent returns an agent on srv whose echo tool counts its calls;
// with deferApproval every call waits for a decision.
func attachAgent(srv *rt.Server, calls *atomic.Int32, deferApproval bool) *agent.Agent {
	var opts agent.Options
	fo := &function.Options{}
	if deferApproval {
		fo.NeedsApproval = function.Always
		opts.Approver = agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) { return agent.Defer, nil })
	}
	opts.Tools = []tools.Tool{function.New("echo", "Echo text.", func(ctx context.Context, in echoArgs) (string, error) {
		calls.Add(1)
		return in.Text, nil
	}, fo)}
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, APIKey: "k",
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: time.Millisecond})
	return agent.New(c, "m", &opts)
}

// dying takes only the first n appends: a process killed after them.
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

// testAttachCrash: a run attached with session.Attach whose process dies
// after its first turn resumes from that turn, running no completed call
// again, and its continuation is taken once.
func testAttachCrash(t *testing.T, s Suite) {
	ctx := t.Context()
	st := s.New(t)
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Reply{Status: "failed"}, // the process is dead by then
		rt.Output(rt.Text("done")),
	)
	var calls atomic.Int32
	a := attachAgent(srv, &calls, false)
	d := &dying{Store: st}
	d.n.Store(2) // the input and the first turn
	att, err := session.Attach(ctx, d, "conv", nil)
	require.NoError(t, err)
	_, err = att.Run(ctx, a, []responses.Item{responses.UserMessage("go")})
	require.Error(t, err)

	att, err = session.Attach(ctx, st, "conv", nil)
	require.NoError(t, err)
	cont := att.Interrupted()
	require.NotNil(t, cont, "the first turn's continuation is kept")
	again, err := session.Attach(ctx, st, "conv", nil)
	require.NoError(t, err)
	assert.Nil(t, again.Interrupted(), "taken once")
	res, err := att.Resume(ctx, a, cont, nil)
	require.NoError(t, err)
	assert.Equal(t, "done", res.Text)
	assert.Equal(t, int32(1), calls.Load(), "the completed call ran once")
	c, err := st.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 4, "input, call, output, answer")
	assert.Equal(t, res.ResponseID, c.ResponseID)
}

// testAttachApproval: a deferred approval is kept under an id that two
// store handles try to take at once: one resumes it, the other is told
// it was taken.
func testAttachApproval(t *testing.T, s Suite) {
	ctx := t.Context()
	st := s.New(t)
	other := st
	if s.Shared != nil && s.Open != nil {
		var addr string
		st, addr = s.Shared(t)
		o, err := s.Open(ctx, addr)
		require.NoError(t, err)
		if c, ok := o.(interface{ Close() error }); ok {
			t.Cleanup(func() { c.Close() })
		}
		other = o
	}
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Output(rt.Text("final")),
	)
	var calls atomic.Int32
	a := attachAgent(srv, &calls, true)
	att, err := session.Attach(ctx, st, "conv", nil)
	require.NoError(t, err)
	res, err := att.Run(ctx, a, []responses.Item{responses.UserMessage("go")})
	require.NoError(t, err)
	require.Equal(t, "pending_approval", res.StopReason)
	id := att.PendingID()
	require.NotEmpty(t, id)

	var wg sync.WaitGroup
	var won atomic.Int32
	var ap [2]*session.Approval
	for i, store := range []session.Store{st, other} {
		wg.Go(func() {
			got, err := session.TakeApproval(ctx, store, id)
			if err == nil {
				won.Add(1)
				ap[i] = got
				return
			}
			assert.ErrorIs(t, err, session.ErrPendingTaken)
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), won.Load(), "taken exactly once")
	got := ap[0]
	if got == nil {
		got = ap[1]
	}
	att, err = session.Attach(ctx, other, got.Conversation, nil)
	require.NoError(t, err)
	d := agent.Decision{CallID: got.State.Pending[0].CallID, Approval: agent.Approve}
	res, err = att.Resume(ctx, a, got.State, []agent.Decision{d})
	require.NoError(t, err)
	assert.Equal(t, "final", res.Text)
	assert.Equal(t, int32(1), calls.Load())
	c, err := st.Load(ctx, "conv", nil)
	require.NoError(t, err)
	assert.Len(t, c.Items, 4, "input, call, output, answer")
}
