package sqlite_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoPgx guards the layout: a program built on agent and this store
// neither links nor downloads pgx (the PostgreSQL store is a module of its
// own).
func TestNoPgx(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is not on PATH")
		}
		t.Skip("the go command is not on PATH")
	}
	run := func(args ...string) string {
		cmd := exec.CommandContext(t.Context(), gobin, args...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s: %s", strings.Join(args, " "), out)
		return string(out)
	}
	deps := run("list", "-deps", "github.com/agentloop/agentloop/agent", "github.com/agentloop/agentloop/session/sqlite")
	assert.Contains(t, deps, "modernc.org/sqlite\n")
	assert.NotContains(t, deps, "jackc", "a program using agent and session/sqlite links pgx")
	mods := run("list", "-m", "all")
	assert.NotContains(t, mods, "jackc", "the root module's build list holds pgx, so its users download it")
}
