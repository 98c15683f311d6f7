package responses_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

const recordedSSE = `event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress","output":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}

event: response.output_item.done
data: {"type":"response.output_item.done","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi","annotations":[]}]}}

event: response.completed
data: {"type":"response.completed","sequence_number":3,"response":{"id":"resp_1","status":"completed","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi","annotations":[]}]}]}}

`

func TestNewStreamReplaysARecording(t *testing.T) {
	s := responses.NewStream(t.Context(), strings.NewReader(recordedSSE))
	defer s.Close()
	var types []string
	for s.Next() {
		types = append(types, s.Event().Type)
	}
	require.NoError(t, s.Err())
	assert.Equal(t, []string{"response.created", "response.output_text.delta", "response.output_item.done", "response.completed"}, types)
	require.NotNil(t, s.Response())
	assert.Equal(t, "Hi", s.Response().OutputText())
}

func TestNewStreamCutIsAStreamError(t *testing.T) {
	cut := recordedSSE[:strings.Index(recordedSSE, "event: response.output_item.done")]
	s := responses.NewStream(t.Context(), strings.NewReader(cut))
	defer s.Close()
	for s.Next() {
	}
	var se *responses.StreamError
	require.ErrorAs(t, s.Err(), &se)
	assert.True(t, errors.Is(se, responses.ErrStreamClosed))
	assert.Nil(t, s.Response())
}

func ExampleNewStream() {
	// Any source of server-sent events: here a recording.
	s := responses.NewStream(context.Background(), strings.NewReader(recordedSSE))
	defer s.Close()
	for s.Next() {
		if ev := s.Event(); ev.Type == responses.EventOutputTextDelta {
			fmt.Println("delta:", ev.Delta)
		}
	}
	fmt.Println("final:", s.Response().OutputText(), s.Err())
	// Output:
	// delta: Hi
	// final: Hi <nil>
}
