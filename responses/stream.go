package responses

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agentloop/agentloop/responses/internal/sse"
)

// Stream sends req with "stream": true and returns the event stream once the
// server has accepted it (HTTP 200). Failures before that are retried like
// [Client.Create]'s and returned here. The caller must call [Stream.Close].
//
// A stream that breaks before its terminal event is retried transparently,
// within the same retry budget, as long as no response.output_item.done event
// has been delivered; the retry starts again with a response.created event
// (of a new response), so a consumer that displays deltas should reset on
// it. Once an output item has been delivered a broken stream ends with a
// [*StreamError] whose OutputDelivered is true. An "error" event is retried
// the same way when it is transient (a rate limit or server error; the wait
// is taken from "try again in 1.5s" in its message when present); otherwise,
// or once output was delivered, it ends the stream with an [*APIError].
//
// A server that answers with a JSON response instead of a stream is
// tolerated: its output items are delivered as response.output_item.done
// events followed by the terminal event its status calls for. A reply that
// is neither (by its Content-Type, or by its first bytes when that says
// nothing) is a [*ContentTypeError], returned at once. Retries draw on the
// [RetryBudget] of ctx when it has one.
func (c *Client) Stream(ctx context.Context, req *Request) (*Stream, error) {
	body, err := c.encode(req, true)
	if err != nil {
		return nil, err
	}
	s := &Stream{c: c, ctx: ctx, body: body, budget: c.budget(ctx)}
	if t := ContextClientTrace(ctx); t != nil {
		s.trace = t.StreamEvent
	}
	if err := s.connect(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewStream returns a Stream that decodes the server-sent events read from
// r, for transports other than [Client]: a recorded stream replayed in a
// test, or the body another HTTP stack received. It has no retries: a
// stream that ends without its terminal event ends with a [*StreamError].
// Close closes r if it is an [io.Closer]. ctx bounds the reads.
func NewStream(ctx context.Context, r io.Reader) *Stream {
	rc, ok := r.(io.ReadCloser)
	if !ok {
		rc = io.NopCloser(r)
	}
	s := &Stream{ctx: ctx, resp: &http.Response{Body: rc}, dec: sse.NewDecoder(rc)}
	if t := ContextClientTrace(ctx); t != nil {
		s.trace = t.StreamEvent
	}
	return s
}

// Stream is the event stream of one create-response call. Read it with
// [Stream.Next] and [Stream.Event], or with [Stream.All]:
//
//	for s.Next() {
//		ev := s.Event()
//		...
//	}
//	if err := s.Err(); err != nil { ... }
//	resp := s.Response()
//
// A Stream is not safe for concurrent use; to abort it from another
// goroutine, cancel the context it was created with.
type Stream struct {
	c    *Client
	ctx  context.Context // the caller's; spans the reads and reconnections
	body payload         // the request, for reconnections

	budget    *RetryBudget
	trace     func(*Event) // ClientTrace.StreamEvent of ctx
	resp      *http.Response
	cancel    context.CancelCauseFunc // ends the current attempt
	idle      *time.Timer             // the current attempt's idle timer
	idled     *atomic.Bool            // set when that timer fires
	dec       *sse.Decoder
	requestID string
	pending   *StreamError // a broken attempt, to report on the next read

	skip map[string]bool // event types to pass over; see Skip

	ev        Event
	err       error
	done      bool
	delivered bool          // an output_item.done event has been delivered
	items     map[int]*Item // output_item.done items by output_index
	respID    string
	final     *Response
}

// connect sends the request, retrying as the client allows, and resets the
// per-attempt state. The attempt's context is cancelled, with cause
// ErrStreamIdle, when the body stays silent for the idle timeout.
func (s *Stream) connect() error {
	actx, cancel := context.WithCancelCause(s.ctx)
	resp, err := s.c.send(actx, s.body, true, s.budget)
	if err != nil {
		cancel(nil)
		return err
	}
	s.resp, s.cancel, s.idle, s.idled = resp, cancel, nil, nil
	s.requestID = resp.Header.Get("x-request-id")
	s.items, s.respID, s.pending = nil, "", nil
	var body io.Reader = resp.Body
	if d := s.c.opts.StreamIdleTimeout; d > 0 {
		idled := new(atomic.Bool)
		s.idle = time.AfterFunc(d, func() {
			idled.Store(true)
			cancel(ErrStreamIdle)
		})
		s.idled = idled
		body = &idleReader{r: resp.Body, t: s.idle, d: d}
	}
	kind := kindOf(resp.Header.Get("Content-Type"))
	if kind == kindUnknown {
		br := bufio.NewReader(body)
		if kind = sniffReader(br); kind == kindOther {
			head, _ := io.ReadAll(io.LimitReader(br, 8<<10))
			s.closeBody()
			return newContentTypeError(s.c.endpoint, resp, head)
		}
		body = br
	}
	if kind == kindJSON {
		// The server ignored "stream": true. Replay its response as events.
		events, err := s.replayJSON(body)
		var serr *StreamError
		if errors.As(err, &serr) {
			// Cut or silent: broken like a stream, and retried as one.
			s.pending, events = serr, nil
		} else if err != nil {
			s.closeBody()
			return err
		}
		s.releaseDecoder()
		s.dec = sse.NewDecoder(bytes.NewReader(events))
		return nil
	}
	s.releaseDecoder()
	s.dec = sse.NewDecoder(body)
	return nil
}

// releaseDecoder gives the decoder's buffer back, once it is done with.
func (s *Stream) releaseDecoder() {
	if s.dec != nil {
		s.dec.Release()
		s.dec = nil
	}
}

// replayJSON reads a non-streaming reply to a streaming request and returns
// it as an SSE stream: one response.output_item.done event per output item,
// then the terminal event its status calls for. A body holding only an
// error object is returned as an [*APIError], a body that breaks off as a
// [*StreamError].
func (s *Stream) replayJSON(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, s.readFailure(err)
	}
	var head struct {
		ID     json.RawMessage `json:"id"`
		Output json.RawMessage `json:"output"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("responses: decode response (request %s): %w: %s", s.requestID, err, snippet(data))
	}
	if head.ID == nil && head.Output == nil && head.Error != nil {
		return nil, parseAPIError(s.resp.StatusCode, s.requestID, data)
	}
	var r Response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("responses: decode response (request %s): %w: %s", s.requestID, err, snippet(data))
	}
	var b bytes.Buffer
	for i, it := range r.Output {
		fmt.Fprintf(&b, "data: {\"type\":%q,\"output_index\":%d,\"item\":%s}\n\n", EventOutputItemDone, i, compactJSON(it.Raw()))
	}
	typ := EventResponseCompleted
	switch r.Status {
	case StatusIncomplete:
		typ = EventResponseIncomplete
	case StatusFailed, StatusCancelled:
		typ = EventResponseFailed
	}
	fmt.Fprintf(&b, "data: {\"type\":%q,\"response\":%s}\n\n", typ, compactJSON(data))
	return b.Bytes(), nil
}

// compactJSON returns b on one line, as an SSE data field needs.
func compactJSON(b []byte) []byte {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return b
	}
	return out.Bytes()
}

// idleReader restarts the idle timer on every read that returns data.
type idleReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.t.Reset(r.d)
	}
	return n, err
}

// Next advances to the next event and reports whether there is one. It
// returns false at the end of the stream or on error; then [Stream.Err]
// tells which. The terminal event (response.completed, response.incomplete
// or response.failed) is delivered, and is the last one.
func (s *Stream) Next() bool {
	if s.done {
		return false
	}
	for {
		ev, err := s.read()
		if err == nil {
			s.ev = ev
			if s.trace != nil {
				s.trace(&s.ev)
			}
			return true
		}
		if ctxErr := s.ctx.Err(); ctxErr != nil {
			return s.fail(fmt.Errorf("responses: read stream: %w", ctxErr))
		}
		delay, retry := s.retryable(err)
		if !retry || s.c == nil || !s.c.wait(s.ctx, s.budget, delay, err) {
			if s.ctx.Err() != nil {
				return s.fail(fmt.Errorf("responses: read stream: %w", s.ctx.Err()))
			}
			return s.fail(err)
		}
		s.closeBody()
		if err := s.connect(); err != nil {
			return s.fail(err)
		}
	}
}

// retryable reports whether the error that ended an attempt may be retried
// transparently, and after how long: a broken stream, or an error event
// that says it is transient (rate limit, server error), as long as no
// output item has been delivered.
func (s *Stream) retryable(err error) (time.Duration, bool) {
	if s.delivered || s.c == nil {
		return 0, false
	}
	delay := s.c.backoff(s.budget.Used())
	var serr *StreamError
	if errors.As(err, &serr) {
		return delay, true
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode >= 200 && apiErr.StatusCode < 300 || !transientEvent(apiErr) {
		return 0, false // not an error event, or one of a JSON reply
	}
	if d := apiErr.RetryAfter; d > 0 {
		if d > s.c.opts.MaxRetryAfter {
			return 0, false
		}
		delay = d
	}
	return delay, true
}

// transientEvent reports whether an error event is worth a new attempt: its
// status is one the client retries, or its code is rate_limit_exceeded or
// server_error. insufficient_quota never is.
func transientEvent(e *APIError) bool {
	switch e.Code {
	case "insufficient_quota", "context_length_exceeded":
		return false
	case "rate_limit_exceeded", "server_error":
		return true
	}
	s := e.StatusCode
	return s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500
}

// tryAgainIn finds the wait a rate-limit message asks for, as in "Please
// try again in 1.5s." or "... try again in 300ms.".
func tryAgainIn(msg string) (time.Duration, bool) {
	const marker = "try again in "
	i := strings.Index(strings.ToLower(msg), marker)
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len(marker):]
	j := 0
	for j < len(rest) && (rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
		j++
	}
	v, err := strconv.ParseFloat(rest[:j], 64)
	if err != nil || v < 0 {
		return 0, false
	}
	switch unit := rest[j:]; {
	case strings.HasPrefix(unit, "ms"):
		return durationOf(v * float64(time.Millisecond)), true
	case strings.HasPrefix(unit, "s"):
		return durationOf(v * float64(time.Second)), true
	}
	return 0, false
}

// Skip makes the stream pass over events of the given types: they are not
// decoded nor delivered ([ClientTrace.StreamEvent] sees them with their
// Type and Raw only), and their JSON is not checked beyond the "type"
// member that opens it; an event
// whose first member is not its type is decoded as usual. It spares a
// consumer the cost of the events it ignores: a function call's 1 MiB of
// arguments arrives as tens of thousands of deltas, then whole in
// response.output_item.done. The events the stream itself acts on are
// never skipped: response.output_item.done, the terminal events and
// "error"; a skipped response.created still starts a new response (see
// [Client.Stream] on retries). Call it before the first [Stream.Next].
func (s *Stream) Skip(types ...string) {
	for _, t := range types {
		switch t {
		case EventOutputItemDone, EventError,
			EventResponseCompleted, EventResponseIncomplete, EventResponseFailed:
			continue
		}
		if s.skip == nil {
			s.skip = make(map[string]bool, len(types))
		}
		s.skip[t] = true
	}
}

// responseIDOf returns the "id" of the event's "response", read without
// decoding the rest.
func responseIDOf(data []byte) string {
	ev := newObjScan(data, false)
	for key, value, ok := ev.next(); ok; key, value, ok = ev.next() {
		if string(key) != "response" {
			continue
		}
		r := newObjScan(value, false)
		for k, v, ok := r.next(); ok; k, v, ok = r.next() {
			if string(k) == "id" {
				id, _ := stringValue(v)
				return id
			}
		}
		return ""
	}
	return ""
}

// leadingType returns the value of the "type" member when it is the first
// member of the event object and a string without escapes, as every
// server sends it.
func leadingType(data []byte) ([]byte, bool) {
	const head = `{"type":"`
	if !bytes.HasPrefix(data, []byte(head)) {
		return nil, false
	}
	rest := data[len(head):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return nil, false
	}
	return rest[:end], true
}

// read returns the next event to deliver. A broken stream is reported as a
// *StreamError; other errors end the stream.
func (s *Stream) read() (Event, error) {
	if err := s.pending; err != nil {
		s.pending = nil
		return Event{}, err
	}
	for {
		raw, err := s.dec.Next()
		if err != nil {
			return Event{}, s.readFailure(err)
		}
		data := bytes.TrimSpace(raw.Data)
		if len(data) == 0 {
			continue
		}
		if bytes.HasPrefix(data, []byte("[DONE]")) {
			return Event{}, s.broken(ErrStreamClosed)
		}
		if s.skip != nil {
			if typ, ok := leadingType(data); ok && s.skip[string(typ)] {
				if string(typ) == EventResponseCreated {
					// A new response (after a retry, the old items are void).
					s.items, s.respID = nil, responseIDOf(data)
				}
				if s.trace != nil {
					// A tracer still sees when it came (its type and JSON).
					s.trace(&Event{Type: string(typ), Raw: bytes.Clone(data)})
				}
				continue
			}
		}
		ev, isErr, err := decodeEvent(bytes.Clone(data))
		if err != nil {
			return Event{}, fmt.Errorf("responses: decode stream event %q: %w", strings.TrimSpace(raw.Name), err)
		}
		if isErr {
			return Event{}, parseErrorEvent(ev.Raw, s.requestID)
		}
		if ev.Response != nil && ev.Response.ID != "" {
			s.respID = ev.Response.ID
		}
		switch {
		case ev.Type == EventResponseCreated:
			s.items = nil // a new response; after a retry the old items are void
		case ev.Type == EventOutputItemDone && ev.Item != nil:
			if s.items == nil {
				s.items = make(map[int]*Item)
			}
			s.items[ev.OutputIndex] = ev.Item
			s.delivered = true
		case ev.IsTerminal():
			s.final = s.assemble(ev)
			s.done = true
			s.drainBody()
		}
		return ev, nil
	}
}

// readFailure describes the error that ended the reading of a body.
func (s *Stream) readFailure(err error) *StreamError {
	switch {
	case s.idled != nil && s.idled.Load() && s.ctx.Err() == nil:
		err = fmt.Errorf("%w: %w: no data for %v (set ClientOptions.StreamIdleTimeout to wait longer, or negative to wait without limit)",
			ErrStreamClosed, ErrStreamIdle, s.c.opts.StreamIdleTimeout)
	case errors.Is(err, io.EOF):
		err = ErrStreamClosed
	default:
		err = fmt.Errorf("%w: %w", ErrStreamClosed, err)
	}
	return s.broken(err)
}

func (s *Stream) broken(err error) *StreamError {
	return &StreamError{Err: err, OutputDelivered: s.delivered, ResponseID: s.respID, RequestID: s.requestID}
}

// assemble returns the final response of a terminal event: its response,
// with the output rebuilt from the output_item.done events when the event
// carries none.
func (s *Stream) assemble(ev Event) *Response {
	r := ev.Response
	if r == nil {
		r = &Response{ID: s.respID}
		switch ev.Type {
		case EventResponseCompleted:
			r.Status = StatusCompleted
		case EventResponseIncomplete:
			r.Status = StatusIncomplete
		case EventResponseFailed:
			r.Status = StatusFailed
		}
	}
	if len(r.Output) == 0 && len(s.items) > 0 {
		idx := make([]int, 0, len(s.items))
		for i := range s.items {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		r.Output = make([]Item, 0, len(idx))
		for _, i := range idx {
			r.Output = append(r.Output, *s.items[i])
		}
	}
	return r
}

func (s *Stream) fail(err error) bool {
	s.err = err
	s.done = true
	s.ev = Event{}
	s.closeBody()
	return false
}

// drainWait bounds the wait for the end of a body after its terminal
// event.
const drainWait = 100 * time.Millisecond

// drainBody reads what follows the terminal event (the end of the chunked
// body, a "data: [DONE]" line) and closes the body. A body closed before
// its end takes its connection with it, and the next request would dial
// (and, over TLS, shake hands) again. A server that keeps the stream open
// after its terminal event is cut off after drainWait or 64 KiB.
func (s *Stream) drainBody() {
	if s.c == nil || s.resp == nil || s.cancel == nil {
		s.closeBody()
		return
	}
	cancel := s.cancel
	t := time.AfterFunc(drainWait, func() { cancel(nil) })
	_, _ = io.CopyN(io.Discard, s.resp.Body, 64<<10)
	t.Stop()
	s.closeBody()
}

func (s *Stream) closeBody() {
	if s.idle != nil {
		s.idle.Stop()
	}
	if s.resp != nil {
		s.resp.Body.Close()
	}
	if s.cancel != nil {
		s.cancel(nil)
	}
}

// Event returns the event [Stream.Next] advanced to.
func (s *Stream) Event() Event { return s.ev }

// Err returns the error that ended the stream, or nil if it ended with a
// terminal event (or has not ended). It is an [*APIError] for an "error"
// event, a [*StreamError] for a broken stream, and wraps the context's error
// when the context ended.
func (s *Stream) Err() error { return s.err }

// Response returns the final response once the stream has ended with a
// terminal event, and nil before that or after an error. Its Output comes
// from the terminal event or, when that has none, from the
// response.output_item.done events in output_index order. A failed or
// incomplete response is returned too: check its Status.
func (s *Stream) Response() *Response {
	if s.err != nil {
		return nil
	}
	return s.final
}

// All returns an iterator over the remaining events. A final pair with a
// non-nil error is yielded if the stream ends with one. All closes the
// stream when the loop ends.
func (s *Stream) All() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		defer s.Close()
		for s.Next() {
			if !yield(s.Event(), nil) {
				return
			}
		}
		if s.err != nil {
			yield(Event{}, s.err)
		}
	}
}

// Close releases the connection. It is safe to call more than once, and
// after the stream has ended. Calling Close before the end abandons the
// rest of the stream; Next then returns false with a nil Err.
func (s *Stream) Close() error {
	if !s.done {
		s.done = true
		s.ev = Event{}
	}
	s.closeBody()
	s.releaseDecoder()
	return nil
}
