// Package shell runs the model's shell commands: bounded in time and
// output, sandboxed by the kernel, and judged by a command policy before
// they run.
//
// An [Executor] runs one command under a workspace root. It is useful
// alone:
//
//	x := &shell.Executor{Root: dir, Sandbox: shell.WorkspaceWrite}
//	res, err := x.Run(ctx, shell.Command{Line: "go test ./..."})
//	// res.Stdout, res.Stderr, res.ExitCode, res.TimedOut
//
// [Tool] exposes an executor as the Responses API's shell tool (answering
// shell_call items with shell_call_output), and [LocalTool] as the older
// local_shell tool (local_shell_call, answered with local_shell_call_output).
// Both implement tools.Tool, tools.Reviewer and tools.ParallelSafe.
//
// # Execution
//
// Each command runs in its own process group with stdin from /dev/null.
// When it exits, times out or its context ends, the whole group is stopped
// (SIGTERM, then SIGKILL after a grace period), so background children and
// grandchildren never outlive the command and never keep the call waiting.
// A non-zero exit is a result, not an error. Stdout and stderr are captured
// apart; together they are capped, keeping each stream's head and tail
// around a marker that says how many bytes were left out, in memory bounded
// by the cap. Invalid UTF-8 is replaced, not dropped.
//
// The child's environment is this process's minus names that look like
// secrets ([DefaultEnvExclude]), with configurable include and exclude
// patterns; a command's own variables are merged on top.
package shell
