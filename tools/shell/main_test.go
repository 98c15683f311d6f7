package shell_test

import (
	"context"
	"encoding/json"
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
	if root := os.Getenv(probeEnv); root != "" {
		probe(root)
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

// probeEnv makes the test binary run probeLines in the workspace-write
// sandbox of root and print their results as JSON, for tests that run it
// as another user.
const probeEnv = "AGENTLOOP_SHELL_TEST_PROBE"

var probeLines = []string{
	"id -u; echo hi > f && cat f",
	"touch ../escape",
	"echo x > /tmp/agentloop-probe-escape",
	"grep -E '^CapEff' /proc/self/status",
	"echo > /dev/tcp/127.0.0.1/1",
	"chmod 755 $HOME/.ssh; cat $HOME/.ssh/id_ed25519",
}

func probe(root string) {
	x := &shell.Executor{Root: root}
	var out []shell.Result
	for _, l := range probeLines {
		res, err := x.Run(context.Background(), shell.Command{Line: l})
		if err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
		out = append(out, res)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	os.Exit(0)
}
