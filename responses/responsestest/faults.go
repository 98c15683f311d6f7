package responsestest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// A Fault is a failure injected in place of a reply; see [Reply.Faults].
// Build one with the functions below. The zero Fault is a 500 server error.
type Fault struct {
	kind   faultKind
	status int
	err    apiError
	header http.Header

	cutEvents int // cutAfterEvents
	cutIndex  int // cutBeforeItemDone, cutAfterItemDone
}

type faultKind int

const (
	faultHTTP faultKind = iota
	faultCutAfterEvents
	faultCutBeforeItemDone
	faultCutAfterItemDone
	faultFailed
	faultErrorEvent
	faultHang
)

// String describes the fault, as recorded in [Request.Fault].
func (f Fault) String() string {
	switch f.kind {
	case faultCutAfterEvents:
		return fmt.Sprintf("cut after %d events", f.cutEvents)
	case faultCutBeforeItemDone:
		return fmt.Sprintf("cut before output item %d done", f.cutIndex)
	case faultCutAfterItemDone:
		return fmt.Sprintf("cut after output item %d done", f.cutIndex)
	case faultFailed:
		return "response.failed " + f.err.Code
	case faultErrorEvent:
		return "error event " + f.err.Code
	case faultHang:
		return "hang"
	}
	status := f.status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if f.err.Code != "" {
		return fmt.Sprintf("HTTP %d %s", status, f.err.Code)
	}
	return fmt.Sprintf("HTTP %d", status)
}

// WithHeader returns f with a response header added, for example
// "x-should-retry". It applies to the HTTP reply of any fault.
func (f Fault) WithHeader(key, value string) Fault {
	h := f.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Add(key, value)
	f.header = h
	return f
}

// HTTPError answers with status and the API's error body
// {"error":{"message","type","param","code"}}; an empty code or param is
// sent as null.
func HTTPError(status int, errType, code, message string) Fault {
	return Fault{kind: faultHTTP, status: status, err: apiError{Message: message, Type: errType, Code: code}}
}

// RateLimited answers 429 rate_limit_exceeded. A positive retryAfter is sent
// as retry-after-ms (milliseconds) and retry-after (whole seconds, rounded
// up), as the real API does.
func RateLimited(retryAfter time.Duration) Fault {
	f := HTTPError(http.StatusTooManyRequests, "requests", "rate_limit_exceeded",
		"Rate limit reached for requests. Please try again later.")
	if retryAfter > 0 {
		f = f.WithHeader("retry-after-ms", strconv.FormatInt(retryAfter.Milliseconds(), 10))
		f = f.WithHeader("retry-after", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	return f
}

// InsufficientQuota answers 429 with type and code insufficient_quota: a
// 429 that must not be retried.
func InsufficientQuota() Fault {
	return HTTPError(http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota",
		"You exceeded your current quota, please check your plan and billing details.")
}

// ServerError answers status (500, 502, 503, ...) with type server_error.
func ServerError(status int) Fault {
	return HTTPError(status, "server_error", "",
		"The server had an error while processing your request. Sorry about that!")
}

// Unauthorized answers 401 invalid_api_key.
func Unauthorized() Fault {
	return HTTPError(http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
		"Incorrect API key provided.")
}

// CutAfterEvents serves the turn's reply but closes the connection after n
// stream events, before the terminal event. A non-streaming request gets
// half of the JSON body before the connection is closed.
func CutAfterEvents(n int) Fault { return Fault{kind: faultCutAfterEvents, cutEvents: n} }

// CutBeforeItemDone serves the turn's reply but closes the connection just
// before the response.output_item.done event of output item index (so the
// client has seen the item only partially). An index past the output cuts
// before the terminal event.
func CutBeforeItemDone(index int) Fault { return Fault{kind: faultCutBeforeItemDone, cutIndex: index} }

// CutAfterItemDone serves the turn's reply but closes the connection just
// after the response.output_item.done event of output item index.
func CutAfterItemDone(index int) Fault { return Fault{kind: faultCutAfterItemDone, cutIndex: index} }

// FailedResponse answers with a response whose status is failed and whose
// error has code and message: streamed as response.created,
// response.in_progress, response.failed; otherwise a 200 JSON response.
func FailedResponse(code, message string) Fault {
	return Fault{kind: faultFailed, err: apiError{Code: code, Message: message}}
}

// ErrorEvent streams response.created and response.in_progress, then an
// error event with code and message, then ends the stream. A non-streaming
// request gets HTTP 500 with that code and message.
func ErrorEvent(code, message string) Fault {
	return Fault{kind: faultErrorEvent, err: apiError{Type: "server_error", Code: code, Message: message}}
}

// Hang never answers: the request blocks until the client gives up or the
// server is closed. Use it to test per-attempt timeouts.
func Hang() Fault { return Fault{kind: faultHang} }
