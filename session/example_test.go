package session_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
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
