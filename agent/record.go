package agent

import (
	"context"
	"slices"

	"github.com/agentloop/agentloop/responses"
)

// Recorder keeps a run's progress as it happens, so that a run survives its
// process: a store of conversations implements it (the session package
// does), and [WithRecorder] attaches it to a run. The run calls it on its
// own goroutine, in order: Start once, Turn after every completed turn,
// End once. An error from Start or Turn ends the run with that error (for
// example a conflict with another run on the same conversation); End's
// error is only logged.
type Recorder interface {
	// Start records the run's input before the first request is sent.
	Start(ctx context.Context, input []responses.Item) error
	// Turn records a completed turn.
	Turn(ctx context.Context, t *RecordedTurn) error
	// End records how the run ended: its result (partial when err is not
	// nil) and error. res.State is the continuation.
	End(ctx context.Context, res *Result, err error) error
}

// RecordedTurn is what [Recorder.Turn] records: a turn whose response is
// complete and whose calls have all been answered.
type RecordedTurn struct {
	// Turn is the request's number within the run, from 1.
	Turn int
	// Items are the turn's new items, in order: the response's output
	// items, then the outputs of its calls (which the next request sends).
	Items []responses.Item
	// ResponseID is the turn's response.
	ResponseID string
	// State is the run's continuation after the turn: resumed with
	// [Agent.Resume] after a crash, it sends State.Input (the outputs the
	// next request would have sent) and goes on; no completed call runs
	// again.
	State *RunState
}

// WithRecorder records the run's progress in rec; see [Recorder].
func WithRecorder(rec Recorder) RunOption {
	return func(c *runConfig) { c.recorder = rec }
}

// record reports the turn the Machine just completed, if any.
func (r *run) record() error {
	if r.rec == nil {
		return nil
	}
	st := r.m.State()
	if st.Turns == r.recTurns {
		return nil
	}
	items := slices.Clone(r.m.st.Items[min(r.recItems, len(r.m.st.Items)):])
	r.recTurns, r.recItems = st.Turns, len(r.m.st.Items)
	return r.rec.Turn(r.ctx, &RecordedTurn{Turn: st.Turns, Items: items, ResponseID: st.PreviousResponseID, State: st})
}
