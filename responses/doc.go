// Package responses speaks the Responses API: the OpenAI endpoint
// (POST {base}/responses), the Scale GenAI Platform's (POST
// {base}/v5/responses) and any compatible server. It holds lean wire types
// and one HTTP client, with streaming, typed errors and retries.
//
// # Sending a request
//
// A [Client] is built from [ClientOptions]; the zero options talk to OpenAI.
// [OptionsFromEnv] builds options from the usual environment variables when
// the program passes it [os.Getenv] (the package itself never reads the
// environment):
//
//	opts, err := responses.OptionsFromEnv(os.Getenv)
//	if err != nil { ... }
//	c := responses.NewClient(opts)
//	resp, err := c.Create(ctx, &responses.Request{
//		Model: "gpt-5.4",
//		Input: responses.TextInput("Say hello."),
//		Store: responses.Ptr(false), // pointers: false and 0 are sent
//	})
//	fmt.Println(resp.OutputText())
//
// # Items
//
// Every input and output item is an [Item] that keeps the JSON it came
// from, so items this package does not model (encrypted reasoning, hosted
// tool calls, types added later) go back to the server unchanged. Its
// header (Type, ID, CallID, Name, Status) is read without decoding the
// payload; [Item.Decode] fills a typed view such as [FunctionCall]. Drive a
// loop by item types, not by the response's status: a completed response
// may still hold calls to answer.
//
// # Streaming
//
// [Client.Stream] returns a [Stream] of typed [Event] values; the terminal
// event (response.completed, response.incomplete or response.failed) is the
// last, after which [Stream.Response] holds the whole response:
//
//	s, err := c.Stream(ctx, req)
//	if err != nil { ... }
//	defer s.Close()
//	for s.Next() {
//		if ev := s.Event(); ev.Type == responses.EventOutputTextDelta {
//			fmt.Print(ev.Delta)
//		}
//	}
//	if err := s.Err(); err != nil { ... }
//	resp := s.Response()
//
// Events of types this package does not know are delivered with their raw
// JSON. Events can be many megabytes (a response.completed repeats the whole
// response); the decoder holds each one once, whatever its size.
//
// # Errors and retries
//
// A non-2xx reply is an [*APIError] with the status, the server's type,
// code, param and message, the x-request-id, and the wait the server asked
// for (RetryAfter). A body that is not the documented JSON gives its first
// line, or an HTML page's title, never the whole page.
//
// Retried, twice by default ([ClientOptions.MaxRetries]), with exponential
// backoff (0.5 s doubling to 8 s, less up to 25% of jitter) or the wait
// retry-after-ms or retry-after asks for (up to MaxRetryAfter, 2 minutes;
// a longer one returns the error): connection failures, 408, 409, 429 and
// 5xx but 501 and 505 (x-should-retry overrides the status; a 429 whose
// code is insufficient_quota never is), a non-streaming reply cut in its
// body, and a stream that breaks or stays silent for StreamIdleTimeout (5
// minutes) before delivering its first output item. After that a broken
// stream ends with a [*StreamError] and the caller decides. A 2xx reply
// that is neither JSON nor an event stream (a proxy's login page, a wrong
// base URL) is a [*ContentTypeError] at once.
//
// The retries are counted per call, or per [RetryBudget] shared by several
// calls and by the caller's own new attempts: an agent loop takes one per
// turn, so the turn sends at most MaxRetries+1 requests. A caller that
// retries by itself, such as a workflow engine, turns the client's retries
// off with a negative MaxRetries and waits [APIError.RetryAfter] when set.
//
// A response that failed or is incomplete is not a Go error: its Status and
// Error say so.
package responses
