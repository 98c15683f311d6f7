package main

import (
	"fmt"

	_ "github.com/agentloop/agentloop/tools/function"
)

func main() { fmt.Println("ok") }
