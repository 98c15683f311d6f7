// Package responsestest is a Responses API server in a box, built on
// net/http/httptest, for testing agents without the network: it plays a
// script of model turns over real HTTP, streams server-sent events in the
// real API's order, keeps responses so previous_response_id chaining works,
// rejects requests that break the API's conversation rules the way the API
// does, records every request for assertions, and injects faults.
//
// # A scripted conversation
//
// Each [Turn] answers one create request. A [Reply] is a static answer; the
// item builders ([Text], [FunctionCall], [ShellCall], [Reasoning], ...)
// make its output items, and the server gives them deterministic ids
// ("fc_1_0" is output item 0 of resp_1):
//
//	s := responsestest.New(t,
//		responsestest.Output(responsestest.FunctionCall("call_1", "get_weather", `{"city":"Paris"}`)),
//		responsestest.Output(responsestest.Text("It is sunny in Paris.")),
//	)
//	// point the client under test at s.URL (POST s.URL+"/responses",
//	// or s.URL+"/v5/responses" for the Scale GenAI Platform style)
//	...
//	reqs := s.Requests()
//	out, ok := reqs[1].Output("call_1") // the function_call_output the agent sent
//
// [New] closes the server when the test ends and fails the test on a
// script mismatch, such as a request beyond the end of the script;
// [NewServer] is the same without a testing.TB (for an offline demo), and
// [Server.Err] reports the mismatches.
//
// A [TurnFunc] computes its reply from the request, and a [Model], the last
// turn of a script, answers every request from then on, concurrently: the
// way to serve a benchmark of a thousand agents.
//
// # Like the real API
//
// A create request with "stream": true gets text/event-stream: for each
// response, response.created, response.in_progress, then for each output
// item response.output_item.added, the item's own events (content parts and
// text deltas for a message, summary parts and deltas for reasoning,
// argument deltas for a function call, ...), response.output_item.done, and
// finally response.completed (or response.incomplete or response.failed)
// with the whole response. Every event carries a sequence_number counting
// from 0, and each event is flushed as it is written.
//
// Responses are stored unless the request says "store": false, so a request
// can continue one with previous_response_id; an unknown or unstored id is
// a 400 previous_response_not_found. Every call of the conversation must be
// answered: in chained mode each call of the previous response needs its
// output (matched by call_id), and in stateless mode each call replayed in
// the input must be followed by its output; an mcp_approval_request may go
// unanswered (the server then does not make the call), but an
// mcp_approval_response must answer one (by approval_request_id). Otherwise the server answers 400
// with the API's error body, for example "No tool output found for function
// call call_1.".
//
// Reasoning is checked the way the API checks a stateless replay: a
// reasoning item carries encrypted_content only when the request's include
// asks for "reasoning.encrypted_content"; a replayed reasoning item without
// it must come from a stored response ("Item with id 'rs_1_0' not found"),
// and a reasoning item and the item that followed it must be replayed
// together. Items replayed without ids are not checked.
//
// # Strict like the API
//
// Requests are validated as the real API validates them, with its 400 body
// {"error":{"message","type":"invalid_request_error","param","code"}}: no
// unknown parameter ("unknown_parameter"), model and input present
// ("missing_required_parameter"), values in range and in their sets
// ("invalid_value", "decimal_above_max_value", ...), input items of a known
// type with their required fields, tools with a type and a name.
// [Server.Lenient] turns the checks off for a test that sends odd requests
// on purpose; [Rule] names the groups. docs/responsestest-rules.md lists
// every rule with its source (the API reference, the official SDKs' types,
// recorded API responses).
//
// Besides create: GET /responses/{id} (streamed with stream=true),
// DELETE /responses/{id}, POST /responses/{id}/cancel,
// GET /responses/{id}/input_items and POST /conversations. A request with
// "background": true is answered queued and each retrieval moves it on
// (in_progress, then the final response).
//
// # Conversations and compaction
//
// A request with "conversation" ("conv_…" or {"id": "conv_…"}) continues a
// server-side conversation, whose items are the request's context; see
// [Server.Conversation] and [Server.CreateConversation]. The response echoes
// it. It may not also set previous_response_id. POST
// /responses/compact (OpenAI-style paths only: the /v5 prefix has no compact
// endpoint, like a provider without one) answers outside the script with
// the conversation's user messages and one compaction item;
// [CompactedCount] tells how many items it replaced. Hosted-tool items
// (web and file search, code interpreter, image generation, a hosted shell's
// output) stream their progress events.
//
// # Faults
//
// A Reply's Faults are served one per attempt before the reply itself, and
// do not use up the turn, so a client that retries gets the reply:
//
//	responsestest.Reply{
//		Output: []responses.Item{responsestest.Text("hello")},
//		Faults: []responsestest.Fault{
//			responsestest.RateLimited(20 * time.Millisecond), // 429 with retry-after-ms
//			responsestest.CutBeforeItemDone(0),                 // stream cut mid-item
//		},
//	}
//
// HTTP errors, a cut connection, a response.failed, an error event and a
// request that never gets an answer are available; delays before a reply
// and between events are fields of [Reply].
package responsestest
