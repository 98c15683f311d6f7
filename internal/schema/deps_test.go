package schema_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goTool returns the go command from PATH; without one the test skips,
// except in CI.
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no go command in PATH: %v", err)
		}
		t.Skip("no go command in PATH; this test runs it to list dependencies and build a program")
	}
	return p
}

// TestAgentDoesNotImportFunction guards the split of this package out of
// tools/function: agent.RunAs derives its output schema here and must not
// link the function tool package to borrow one.
func TestAgentDoesNotImportFunction(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), goTool(t), "list", "-deps", "github.com/agentloop/agentloop/agent")
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	assert.Contains(t, deps, "github.com/agentloop/agentloop/internal/schema")
	assert.NotContains(t, deps, "github.com/agentloop/agentloop/tools/function")
}
