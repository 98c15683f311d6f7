// Package agent runs a model with tools on the Responses API: the agent loop.
//
// # The loop
//
// One run repeats a turn until the model stops calling tools:
//
//  1. request: model, instructions, the definitions of every tool, the
//     other parameters, and the new input items: the user's input on the
//     first turn, the outputs of the previous turn's calls afterwards. The
//     request chains to the previous response by previous_response_id, or,
//     in stateless mode (store:false), carries the whole transcript.
//  2. calls: each call item of the response (function, custom, shell,
//     local shell, apply_patch, computer) is routed by type and name to the
//     tool that declared it. With streaming, a call starts as soon as its
//     item is complete. A tool that asks for approval consults the
//     [Approver] first; hosted MCP approval requests go to it as well.
//  3. outputs: every call yields exactly one output item, in call order. A
//     failure (bad arguments, unknown tool, panic, timeout, denial) is an
//     output the model can read, not an error of the run.
//  4. next request: the outputs become the next request's input. The run
//     ends when a response has no calls, at MaxTurns, at a budget or a
//     stop tool, or when the context ends.
//
// # Use
//
//	client := responses.NewClient(&responses.ClientOptions{APIKey: key})
//	weather := function.New("weather", "Weather in a city.",
//		func(ctx context.Context, in struct{ City string `json:"city"` }) (string, error) {
//			return "sunny in " + in.City, nil
//		}, nil)
//	a := agent.New(client, "gpt-4o", &agent.Options{Tools: []tools.Tool{weather}})
//	res, err := a.Run(ctx, "What is the weather in Paris?")
//
// [Agent.Stream] yields the same run as events (text deltas, tool calls
// started and finished, approvals, usage) for a UI. When an approver defers,
// the run returns [Result.Pending] and a [RunState] that marshals to JSON;
// [Agent.Resume] continues it, in the same process or another.
//
// # Continuing a conversation
//
// Every run's [Result.State] is a [RunState]: the one value that says how
// the conversation goes on (the last response id or, stateless, the
// transcript; pending approvals; the approvals granted always; the agent in
// charge; counters). Save it as JSON; [WithState] continues the
// conversation with a new prompt, and [Agent.Resume] continues a run that
// stopped (pending approvals, a budget, a failure or a cancellation).
//
// # Rules and drivers
//
// The loop's rules live in one place, the [Machine]: a deterministic state
// machine that takes what happened (a response, a call's result, an
// approval, the time) and returns what to do (send a request, run calls
// alone or together, ask the approver, compact, finish). It does no I/O.
// [Agent.Run], [Agent.Stream] and [Agent.Resume] drive it in process,
// starting calls while the response still streams; the temporal module
// drives the same Machine as a durable workflow.
//
// # Middleware
//
// [Options.Middleware] wraps each run, model request, approval question and
// tool call ([Middleware]): tracing puts its span into the context, a
// guardrail refuses, a hook observes or answers an approval itself. With
// none installed the loop calls its handlers directly.
//
//	audit := agent.Middleware{Tool: func(next agent.ToolHandler) agent.ToolHandler {
//		return func(ctx context.Context, call tools.Call) (responses.Item, error) {
//			out, err := next(ctx, call)
//			log.Printf("%s %s: %s", call.Name, call.CallID, tools.OutcomeOf(err))
//			return out, err
//		}
//	}}
//
// # Agents together
//
// Handoffs pass the conversation to another agent, which goes on with its
// own instructions, tools and model ([Handoff]); [Agent.AsTool] lets a
// model call another agent like a function; guardrails check the input,
// the output and each tool call ([InputGuardrail], [OutputGuardrail],
// [ToolGuardrail]) and end the run with a [*TripwireError] when they trip.
//
//	billing := agent.New(client, "gpt-4.1", &agent.Options{Name: "billing", Instructions: "..."})
//	researcher := agent.New(client, "gpt-4.1-mini", &agent.Options{Name: "researcher"})
//	triage := agent.New(client, "gpt-4.1-mini", &agent.Options{
//		Name:            "triage",
//		Handoffs:        []agent.Handoff{{Agent: billing}},
//		Tools:           []tools.Tool{researcher.AsTool("research", "Look something up.")},
//		InputGuardrails: []agent.InputGuardrail{{Name: "on_topic", Check: onTopic}},
//	})
//	res, err := triage.Run(ctx, "Can I get a refund?") // res.Agent says who answered
//
// # The rest of the API
//
//   - Structured output: [RunAs] constrains the final answer to a JSON
//     Schema derived from a Go type and returns it decoded ([OutputError]
//     when it does not match).
//   - Rich input: [Agent.RunItems] takes messages of any role built with
//     the responses package (text, images, files); a function tool may
//     return a []responses.ContentPart.
//   - Computer use: the tools/computer package; its safety checks go to
//     the [Approver].
//   - Hosted tools: [Hosted] declares web search, file search, the code
//     interpreter, image generation or a hosted shell; their steps arrive as
//     [EventHostedTool] events and their items are replayed unchanged.
//   - Long runs: [Options.Compaction] compacts the context before it
//     outgrows the model's window ([Compaction]).
//   - Server-side state: [WithConversation] and [WithPrompt] pass a
//     conversation and a stored prompt instead of chaining responses.
//
// Errors of the run are Go errors: HTTP and API errors from the client,
// [*ResponseError] for failed or incomplete responses, [ErrMaxTurns], and
// the context's error. Each comes with the partial [Result].
package agent
