package session_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func ExampleNewMemory() {
	ctx := context.Background()
	store := session.NewMemory()

	// A run loads the conversation (empty: version 0) and appends its items.
	c, _ := store.Load(ctx, "user-42", nil)
	hello := responses.UserMessage("hello")
	v, _ := store.Append(ctx, "user-42", c.Version, session.Turn{Items: []responses.Item{hello}, ResponseID: "resp_1"})

	// A second run that loaded the same version loses the race.
	_, err := store.Append(ctx, "user-42", c.Version, session.Turn{Items: []responses.Item{hello}})
	fmt.Println(v, errors.Is(err, session.ErrConflict))

	// A pending approval is taken exactly once.
	_ = store.PutPending(ctx, "user-42", "approval-1", []byte(`{"version":1}`))
	state, _ := store.TakePending(ctx, "approval-1")
	_, err = store.TakePending(ctx, "approval-1")
	fmt.Println(string(state), errors.Is(err, session.ErrPendingTaken))

	c, _ = store.Load(ctx, "user-42", nil)
	fmt.Println(c.Version, len(c.Items), c.ResponseID)
	// Output:
	// 1 true
	// {"version":1} true
	// 1 1 resp_1
}

func ExampleAttach() {
	ctx := context.Background()
	model := rt.NewServer(
		rt.Output(rt.FunctionCall("call_1", "send", `{}`)),
		rt.Output(rt.Text("Sent.")),
	)
	defer model.Close()
	send := function.New("send", "Send the message.", func(ctx context.Context, _ struct{}) (string, error) {
		return "sent", nil
	}, &function.Options{NeedsApproval: function.Always})
	a := agent.New(responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: model.URL}), "m",
		&agent.Options{Tools: []tools.Tool{send}, Approver: agent.ApproverFunc(
			func(context.Context, tools.ApprovalRequest) (agent.Approval, error) { return agent.Defer, nil })})
	store := session.NewMemory()

	// A request: the run stops for an approval, kept under an id.
	s, _ := session.Attach(ctx, store, "user-42", nil)
	res, _ := s.Run(ctx, a, []responses.Item{responses.UserMessage("send it")})
	id := s.PendingID()
	fmt.Println(res.StopReason, id != "")

	// A later request, maybe to another process: the decision.
	ap, _ := session.TakeApproval(ctx, store, id)
	s, _ = session.Attach(ctx, store, ap.Conversation, nil)
	res, _ = s.Resume(ctx, a, ap.State, []agent.Decision{{CallID: ap.State.Pending[0].CallID, Approval: agent.Approve}})
	fmt.Println(res.Text)
	_, err := session.TakeApproval(ctx, store, id)
	fmt.Println(errors.Is(err, session.ErrPendingTaken))

	c, _ := store.Load(ctx, "user-42", nil)
	fmt.Println(len(c.Items), "items stored")
	// Output:
	// pending_approval true
	// Sent.
	// true
	// 4 items stored
}
