package shell_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/tools/shell"
)

func TestMain(m *testing.M) {
	shell.RunSandboxHelperIfRequested()
	if root := os.Getenv(fakeAgentEnv); root != "" {
		fakeAgent(root)
		return
	}
	goleak.VerifyTestMain(m)
}

// fakeAgentEnv makes the test binary act as an agent that runs a
// long command in root, for tests that kill the agent.
const fakeAgentEnv = "AGENTLOOP_SHELL_TEST_FAKE_AGENT"

func fakeAgent(root string) {
	mode := shell.SandboxMode(os.Getenv(fakeAgentEnv + "_MODE"))
	x := &shell.Executor{Root: root, Sandbox: mode}
	_, err := x.Run(context.Background(), shell.Command{
		Line:    "sleep 600 & setsid sleep 600 & touch started; wait",
		Env:     map[string]string{"AGENTLOOP_FAKE_AGENT_CHILD": root},
		Timeout: 10 * time.Minute,
	})
	fmt.Fprintln(os.Stderr, "fake agent:", err)
	os.Exit(1)
}
