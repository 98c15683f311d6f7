package temporal_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	agenttemporal "github.com/agentloop/agentloop/temporal"
)

// TestReplay replays histories recorded from real runs on a dev server
// (the kill tests and the approval test, with AGENTLOOP_TEMPORAL_RECORD set
// to testdata): a change to the workflow that would break runs already in
// flight (another order of activities, another activity id) fails here.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories under testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(agenttemporal.RunWorkflow, workflow.RegisterOptions{Name: agenttemporal.WorkflowName})
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Activity ids hold the workflow id: replay under the original one,
			// which names the file.
			id := strings.TrimSuffix(filepath.Base(f), ".json")
			opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: id}}
			if err := r.ReplayWorkflowHistoryWithOptions(quietLogger(), h, opts); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
