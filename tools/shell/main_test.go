package shell_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/tools/shell"
)

func TestMain(m *testing.M) {
	shell.RunSandboxHelperIfRequested()
	goleak.VerifyTestMain(m)
}
