package schema_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNothingAtInit builds a program that links the schema packages and
// runs it with GODEBUG=inittrace=1: this package and tools/function must do
// no work at initialisation (a sandbox helper re-executing the agent binary
// would pay for it on every command). The packages of other owners and the
// libraries are only logged.
func TestNothingAtInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "initprog")
	build := exec.CommandContext(t.Context(), goTool(t), "build", "-o", bin, "./testdata/initprog")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	run := exec.CommandContext(t.Context(), bin)
	run.Env = append(run.Environ(), "GODEBUG=inittrace=1")
	out, err = run.CombinedOutput()
	require.NoError(t, err, "%s", out)

	line := regexp.MustCompile(`^init (\S+) @\S+ ms, (\S+) ms clock, (\d+) bytes, (\d+) allocs$`)
	var found int
	for _, l := range strings.Split(string(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		found++
		pkg := m[1]
		switch {
		case pkg == "github.com/agentloop/agentloop/internal/schema", pkg == "github.com/agentloop/agentloop/tools/function":
			assert.Equal(t, "0", m[3], "%s allocates at init: %s", pkg, l)
			assert.Equal(t, "0", m[4], "%s allocates at init: %s", pkg, l)
		case strings.Contains(pkg, "agentloop"), strings.Contains(pkg, "jsonschema"), strings.HasPrefix(pkg, "golang.org/x/text"):
			t.Log(l)
		}
	}
	require.NotZero(t, found, "no inittrace output: %s", out)
}
