package shell

import (
	"strings"

	"github.com/agentloop/agentloop/tools"
)

// Policy decides whether a command runs without asking, asks the agent's
// approver, or is refused. A nil *Policy is the default policy.
type Policy struct {
	Allow []string // argv prefixes that run without asking, e.g. "go test"
	Deny  []string // argv prefixes that are refused; deny wins
}

// Verdict is a policy's decision on a command.
type Verdict struct {
	Decision tools.Decision
	Reason   string
	Key      string // "shell:<argv prefix>" for approve-always; "" if it cannot be remembered
}

// CheckLines judges shell command lines.
func (p *Policy) CheckLines(lines []string) Verdict {
	return Verdict{Decision: tools.Ask}
}

// CheckArgv judges an argv.
func (p *Policy) CheckArgv(argv []string) Verdict {
	return Verdict{Decision: tools.Ask}
}

func quoteArgv(argv []string) string { return strings.Join(argv, " ") }
