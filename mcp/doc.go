// Package mcp connects an agent to the user's MCP (Model Context Protocol)
// servers and exposes their tools to the model, and defines hosted MCP
// tools, which the Responses API server calls itself.
//
// # Local servers
//
// Load the servers from the JSON file other MCP clients use, start them,
// and register the [Set] as a toolset of the agent:
//
//	cfg, err := mcp.LoadConfig("mcp.json", os.LookupEnv)
//	...
//	set, err := mcp.Connect(ctx, cfg, &mcp.Options{Root: workspace, Env: os.Environ()})
//	if err != nil {
//		log.Print(err) // servers that failed to start; the others work
//	}
//	defer set.Close()
//	tools, err := set.Tools(ctx) // one tool per MCP tool, named "server__tool"
//
// stdio servers run in their own process group, from their config's cwd
// (or the workspace root), with the environment given in [Options.Env]
// plus their config's env; [Set.Close] reaps them all. Streamable HTTP and
// legacy SSE servers are reached by URL.
//
// # Calls
//
// Each call is bounded by the server's call timeout; when the run's context
// ends or the timeout passes, the server is sent notifications/cancelled
// and the call returns at once. Progress notifications go to the call's
// Progress function. A server that dies during a call fails that call with
// an error the model can read (with the tail of its stderr) and is started
// again for the next call, after a back-off; one that keeps failing is
// disabled.
//
// Results reach the model as the server meant them (the MCP
// specification's rule): the content blocks, text joined by newlines, and
// structuredContent as JSON only when a result has no content. Binary
// content never reaches the model as base64 text: audio and blob resources
// are described by type, MIME type and size, and so are images unless
// [Options.Images] attaches them as input_image parts. Text is capped at
// [Options.MaxOutputBytes] with its head and tail kept. A result with
// isError reaches the model as an output starting "error: ", and the call's
// error wraps [ErrToolFailed] so the loop reports the outcome "error"; a
// JSON-RPC error or a failed server is a plain error. [Tool.CallStructured]
// also hands a Go program the result's structuredContent, which is checked
// against the tool's output schema when it has one ([ErrOutputSchema]).
//
// A driver that may run a call more than once (a durable run on Temporal)
// gives it an idempotency key ([tools.Attempt]); the call carries it in the
// request's _meta under [IdempotencyKeyMeta], so a server can recognise a
// call it already performed. A tool the server marks read-only or
// idempotent (readOnlyHint, idempotentHint) says so ([Tool.Idempotent]),
// and such a driver runs its interrupted calls again.
//
// # Servers
//
// A server's log messages (notifications/message) go to [Options.Logger]
// at the matching level (debug at Debug, info and notice at Info, warning
// at Warn, error and above at Error). A stdio server that exits during
// start-up is reported at once as exited, with its exit status and the
// tail of its stderr. Over Streamable HTTP, the stream for notifications
// outside calls opens only once the session is initialised, and every
// request after initialize carries Mcp-Protocol-Version.
//
// # Server requests
//
// Servers may ask the user for input (elicitation) and ask the client's
// model for a completion (sampling). Elicitations go to [Options.Elicitor];
// without one they are declined. Sampling is offered only when
// [Options.Sampler] is set, for example to [ModelSampler] over the agent's
// own client and model. Roots are offered when [Options.Root] is set.
// Over legacy SSE none of these is offered: mcp-go cannot answer there.
//
// # Approvals
//
// Every [Tool] is a [tools.Reviewer]: its server's [ApprovalPolicy] says
// whether a call asks the agent's approver. The approval request has Kind
// "mcp" and Key "mcp:<server>/<tool>", which "approve always" remembers.
//
// # Hosted MCP
//
// [NewHosted] returns the definition of a hosted mcp tool. The loop never
// calls it; the mcp_approval_request items it produces are answered by the
// agent's approver.
//
// Only this package imports mark3labs/mcp-go.
package mcp
