// Agent is a coding agent for the command line: a model with a shell and
// apply_patch working in your repository.
//
// Usage:
//
//	agent [flags] PROMPT...       run one task and exit
//	agent [flags] -               read the task from stdin
//	agent [flags]                 chat in the terminal (a multi-turn session)
//	agent exec [flags] PROMPT|-   run one task for a script: never asks, no
//	                              chat; see "agent exec" below
//	agent resume [ID] [PROMPT]    continue a saved session; without ID or
//	                              PROMPT at a terminal, pick it from a list
//	                              (as /resume does), else the latest
//	agent resume --last           continue the latest session
//	agent trust [PATH]            trust a folder's workspace configuration
//	agent trust --list            list the trusted folders
//	agent trust --revoke PATH     forget a trusted folder
//	agent mcp-server [flags]      serve the agent over MCP on stdin/stdout;
//	                              see "agent mcp-server" below
//
// Model and provider:
//
//	-m, --model NAME        model to call (default gpt-5-codex, or the config's)
//	    --provider NAME     openai or sgp (default: sgp when SGP_API_KEY is set,
//	                        else openai)
//	    --base-url URL      API base URL (default: OPENAI_BASE_URL or
//	                        SGP_CLIENT_BASE_URL, else the provider's)
//	    --stateless         send the whole transcript every turn (store:false)
//	                        instead of chaining by previous_response_id
//	-p, --profile NAME      apply the config file's [profiles.NAME]
//	-c, --config KEY=VALUE  override a config file key for this run: a dotted
//	                        key and a TOML value (-c model="gpt-5",
//	                        -c shell.allow='["make"]'); a value that is not
//	                        TOML is a string (-c model=gpt-5); repeatable
//	    --max-turns N       requests per task before it stops (default: no
//	                        limit; 0 is no limit)
//	    --max-tokens N      tokens per task before it stops (default: none)
//	    --max-duration D    time per task before it stops, such as 30m
//	                        (default: none); a task a budget stops can be
//	                        continued with agent resume
//	    --reasoning-effort LEVEL
//	                        none, minimal, low, medium, high or xhigh, for
//	                        reasoning models (default: the model's); also
//	                        shows reasoning summaries
//
// Workspace and safety:
//
//	-C, --cd DIR            work in DIR (default: the current directory)
//	-s, --sandbox MODE      read-only, workspace-write (default) or
//	                        danger-full-access
//	    --network           allow network access in the sandbox (default: none)
//	-a, --ask-for-approval POLICY
//	                        untrusted, on-request (default) or never
//	    --mcp-config FILE   MCP servers to connect (default: ./.mcp.json if
//	                        present and the folder is trusted, else mcp.json
//	                        in the config directory)
//	    --trust-workspace   load the workspace configuration (.mcp.json)
//	                        for this run without asking; nothing is
//	                        remembered
//	-i, --image FILE        attach a png, jpeg, webp or gif image to the
//	                        first message (repeatable, or FILE,FILE)
//
// Output:
//
//	    --json              one JSON event per line on stdout
//	    --timeline FILE     write an HTML timeline of the runs to FILE at exit
//	    --log-level LEVEL   log the library's messages (loop, MCP servers) at
//	                        debug, info, warn or error, on stderr
//	    --log-file FILE     write those logs to FILE instead (info by default)
//	                        (model requests, calls, approval waits, tokens)
//	    --no-color          no colours (also: NO_COLOR set to anything)
//	-h, --help              show this help
//	    --version           print the version
//
// agent exec runs one task for a script, as codex exec does: the task is
// its argument, or stdin with -; nothing is ever asked (what needs approval
// is declined and the model is told so), and it refuses to run outside a
// git repository. Besides the flags above it takes:
//
//	-o, --output-last-message FILE
//	                        write the final answer to FILE
//	    --output-schema FILE
//	                        a JSON Schema (an object) the final answer must
//	                        match; the model is asked for it (strict when
//	                        the schema allows), and an answer that does not
//	                        match fails the task (exit 1)
//	    --skip-git-repo-check
//	                        run outside a git repository too
//	    --full-auto         -s workspace-write -a on-request
//	    --dangerously-bypass-approvals-and-sandbox
//	                        -s danger-full-access -a never: commands run
//	                        unsandboxed and nothing is asked; only for an
//	                        environment that is itself a sandbox
//
// agent mcp-server lets another agent or an IDE delegate tasks to this
// one over MCP (stdio). Its flags and config are the defaults of every
// task. Tools: start_task (prompt; workspace, sandbox, approval_policy and
// model optional) returns a task_id at once; task_status (task_id,
// wait_seconds) returns the status (running, waiting_approval, completed,
// failed, canceled), the final answer and the pending approvals, waiting
// while it runs; answer_approval (task_id, approval_id, decision approve,
// approve_always or deny, reason); reply (task_id, prompt) continues the
// task's session; cancel_task (task_id) returns once nothing of the task
// runs. While a prompt runs, each event of the --json schema is a
// notifications/progress message to the progress token of the call that
// started it. Workspace trust and the sandbox apply as in a run without a
// terminal: an untrusted folder's configuration is skipped, and what
// needs approval is asked of the client.
//
// Approval policies:
//
//	untrusted   only known-safe read-only commands (ls, cat, grep, git status,
//	            ...) run without asking; every other command and every patch
//	            asks you first.
//	on-request  (the default) commands run in the sandbox without asking
//	            and patches are applied; you are asked only about what the
//	            sandbox cannot contain: a command not known to be safe under
//	            danger-full-access, a patch under read-only, and a call of an
//	            MCP tool whose server's "approval" config says "ask".
//	never       never asks: what on-request would ask you is declined, and
//	            the model is told so.
//
// A question is answered with one key: y (yes), n (no), a (always: this
// command prefix, or this tool, for the rest of the session) or e (no, and
// type why: the model is told). Keys typed before the question appeared
// never answer it: in a chat they are kept as your next message. Without a
// terminal nobody can be asked: such calls are declined, with a message to
// the model and on stderr; agent exec never asks.
//
// In a chat, a line starting with / is a command, never sent to the model
// (an unknown one says so): /help, /model [NAME] (switch for the rest of
// the session, the sub-agents whose definitions name no model too; without
// NAME, list the provider's models), /status, /approvals [POLICY], /diff
// (the changes since the session started; with git, against the last
// commit; without git, the files patched in this session), /undo (put
// back, all at once, the files the last task's patches changed; with or
// without git), /compact, /new, /resume [ID], /mcp, /init (ask the agent
// for an AGENTS.md), /timeline [FILE], /exit.
//
// /resume without an ID lists the saved sessions, the most recent first
// (id, age, model, workspace, tasks, the first line of the first prompt):
// choose one with the arrow keys, j/k or its number, and Enter; Esc
// cancels. A session open in another agent process cannot be chosen. The
// chat continues the chosen session (its model and mode) in this chat's
// workspace. agent resume at a terminal, without ID or PROMPT, starts
// with this picker; Esc then leaves.
//
// The model's text goes to stdout, rendered as markdown on a colour
// terminal (as sent with NO_COLOR or into a pipe); tool activity, patch
// diffs (coloured on a terminal) and the final summary go to stderr. The
// summary line ends with the cost when the model's list price is known. Ctrl-C once, or Esc, stops the current task (running commands
// are killed; a patch is applied whole or not at all) and returns to the
// prompt, or exits in one-shot mode; Ctrl-C twice exits at once. A line
// typed while a task runs is shown as queued and is the next message. At
// the prompt, Tab completes a slash command. In a chat, Ctrl-D or /exit
// ends the session.
//
// Workspace trust: a folder's own configuration can run programs on your
// machine, outside the sandbox, so none of it is loaded until you trust the
// folder: the workspace's .mcp.json (its MCP servers are commands to
// start, or URLs to send ${VAR} values of your environment to), its
// .agents/hooks.toml (project hooks) and its .agents/*.md (sub-agents).
// AGENTS.md is text for the model and
// always loads; the config directory is yours and always loads. An explicit
// --mcp-config is your choice and is not asked about.
//
// The folder is the repository root (the nearest directory above the
// workspace holding .git), or the workspace without one. In a terminal you
// are asked once, shown what would run (each MCP server's command or URL);
// y trusts it, n continues without it (and is not remembered: the next run
// asks again). Without a terminal nothing is asked:
// the configuration is skipped and one line on stderr says what and how to
// trust. Trust is given only by that answer, by agent trust PATH, by
// --trust-workspace (one run), or by "trusted_folders" in config.toml
// (folders, and everything below them, trusted whatever their content).
//
// Trust is tied to content: the state directory's trusted.json keeps a
// SHA-256 of each configuration file you agreed to. A file whose content
// changes, or one you never saw (a new .mcp.json, or one in another
// subdirectory of the repository), is asked about again; the files you
// agreed to stay trusted. agent trust --revoke PATH forgets the folder.
//
// Environment:
//
//	OPENAI_API_KEY, OPENAI_BASE_URL                  OpenAI (or compatible)
//	SGP_API_KEY, SGP_ACCOUNT_ID, SGP_CLIENT_BASE_URL Scale GenAI Platform
//	AGENTLOOP_CONFIG_DIR   config directory (default: the user config
//	                       directory + /agentloop)
//	AGENTLOOP_STATE_DIR    state directory: sessions in its sessions/, trusted
//	                       folders in trusted.json (default:
//	                       $XDG_STATE_HOME/agentloop, or ~/.local/state/agentloop)
//	NO_COLOR               disable colours
//	OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf or
//	grpc), OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER
//	(otlp, console or none)  export traces and metrics (OpenTelemetry, GenAI
//	                       conventions); on when an endpoint is set. A collector
//	                       that is down costs one warning, never the run.
//	OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true  put prompts,
//	                       outputs and tool arguments in spans (off by default)
//
// The config file, config.toml in the config directory, sets defaults that
// flags override. A setting comes from, in order: a flag, a -c override,
// the resumed session (its model and mode), the profile (--profile, else
// the file's "profile" key), the file, the default. A mistake in the file
// is reported with its line and key, and is a usage error (exit 2).
//
//	model = "gpt-5-codex"
//	provider = "openai"             # or "sgp"
//	base_url = ""
//	sandbox = "workspace-write"
//	ask_for_approval = "on-request"
//	reasoning_effort = "medium"
//	stateless = false
//	network = false
//	max_turns = 0                   # 0: no limit
//	max_tokens = 0                  # 0: no limit
//	max_duration = "1h"
//	mcp_config = ""
//	trusted_folders = ["~/src/mine"]
//	profile = "fast"                # the profile used without --profile
//
//	[profiles.fast]
//	model = "gpt-5-mini"
//	reasoning_effort = "low"
//
//	[shell]
//	allow = ["go test", "make"]     # argv prefixes that run without asking
//	deny = ["git push"]             # argv prefixes that are refused
//
// Hooks are commands run at points of a task, as Claude Code users know
// them, from [[hooks.KIND]] tables in config.toml (yours) and in a trusted
// workspace's .agents/hooks.toml (the project's, run after yours):
//
//	[[hooks.pre_tool_use]]
//	matcher = "shell"               # glob of tool names: shell, apply_patch,
//	                                # mcp__SERVER__TOOL, a function's name;
//	                                # empty: every tool
//	command = "./scripts/check.sh"  # run with bash -c in the workspace
//	timeout = "10s"                 # default 60s
//
// KIND is pre_tool_use and post_tool_use (around every tool call, of every
// tool), user_prompt_submit (before a prompt is sent) and stop (when a task
// ends). A hook reads its event as JSON on stdin (hook_event_name,
// session_id, cwd; tool_name, tool_type, call_id, tool_input; for
// post_tool_use tool_response and outcome; prompt; last_assistant_message
// and stop_hook_active). Exit status 2 blocks, with stderr as the reason;
// so does {"decision": "block", "reason": "..."} on stdout (or Claude
// Code's hookSpecificOutput.permissionDecision "deny"). A blocked call is
// not run and the model reads the reason; a blocked prompt is not sent; a
// blocked stop sends the agent on with the reason (at most 3 times). A
// pre_tool_use hook's "updatedInput" replaces the call's input (a
// function's arguments, a shell call's action, a patch's operation). For a
// call that needs approval the pre_tool_use hooks run before the question:
// {"decision": "allow"} (or permissionDecision "allow") answers it, and the
// call runs without asking; they do not run again when it runs.
// user_prompt_submit's stdout (or "additionalContext") is context for the
// model. A hook that fails otherwise, or outlives its timeout (it is then
// killed with everything it started), is reported and the task goes on.
//
// Sub-agents: each .agents/NAME.md of a trusted workspace is an agent the
// main agent may call as a tool named NAME, with an input; it runs its own
// loop and its final answer is the tool's output. The file starts with
// front matter, and its body is the sub-agent's instructions:
//
//	---
//	name: reviewer                  # default: the file name
//	description: Reviews the working tree's changes.
//	model: gpt-5-mini               # default: the main agent's (/model
//	                                # switches it too)
//	tools: [shell]                  # names or globs of the main agent's
//	                                # tools (shell, apply_patch, SERVER__TOOL);
//	                                # default: all of them; []: none
//	---
//	You review changes: run git diff, read the code, list the bugs.
//
// A sub-agent's calls are approved, sandboxed and hooked like the main
// agent's; its tokens count toward the task's budget.
//
// A config.json of earlier versions (the same keys, in JSON) is still read
// when there is no config.toml, with a note to move it.
//
// Instructions: built-in coding-agent instructions, then every AGENTS.md
// from the repository root down to the workspace directory.
//
// Every task that got an answer is saved as a session in the state
// directory; its id is printed at the end. A task that never reached the
// model saves nothing.
//
// Exit status: 0 done, 1 the task failed (or a budget stopped it), 2 usage
// or configuration error, 130 interrupted.
package main
