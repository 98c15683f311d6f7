// Command initprog links the packages that handle JSON Schema and does
// nothing else, for GODEBUG=inittrace=1 to show what their initialisers
// cost (see init_test.go).
package main

import (
	"fmt"

	_ "github.com/agentloop/agentloop/agent"
	_ "github.com/agentloop/agentloop/internal/schema"
	_ "github.com/agentloop/agentloop/mcp"
	_ "github.com/agentloop/agentloop/tools/function"
)

func main() { fmt.Println("ok") }
