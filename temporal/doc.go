// Package temporal runs agent runs as Temporal workflows, so that a run
// survives the crash of its process, waits hours for an approval without
// holding a goroutine, and spreads over many workers.
//
// It is a nested module (github.com/agentloop/agentloop/temporal): a
// program that does not import it downloads none of the Temporal SDK.
//
// # One loop, two drivers
//
// The loop's rules live in one place, [agent.Machine] (agent/step.go): max
// turns, budgets, the request to send (chained or stateless), which calls
// to run, parallel or alone, approvals, stop-at-tools, one output per call
// in call order, cancellation outputs and the final result. [agent.Agent.Run]
// drives a Machine in process (agent/run.go, agent/dispatch.go);
// [RunWorkflow] drives the same Machine inside a workflow (workflow.go,
// driver.drive), performing each action the Machine returns:
//
//	Machine action   performed as                                  reported as
//	ListTools        local activity agentloop.ListTools            ToolsListed
//	SendRequest      activity agentloop.Model (the Responses call)  ResponseDone / RequestFailed
//	Compact          activity agentloop.Compact                     Compacted
//	ReviewCall       local activity agentloop.Review                Reviewed
//	AskApproval      durable wait for the "approve" Update          Approved
//	RunCall          activity agentloop.Call, one per call          CallDone
//	DeclineCall      activity agentloop.Decline                     CallDone
//	HandOff          local activity agentloop.HandOff               HandedOff
//	Emit             dropped (events are for in-process consumers)
//	Finish           the workflow's result (an agent.Result)
//
// A handoff switches the run to another agent, found by name among the
// agents the worker's agent hands off to ([agent.Agent.Find]; others in
// [WorkerOptions.Agents]): the following turns list and call that agent's
// tools and send through its client. The HandOff local activity runs the
// handoff's OnHandoff (an error ends the run) and its HandoffFilter, as in
// process: a filtered history replaces the chain. OnHandoff may run again
// if the worker dies before the workflow records its result.
//
// # Middleware and guardrails
//
// The model activity sends through the Model middleware of the worker's
// agent ([agent.Agent.WrapModel]) and the call activity runs the call
// through its Tool middleware and tool guardrails
// ([agent.Agent.WrapTool]), so a tracer's spans, a policy's refusal and a
// guardrail's verdict happen where the work happens, once per attempt and
// never on replay. A refusal of the Model middleware is not retried; a
// tool guardrail's tripwire ends the run, as in process. The Run
// middleware, input guardrails and output guardrails do not run on
// Temporal: they wrap a whole run, which no process holds.
//
// Tracing follows: with the telemetry package's middleware on the agent,
// each model request's chat span and each call's execute_tool span are
// made inside its activity, so a replay (which runs no activity) records
// none twice; the workflow itself makes no span. The run's invoke_agent
// span is not made on Temporal (no process sees the whole run), so the
// spans of one run are not joined under one trace.
//
// # What is deterministic, what is an activity
//
// The workflow code is the Machine and its driver: no I/O, no clock but
// workflow.Now, no goroutine but workflow.Go, no map iteration that
// matters. Everything that touches the world is an activity, run by a
// [Worker] built from an ordinary [*agent.Agent]: the model request (the
// client's own retries are off; Temporal's retry policy retries 408, 409,
// 429 and 5xx after the wait the server asked for in retry-after, and never
// other 4xx), each tool call (its activity id is the workflow id, the call
// id and "call", so a replayed workflow task never schedules a call twice),
// declines and compaction. Listing tools and reviewing a call have no side
// effects and run as local activities, recorded as markers.
//
// Calls of one response run as parallel activities, at most MaxParallel at
// once, and a call of a tool that is not parallel-safe alone, exactly as
// the Machine says. Reviews and approvals are taken one at a time in call
// order, as in process.
//
// # What happens on a crash
//
// Temporal records each activity's result in the workflow's history. When a
// worker dies, another replays the history through the same Machine and
// goes on: completed calls and model requests are not run again. A call
// that was running when its worker died is noticed after its heartbeat
// timeout ([ToolOptions.Heartbeat]; calls heartbeat every third of it).
// Then:
//
//   - a tool that says it is idempotent ([tools.Idempotent]) is run again,
//     up to [ToolOptions.MaxAttempts];
//   - any other tool (a shell command, a patch) is not: the model gets an
//     output saying that the call was interrupted and may or may not have
//     taken effect ([InterruptedMessage]), unless
//     [ToolOptions.RetryInterrupted] is set.
//
// A tool is idempotent when [agent.ToolInfo].Idempotent says so (the
// listing of each turn records it). Every attempt carries [tools.Attempt]
// in its context: Key is the workflow id and the call id
// ("run-1/call_abc"), the same on every attempt and after continue-as-new,
// and Number counts attempts from 1, so a tool can deduplicate its effect.
// The executors hand the key on: an MCP call carries it in its request's
// _meta (mcp.IdempotencyKeyMeta), and apply_patch recognises a patch it
// already applied (the files already hold what the patch produces) and
// changes nothing.
//
// A model request in flight when its worker died is sent again (it
// heartbeats while it streams and while it waits for the first event). No
// call of its response was started before the response was complete, so
// nothing is acted on twice.
//
// # Approvals
//
// A call that needs approval waits durably for the [ApproveUpdate] Update
// ([Approve] sends it); the validator rejects an unknown call id and a
// second answer. [RunOptions.ApprovalTimeout] ends the wait with a denial.
// The [StateQuery] Query ([Pending]) returns the run's [agent.RunState] and
// the approvals it waits for.
//
// # History and payload limits
//
// Temporal refuses a payload over 2 MiB and a history over 50 MiB or
// 51,200 events. The workflow continues as new between two turns after
// [RunOptions.ContinueAsNewAfter] turns (10 by default) or when Temporal
// suggests it, carrying the Machine's checkpoint between turns
// ([agent.Machine.Checkpoint]: the state, whose Input is the next
// request's input, and the run's progress) and going on with
// [agent.Machine.Continue]: MaxTurns and MaxDuration count from the run's
// start, and compaction keeps its bookkeeping. A tool output larger than
// [WorkerOptions.MaxOutputBytes] (512 KiB by default) is cut in the call
// activity to its head and tail around a marker saying how many bytes were
// left out, the rule the shell tool uses for long output: an output travels
// in the call's result, in the next request and in the run's items, and
// must stay well under the 2 MiB limit each time. A stateless run sends its
// whole transcript in every model request, and so records it in the
// history every turn: prefer chaining (previous_response_id) for long runs.
//
// # Changing the workflow
//
// Runs in flight replay their history through the code of the worker that
// picks them up, so the order of the activities the workflow schedules is
// part of its contract: the replay test (temporal/testdata, recorded from
// real runs) fails when a change would break them. Such a change needs
// workflow.GetVersion, or a new workflow name.
//
// # Recovery that understands chaining
//
// The workflow keeps the transcript of a chained run (what it sent and
// received, without reasoning items). When the server answers 400
// previous_response_not_found (the response expired, or another store), it
// sends that transcript instead of the chain, once, and records it in the
// [StateView]'s Events. The transcript covers this run only: a run that
// continued an earlier conversation by its response id cannot recover
// what came before it.
package temporal
