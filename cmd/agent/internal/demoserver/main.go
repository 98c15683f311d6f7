// Command demoserver serves a scripted coding session on 127.0.0.1 for
// trying the agent command offline, and for the README's transcript. It
// prints the server's base URL and serves until its stdin closes:
//
//	go run ./cmd/agent/internal/demoserver > url &
//	OPENAI_API_KEY=demo agent --base-url "$(cat url)" -C demo "fix the failing test"
//
// The script expects a workspace made with -init DIR: a shell project whose
// test fails because add subtracts.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func main() {
	initDir := flag.String("init", "", "create the demo workspace in this directory and exit")
	flag.Parse()
	if *initDir != "" {
		if err := initWorkspace(*initDir); err != nil {
			fmt.Fprintln(os.Stderr, "demoserver:", err)
			os.Exit(1)
		}
		return
	}
	s := rt.NewServer(
		rt.Output(rt.Text("Let me look at the project first.\n"), rt.ShellCall("call_ls", "ls && cat calc.sh")),
		rt.Output(rt.ShellCall("call_test", "sh test.sh")),
		rt.Output(rt.Text("`add` subtracts. Fixing it:\n"), rt.ApplyPatchCall("call_fix", "update_file", "calc.sh", "@@ add() {\n-\techo $(($1 - $2))\n+\techo $(($1 + $2))\n")),
		rt.Output(rt.ShellCall("call_retest", "sh test.sh")),
		rt.Output(rt.Text("Fixed: `add` in calc.sh subtracted its arguments; it now adds them, and `sh test.sh` passes.")),
	)
	defer s.Close()
	fmt.Println(s.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := s.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "demoserver:", err)
	}
}

func initWorkspace(dir string) error {
	files := map[string]string{
		"calc.sh": "#!/bin/sh\n# calc.sh: arithmetic helpers\nadd() {\n\techo $(($1 - $2))\n}\n",
		"test.sh": "#!/bin/sh\n. ./calc.sh\ngot=$(add 2 3)\nif [ \"$got\" != 5 ]; then\n\techo \"FAIL: add 2 3 = $got, want 5\"\n\texit 1\nfi\necho ok\n",
	}
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			return err
		}
	}
	return nil
}
