package shell_test

import (
	"context"
	"fmt"
	"os"

	"github.com/agentloop/agentloop/tools/shell"
)

func ExampleExecutor_Run() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	x := &shell.Executor{Root: dir, Sandbox: shell.DangerFullAccess}
	res, err := x.Run(context.Background(), shell.Command{Line: "echo hello; echo oops >&2; exit 3"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("stdout %q stderr %q exit %d\n", res.Stdout, res.Stderr, res.ExitCode)
	// Output: stdout "hello\n" stderr "oops\n" exit 3
}
