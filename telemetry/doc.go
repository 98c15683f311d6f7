// Package telemetry traces and measures agent runs with OpenTelemetry, in
// the GenAI semantic conventions (v1.41.0, see [SemconvVersion]), on the
// loop's seam: it builds an [agent.Middleware] and wraps an
// [agent.Approver]. It uses the OpenTelemetry API only; the application
// installs an SDK and an exporter (the agent command does, from the
// standard OTEL_* environment), and until it does every span and metric is
// a no-op.
//
//	ins := telemetry.New(&telemetry.Options{Endpoint: client.Endpoint()})
//	a := agent.New(client, "gpt-5", &agent.Options{
//		Middleware: []agent.Middleware{ins.Middleware()},
//		Approver:   ins.Approver(myApprover, nil),
//	})
//
// # Spans
//
//	invoke_agent {agent}          INTERNAL  one per run
//	├── chat {model}              CLIENT    one per model request (turn)
//	├── execute_tool {tool}       INTERNAL  one per call; a response's calls
//	├── execute_tool {tool}                 are siblings, overlapping when
//	├── chat {model}                        they run in parallel
//	└── invoke_agent {agent}      INTERNAL  one per agent a handoff puts in
//	    ├── chat {model}                    charge, until the next handoff
//	    └── execute_tool {tool}             or the run's end
//
// A run's span has the agent's name, the model, the provider, the server,
// the turns, the summed usage, the last response id, the stop reason, and
// error.type when it fails. A request's span has the request parameters
// that matter (max output tokens, temperature, top_p, tool choice), the
// response id, model, status (gen_ai.response.finish_reasons) and usage
// (input, output, cached and reasoning tokens), the time to the stream's
// first chunk of output (gen_ai.response.time_to_first_chunk), and a span
// event per retry of the client (agentloop.retry, with the HTTP status and
// the delay). Its context carries the trace to the server as W3C
// traceparent, through the global propagator that the application sets.
// The calls the server runs (web search, file search, code interpreter,
// image generation, hosted MCP with its server label and remote tool) are
// span events of the request that returned them (agentloop.hosted_tool).
// A call's span has gen_ai.tool.name, gen_ai.tool.call.id and
// gen_ai.tool.type, the outcome ([tools.OutcomeOf] its error, as
// agentloop.tool.outcome, and error.type when it failed), the exit code of
// a shell command and the sandbox mode, the file an apply_patch call
// touches, and the server and remote tool of an MCP tool; approvals are
// its span events (see [Instrumentation.Approver]). A handoff is a span
// event of the run's (agentloop.handoff, with both agents and the call
// id), and the agent it puts in charge gets an invoke_agent span of its
// own, a child of the run's, whose requests and calls are its children;
// the metrics still count one invoke_agent operation per run.
//
// # Metrics
//
// gen_ai.client.token.usage ({token}, by gen_ai.token.type),
// gen_ai.client.operation.duration (s, for chat and invoke_agent),
// gen_ai.client.operation.time_to_first_chunk (s) and
// gen_ai.execute_tool.duration (s), as histograms with the conventions'
// bucket advice.
//
// # Content
//
// Spans carry no text of the conversation (prompts, instructions, outputs,
// tool arguments and results, error messages) unless
// [Options.CaptureContent] is set; [OptionsFromEnv] sets it from the
// conventions' OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true.
//
// # Why a package of its own
//
// The tracing sits on the seam the loop offers every driver
// ([agent.Middleware]) rather than inside package agent, so that the loop
// has one way to be observed, this package is an example of it, and a
// program that does not trace links none of it. Package agent imports no
// OpenTelemetry at all; package responses imports only the API's
// propagator, to send traceparent.
//
// All names written are in names.go, since the GenAI conventions are still
// in development and renames are queued.
package telemetry
