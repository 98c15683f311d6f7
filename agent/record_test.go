package agent_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

type memRecorder struct {
	mu      sync.Mutex
	input   []responses.Item
	turns   []*agent.RecordedTurn
	end     *agent.Result
	endErr  error
	failAt  int // Turn fails at this turn number
	started int
}

func (m *memRecorder) Start(ctx context.Context, input []responses.Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started++
	m.input = input
	return nil
}

func (m *memRecorder) Turn(ctx context.Context, t *agent.RecordedTurn) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Turn == m.failAt {
		return errors.New("conflict: another run appended first")
	}
	m.turns = append(m.turns, t)
	return nil
}

func (m *memRecorder) End(ctx context.Context, res *agent.Result, err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.end, m.endErr = res, err
	return nil
}

// Each completed turn is recorded as it completes, with the continuation
// that resumes after it without running a completed call again.
func TestRecorder(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Output(rt.FunctionCall("c2", "echo", `{"text":"b"}`)),
		rt.Output(rt.Text("done")),
		rt.Output(rt.Text("done again")),
	)
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{echoTool(nil)}})
	rec := &memRecorder{}
	res, err := a.Run(t.Context(), "go", agent.WithRecorder(rec))
	require.NoError(t, err)
	assert.Equal(t, 1, rec.started)
	assert.Equal(t, []string{userMsg("go")}, rawItems(rec.input))
	require.Len(t, rec.turns, 3)
	assert.Equal(t, []string{"c1", "c1"}, keys(rec.turns[0].Items))
	assert.Equal(t, "c1", outputKeys(rec.turns[0].State.Input)[0], "the outputs not yet sent are in the continuation")
	assert.Equal(t, []string{"c2", "c2"}, keys(rec.turns[1].Items))
	assert.Len(t, rec.turns[2].Items, 1)
	assert.Equal(t, res, rec.end)

	// A crash after turn 2: resuming its continuation sends the unsent
	// output and runs no call again.
	calls := 0
	a2 := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{echoTool(nil)}, Middleware: []agent.Middleware{{
		Tool: func(next agent.ToolHandler) agent.ToolHandler {
			return func(ctx context.Context, call tools.Call) (responses.Item, error) { calls++; return next(ctx, call) }
		},
	}}})
	st := roundTrip(t, rec.turns[1].State)
	res2, err := a2.Resume(t.Context(), st, nil)
	require.NoError(t, err)
	assert.Equal(t, "done again", res2.Text)
	assert.Equal(t, 0, calls)
	req := served(srv)[3]
	assert.Equal(t, rec.turns[1].ResponseID, req.Params.PreviousResponseID)
	assert.Equal(t, []string{"c2"}, outputKeys(req.Params.Input.Items))
}

// A recorder that fails ends the run with its error, and the end is still
// recorded with the partial result.
func TestRecorderFailureEndsRun(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("c1", "echo", `{"text":"a"}`)),
		rt.Output(rt.Text("never")),
	)
	a := agent.New(client(srv), "m", &agent.Options{Tools: []tools.Tool{echoTool(nil)}})
	rec := &memRecorder{failAt: 1}
	res, err := a.Run(t.Context(), "go", agent.WithRecorder(rec))
	require.ErrorContains(t, err, "conflict")
	assert.Len(t, served(srv), 1, "no request after the failed record")
	assert.Equal(t, res, rec.end)
	assert.Equal(t, err, rec.endErr)
}

func rawItems(items []responses.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, string(it.Raw()))
	}
	return out
}

func keys(items []responses.Item) []string {
	var out []string
	for _, it := range items {
		if it.IsOutput() {
			out = append(out, it.OutputKey())
		} else {
			out = append(out, it.CallKey())
		}
	}
	return out
}
