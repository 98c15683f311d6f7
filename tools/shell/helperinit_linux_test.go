package shell_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools/shell/internal/helper"
)

// TestHelperRunsBeforeProgramInit re-executes this test binary as the
// reaper helper with GODEBUG=inittrace=1 and checks which packages ran their
// initialisers before the helper took over: the standard library and the
// helper's own imports only, none of this module's packages nor the shell
// parser this package links (a command must not pay for the program's
// start-up).
func TestHelperRunsBeforeProgramInit(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	truePath, err := exec.LookPath("true")
	require.NoError(t, err)
	spec, err := json.Marshal(helper.Spec{Path: truePath, Reaper: true, Grace: 1e9})
	require.NoError(t, err)
	cmd := exec.Command(exe, helper.Arg, string(spec), "true")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	var inited []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			inited = append(inited, f[1])
		}
	}
	require.NotEmpty(t, inited, "no inittrace output: %s", out)
	assert.Contains(t, inited, "golang.org/x/sys/unix", "the helper's imports are initialised")
	for _, p := range inited {
		first, _, _ := strings.Cut(p, "/")
		std := !strings.Contains(first, ".")
		allowed := std || first == "golang.org" || strings.HasPrefix(p, "github.com/landlock-lsm/") ||
			strings.HasPrefix(p, "go.opentelemetry.io/") || strings.HasPrefix(p, "go.uber.org/")
		assert.True(t, allowed, "package %s ran its initialisers in the helper (all: %v)", p, inited)
		assert.False(t, strings.HasPrefix(p, "golang.org/x/text"), "package %s ran its initialisers in the helper", p)
	}
}
