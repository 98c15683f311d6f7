package shell_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

func ExampleExecutor_Run() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	// The zero Sandbox is WorkspaceWrite: the command may write only under
	// dir and its private $TMPDIR, and has no network.
	x := &shell.Executor{Root: dir}
	res, err := x.Run(context.Background(), shell.Command{Line: "echo hello > greeting; cat greeting; touch /etc/x"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("stdout %q exit %d sandbox denied %v\n", res.Stdout, res.ExitCode, res.SandboxDenied)
	// Output: stdout "hello\n" exit 1 sandbox denied true
}

func ExampleTool() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	tool := &shell.Tool{Executor: &shell.Executor{Root: dir}}

	def, _ := json.Marshal(tool.Definition())
	fmt.Println(string(def))

	call := tools.NewCall(responses.MustItem(map[string]any{
		"type": "shell_call", "call_id": "call_1",
		"action": map[string]any{"commands": []string{"echo hi", "exit 3"}, "timeout_ms": 5000, "max_output_length": 1000},
	}))
	review, _ := tool.Review(context.Background(), call)
	fmt.Println("review:", review.Decision)
	// The item goes to the model; the error says how the call ended.
	out, err := tool.Call(context.Background(), call)
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	var exit *shell.ExitError
	if errors.As(err, &exit) {
		fmt.Printf("outcome %s: command %d exited with %d\n", tools.OutcomeOf(err), exit.Command, exit.Code)
	}
	// Output:
	// {"environment":{"type":"local"},"type":"shell"}
	// review: allow
	// {"type":"shell_call_output","call_id":"call_1","output":[{"stdout":"hi\n","stderr":"","outcome":{"type":"exit","exit_code":0}},{"stdout":"","stderr":"","outcome":{"type":"exit","exit_code":3}}],"max_output_length":1000}
	// outcome error: command 2 exited with 3
}

func ExampleLocalTool() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	tool := &shell.LocalTool{Executor: &shell.Executor{Root: dir, Sandbox: shell.ReadOnly}}

	call := tools.NewCall(responses.MustItem(map[string]any{
		"type": "local_shell_call", "call_id": "call_2",
		"action": map[string]any{"type": "exec", "command": []string{"echo", "$HOME stays literal"}},
	}))
	out, err := tool.Call(context.Background(), call)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	var o responses.LocalShellCallOutput
	_ = out.Decode(&o)
	var text shell.LocalShellOutput
	_ = json.Unmarshal([]byte(o.Output), &text)
	fmt.Printf("%s id=%s output=%q exit=%d\n", o.Type, o.ID, text.Output, text.Metadata.ExitCode)
	// Output: local_shell_call_output id=call_2 output="$HOME stays literal\n" exit=0
}

func ExampleNewPolicy() {
	p, err := shell.NewPolicy(&shell.PolicyOptions{
		Allow: []string{"go test"},
		Deny:  []string{"git push"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range []string{
		"git status && grep -rn TODO .",
		"go test ./...",
		"ls && rm -rf build",
		"echo done > /etc/motd",
		"bash -c 'git add . && git push'",
	} {
		v := p.Check(line)
		fmt.Printf("%-5s %-12q %s\n", v.Decision, v.Key, line)
	}
	// Output:
	// allow ""           git status && grep -rn TODO .
	// allow ""           go test ./...
	// ask   "shell:rm"   ls && rm -rf build
	// ask   ""           echo done > /etc/motd
	// deny  ""           bash -c 'git add . && git push'
}
