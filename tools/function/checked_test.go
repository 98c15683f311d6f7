package function

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// TestReviewedArgumentsParsedOnce checks that Call uses the arguments Review
// checked for the same call item, and only for that item: a copy of its JSON
// (same call id, other bytes) is checked again.
func TestReviewedArgumentsParsedOnce(t *testing.T) {
	type Args struct {
		N int `json:"n" jsonschema:"minimum=1"`
	}
	var got []int
	tool := New("f", "", func(_ context.Context, a Args) (string, error) {
		got = append(got, a.N)
		return "ok", nil
	}, &Options{NeedsApproval: Always})
	ctx := t.Context()
	call := functionCall("f", `{"n":3}`)

	_, err := tool.Review(ctx, call)
	require.NoError(t, err)
	e, ok := tool.checked.take(call.CallID, call.Item.Raw())
	require.True(t, ok, "Review remembers what it checked")
	assert.JSONEq(t, `{"n":3}`, e.input)
	_, ok = tool.checked.take(call.CallID, call.Item.Raw())
	assert.False(t, ok, "taken once")

	// Remembered arguments are used as they are: plant different ones to
	// see that Call does not parse the item again.
	tool.checked.put(call.CallID, call.Item.Raw(), `{"n":7}`, nil)
	out, err := tool.Call(ctx, call)
	require.NoError(t, err)
	assert.Equal(t, responses.TypeFunctionCallOutput, out.Type)
	assert.Equal(t, []int{7}, got)

	// Same call id, same JSON, but another item: not recognised.
	tool.checked.put(call.CallID, call.Item.Raw(), `{"n":7}`, nil)
	copyCall := tools.NewCall(responses.MustItem(rawJSON(call.Item.Raw())))
	_, err = tool.Call(ctx, copyCall)
	require.NoError(t, err)
	assert.Equal(t, []int{7, 3}, got)

	// Invalid arguments: Review allows, remembers nothing, Call rejects.
	bad := functionCall("f", `{"n":0}`)
	_, err = tool.Review(ctx, bad)
	require.NoError(t, err)
	_, err = tool.Call(ctx, bad)
	assert.ErrorContains(t, err, "invalid arguments")
}

type rawJSON []byte

func (j rawJSON) MarshalJSON() ([]byte, error) { return j, nil }
