// Package shell runs the model's shell commands: bounded in time and
// output, sandboxed by the kernel, and judged by a command policy before
// they run.
//
// An [Executor] runs one command under a workspace root. It is useful
// alone:
//
//	func main() {
//		shell.RunSandboxHelperIfRequested() // first thing: see "Sandbox"
//		x := &shell.Executor{Root: dir}     // workspace-write sandbox by default
//		res, err := x.Run(ctx, shell.Command{Line: "go vet ./..."})
//		// res.Stdout, res.Stderr, res.ExitCode, res.TimedOut, res.Omitted
//	}
//
// [Tool] exposes an executor as the Responses API's shell tool and
// [LocalTool] as the older local_shell tool; a [Policy] decides which of
// their calls run, ask the agent's approver, or are refused. Both tools
// implement tools.Tool, tools.Reviewer and tools.ParallelSafe (false):
//
//	x := &shell.Executor{Root: dir, Sandbox: shell.WorkspaceWrite}
//	policy, err := shell.NewPolicy(&shell.PolicyOptions{Allow: []string{"go test"}})
//	agentTools := []tools.Tool{&shell.Tool{Executor: x, Policy: policy}}
//
// # Execution
//
// Each command runs in its own process group with stdin from /dev/null, in
// the root or a directory below it (a directory outside, also through a
// symbolic link, is refused). When the command exits, times out or its
// context ends, the whole group is stopped: SIGTERM, then SIGKILL after
// [Executor.KillGrace]. Background children and grandchildren (sleep 600 &)
// therefore never outlive the command, and the call never waits on pipes
// that a leftover process keeps open: output is read for at most a short
// delay after the group is gone. Under a helper (below), the helper leads
// the group and passes the signal on to the command's own group, so each
// process gets the signal once and a trap on TERM runs once. A non-zero
// exit is a result, not an error; [Result.TimedOut] reports a timeout.
//
// # No survivors
//
// No process a command starts outlives it, in any mode, also one that left
// the process group (setsid, a daemon's fork-setsid-fork, nohup) or that
// ignores SIGTERM:
//
//   - In the sandboxed modes the command runs in its own PID namespace,
//     whose init is the sandbox helper: when the helper exits, the kernel
//     kills everything left in the namespace.
//   - In [DangerFullAccess] mode, in a program with the helper hook
//     ([RunSandboxHelperIfRequested]), the command runs under the reaper
//     helper: this program re-executed, which makes itself a child
//     subreaper (PR_SET_CHILD_SUBREAPER, Linux 3.4+), so every orphaned
//     descendant is reparented to it rather than to init. When the command
//     exits, the helper kills its remaining descendants; on a timeout it
//     passes SIGTERM to all of them, and kills what is left after the kill
//     grace. It exits only when no descendant is left, so none is left when
//     [Executor.Run] returns. If the program dies, the helper gets SIGTERM
//     and does the same. Only the helper is a subreaper, never the calling
//     program. The helper costs about 3-4 ms per command (measured by
//     BenchmarkExecutorOverhead).
//   - Without the helper hook (or when the reaper helper itself was killed),
//     every unsandboxed command carries a unique AGENTLOOP_SHELL_RUN
//     variable in its environment, and after the command Run kills
//     (SIGKILL) every process of this user whose environment holds it,
//     found through /proc. This is weaker: a process that cleared or
//     replaced its environment (env -i) is not found, and the killed
//     processes may still be exiting when Run returns.
//
// On a kernel without PR_SET_CHILD_SUBREAPER the reaper helper cannot start
// and Run returns an error; on systems other than Linux only the process
// group is stopped, and a process that left it survives.
//
// # Output
//
// Stdout and stderr are captured apart. Together they are capped by
// [Command.MaxOutput] (else [Executor.MaxOutput], [DefaultMaxOutput];
// at most [MaxOutputLimit]): when the two do not fit, each gets half of the
// cap (a stream needing less gives the rest to the other), keeping its head
// and its tail around a marker such as "…[123456 bytes omitted]…" (not
// counted in the cap), so the
// error at the end of a long build log reaches the model. Memory stays
// bounded by the cap whatever the command prints. Cuts fall on UTF-8
// boundaries and invalid UTF-8 is replaced with U+FFFD, not dropped.
//
// # Environment
//
// The child's environment is the executor's base environment ([Executor.Env],
// else this process's) minus names that look like secrets
// ([DefaultEnvExclude]: *KEY*, *SECRET*, *TOKEN*, *PASSWORD*, *CREDENTIAL*,
// OPENAI_*, SGP_*, ...), optionally limited to [Executor.EnvInclude]; a
// command's own variables are merged on top, unfiltered.
//
// # Sandbox
//
// On Linux the [ReadOnly] and [WorkspaceWrite] modes are enforced by the
// kernel. A sandboxed command starts as a helper process in fresh user,
// PID, mount and (unless [Executor.Network]) network namespaces; the helper
// makes every mount read-only except bind mounts of the writable
// directories, applies Landlock rules (read and execute everywhere; write
// only in those directories and to /dev/null and similar devices; with
// Landlock ABI 4 no TCP, with ABI 6 no signals or abstract sockets outside
// the sandbox), and then executes the command. Writable are: in
// WorkspaceWrite mode the root, [Executor.WritableRoots] and a private
// temporary directory created for each command (TMPDIR points to it); in
// ReadOnly mode only the private temporary directory. The system's /tmp is
// not writable, so a workspace under /tmp cannot be escaped through "..".
// The fresh network namespace has no interfaces up, so even 127.0.0.1 is
// unreachable.
//
// The helper is this program itself, re-executed through /proc/self/exe
// with a hidden first argument. A program that uses a sandboxed mode must
// therefore call [RunSandboxHelperIfRequested] at the start of main, and
// tests must call it at the start of TestMain:
//
//	func TestMain(m *testing.M) {
//		shell.RunSandboxHelperIfRequested()
//		os.Exit(m.Run())
//	}
//
// Where the sandbox cannot be provided (the call is missing, a kernel
// without Landlock ABI 3, user namespaces disabled, not Linux), Run returns
// an error wrapping [ErrSandboxUnavailable] and the command does not run:
// a sandboxed mode never silently runs unsandboxed.
//
// # Deny-read
//
// In the sandboxed modes, the paths of [Executor.DenyRead] (by default
// [DefaultDenyRead]: ~/.ssh, ~/.gnupg, cloud credentials, ~/.netrc,
// /etc/shadow, ...) cannot be read. The helper bind-mounts over each
// existing one an empty directory or file with mode 000 that becomes
// read-only with the other mounts; as root the mask is owned by an id left
// out of the namespace's id mapping, so root in the sandbox has no
// capability over it either. Reading a denied path, listing a denied
// directory or opening anything below it fails with "Permission denied",
// and the stderr of the command ends with a note that names the rule:
//
//	cat: /home/u/.ssh/id_ed25519: Permission denied
//	[sandbox: reading /home/u/.ssh/id_ed25519 is denied by the deny-read rule ~/.ssh]
//
// The masks cannot be removed (Landlock forbids unmounting), changed
// (read-only mount) or renamed (a mount point is busy). Limits: paths
// missing when the command starts are not hidden; the same data under
// another name (a hard link, a copy, a raw block device readable by root)
// is not hidden; a denied path that holds the workspace root or a writable
// root is skipped, so the workspace is never hidden (a denied path inside
// it is). Unsandboxed commands can read everything.
//
// # Sandbox denials
//
// A sandboxed command that fails ([Result.ExitCode] not 0, no timeout) gets
// [Result.SandboxDenied], a note at the end of its stderr that says what
// the sandbox allows, and (through [Tool] and [LocalTool]) the outcome
// "sandbox_denied" when a line of its stderr:
//
//   - says "Permission denied", "Operation not permitted" or "Read-only
//     file system" and names (quoted, or as a word with a slash) a path
//     under a deny-read rule; or a path outside the writable directories,
//     where the error is "Read-only file system", or where this process
//     could write that path (so the file's own permissions did not cause
//     the error); or says "Read-only file system" and names no path;
//   - or, in a sandbox without network, says "Network is unreachable",
//     "Temporary failure in name resolution" or "Could not resolve host".
//
// Relative paths are taken from the command's starting directory, or, when
// they start with a deny-read rule's last element (.ssh/id_ed25519), as
// under that rule. The rule reads text, so it has limits: a program that
// reports a denial in other words, or in another language, or without the
// path, is an ordinary failure; a path after a cd elsewhere may be
// misjudged; a program that prints such a line and fails for another
// reason is taken as denied.
//
// As an ordinary user the command keeps its uid and has no capabilities
// (the helper keeps CAP_SYS_ADMIN of its own user namespace only to set up
// the mounts).
//
// Running as root: Landlock and read-only mounts bind root like any user.
// Inside its user namespace the command is still uid 0 (ids are mapped onto
// themselves, so files keep their owners; only id 4294967294, the owner of
// the deny-read masks, is left out), but its capabilities reach no
// further than its namespaces: it cannot remount, load modules, or
// configure the host's network. On kernels before Landlock ABI 6, a root
// command could still signal other processes of root; ABI 6 scopes signals
// to the sandbox.
//
// Tools that write to caches outside the workspace (the Go build cache,
// npm's cache in $HOME) fail in WorkspaceWrite mode unless those
// directories are added to [Executor.WritableRoots].
//
// # Policy
//
// A [Policy] parses a command line with a real shell parser and judges
// every simple command in it, including those inside chains, pipelines,
// subshells, substitutions, bash -c scripts and wrappers such as sudo,
// xargs and find -exec. Read-only commands run; anything else asks; user
// rules allow or deny by argv prefix; deny wins; what cannot be parsed
// asks. See [Policy] for the details and [Verdict.Key] for the
// "approve always" key.
//
// # Performance
//
// The helper (sandbox or reaper) takes over from an initialiser of the
// internal helper package, which the Go specification runs before those of
// the program's own packages and of costly dependencies (see
// [RunSandboxHelperIfRequested]): a command pays for starting the runtime
// and the standard library, not for starting the whole program (a
// JSON-schema library's init alone cost 4-8 ms of every command before).
// The deny-read mask sources are made once per process (in a directory
// named agentloop-shell-masks-<pid>-… under the system temp dir, left
// until the process ends), so a sandboxed command creates and removes one
// directory, its TMPDIR (agentloop-shell-tmp-<pid>-…). A process killed
// with SIGKILL removes neither: the first sandboxed command of the next
// process removes those of processes that are gone.
//
// go test -run XXX -bench . -benchtime 300x ./tools/shell/ measures, on a
// noisy 2-core machine (load 10-15, 2026-12-05): an unsandboxed
// Executor.Run of `true` under the reaper helper takes 3-4 ms more than
// bare os/exec of `true`; without the helper hook (direct exec and the
// /proc marker sweep) about 1 ms more; the workspace-write sandbox costs
// about 2-4 ms more than the reaper, of which the network namespace is
// about 1.3 ms and the private temp dir (a directory made and removed on
// an ext4 disk) up to 1 ms. scripts/bench-cli.sh gives the whole turn of
// the agent command.
//
// # Wire shapes
//
// [Tool] answers a shell_call with
//
//	{"type":"shell_call_output","call_id":"…","max_output_length":N,
//	 "output":[{"stdout":"…","stderr":"…","outcome":{"type":"exit","exit_code":0}}, …]}
//
// with one entry per command run and {"type":"timeout"} as the outcome of
// the command that ran out of time. [LocalTool] answers a local_shell_call
// with {"type":"local_shell_call_output","id":"<call_id>","output":"…"},
// where output is the JSON text of a [LocalShellOutput].
package shell
