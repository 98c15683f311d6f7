package shell_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools/shell"
)

// childrenOf returns the live processes whose environment holds the fake
// agent's marker for root.
func childrenOf(t *testing.T, root string) []int {
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if strings.Contains(string(env), "AGENTLOOP_FAKE_AGENT_CHILD="+root+"\x00") {
			out = append(out, pid)
		}
	}
	return out
}

// TestSandboxedCommandsDieWithTheAgent kills an agent (this test binary in
// fake-agent mode) while its sandboxed command and that command's
// background and setsid children run: none of them survive.
//
// Unsandboxed, the reaper helper gets SIGTERM when the agent dies and stops
// everything the command started.
func TestSandboxedCommandsDieWithTheAgent(t *testing.T) {
	for _, mode := range []shell.SandboxMode{shell.WorkspaceWrite, shell.DangerFullAccess} {
		t.Run(string(mode), func(t *testing.T) { testDieWithTheAgent(t, mode) })
	}
}

func testDieWithTheAgent(t *testing.T, mode shell.SandboxMode) {
	root := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	agent := exec.Command(exe)
	agent.Env = append(os.Environ(), fakeAgentEnv+"="+root, fakeAgentEnv+"_MODE="+string(mode))
	require.NoError(t, agent.Start())
	defer func() { _ = agent.Process.Kill(); _ = agent.Wait() }()
	t.Cleanup(func() { // whatever happened, leave nothing behind
		for _, pid := range childrenOf(t, root) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(root, "started"))
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	require.Len(t, childrenOf(t, root), 4, "the helper (the PID namespace's init, or the reaper), bash and two sleeps")

	require.NoError(t, agent.Process.Kill())
	_ = agent.Wait()
	assert.Eventually(t, func() bool { return len(childrenOf(t, root)) == 0 }, 5*time.Second, 20*time.Millisecond,
		"left behind: %v", childrenOf(t, root))
}
