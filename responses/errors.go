package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrStreamClosed is wrapped by the [StreamError] of a stream that ended
// without a terminal event (response.completed, response.incomplete or
// response.failed).
var ErrStreamClosed = errors.New("stream closed before response.completed")

// ErrStreamIdle is wrapped, with [ErrStreamClosed], by the [StreamError] of
// a stream that sent nothing for [ClientOptions.StreamIdleTimeout].
var ErrStreamIdle = errors.New("stream idle")

// APIError is an error reported by the server: a non-2xx reply, whose body
// is {"error": {...}}, or an "error" event inside a stream (then StatusCode
// is the event's status, or 0 when it has none).
//
// Branch on StatusCode and Code; Type and Code are open strings. A body that
// is not the documented JSON still yields an APIError whose Message holds the
// first line of the body (for an HTML page, its title).
type APIError struct {
	StatusCode int    // HTTP status; 0 for a stream error event without one
	Type       string // e.g. "invalid_request_error"
	Code       string // e.g. "rate_limit_exceeded", "insufficient_quota"
	Param      string // the offending request parameter, if any
	Message    string
	RequestID  string // the x-request-id header of the reply

	// RetryAfter is the wait the server asked for before a new attempt:
	// the reply's retry-after-ms or retry-after header, or for a stream
	// error event the "try again in 1.5s" of its message. Zero when it
	// asked for none. A caller that retries by itself (a workflow engine,
	// with the client's own retries off) uses it as its next delay.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("responses: ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	} else {
		b.WriteString("stream error")
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	} else if e.Type != "" {
		b.WriteString(": " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Param != "" {
		b.WriteString(" (param " + e.Param + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// StreamError reports a stream that broke (the connection failed or closed)
// before its terminal event. The client retries a broken stream by itself
// only while none of its output items has been delivered; once one has,
// OutputDelivered is true and the caller decides, since the consumer may
// already have acted on the item.
type StreamError struct {
	Err             error  // ErrStreamClosed, or the read error
	OutputDelivered bool   // a response.output_item.done event was delivered
	ResponseID      string // the id of the broken response, if known
	RequestID       string // the x-request-id header of the reply
}

func (e *StreamError) Error() string {
	s := "responses: " + e.Err.Error()
	if e.ResponseID != "" {
		s += " (response " + e.ResponseID + ")"
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

func (e *StreamError) Unwrap() error { return e.Err }

// ContentTypeError reports a 2xx reply whose body is neither JSON nor an
// event stream, judged by its Content-Type (the media type only; charset
// and other parameters do not matter): typically a proxy's login page or a
// base URL that points at a web site instead of the API. It is not retried.
type ContentTypeError struct {
	URL         string // the endpoint posted to
	StatusCode  int
	ContentType string // the reply's Content-Type header
	Body        string // the first line of the body (an HTML page's title), trimmed and cut at 200 bytes
	RequestID   string // the x-request-id header of the reply, if any
}

func (e *ContentTypeError) Error() string {
	s := fmt.Sprintf("responses: post %s: %d %s answered with Content-Type %q, not JSON or an event stream; check the base URL and any proxy in between",
		e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.ContentType)
	if e.Body != "" {
		s += fmt.Sprintf(" (body: %q)", e.Body)
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// errorFields is the error object of an error body or error event. Code and
// Param may be null or, on some servers, numbers.
type errorFields struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   json.RawMessage `json:"param"`
	Code    json.RawMessage `json:"code"`
}

func (f *errorFields) apply(e *APIError) {
	e.Message, e.Type = f.Message, f.Type
	e.Code, e.Param = looseString(f.Code), looseString(f.Param)
}

// looseString returns a JSON string's value, a number's text, or "".
func looseString(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return ""
	}
	if b[0] == '"' {
		if v, next, simple := scanString(b, 0); simple && next == len(b) {
			return string(v)
		}
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	if b[0] == '{' || b[0] == '[' {
		return ""
	}
	return string(b)
}

// parseAPIError builds the error of a non-2xx reply from its body.
func parseAPIError(status int, requestID string, body []byte) *APIError {
	e := &APIError{StatusCode: status, RequestID: requestID}
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Error) > 0 {
		var f errorFields
		if json.Unmarshal(env.Error, &f) == nil {
			f.apply(e)
		} else if s := looseString(env.Error); s != "" {
			e.Message = s // {"error": "text"}
		}
		if e.Message != "" || e.Code != "" || e.Type != "" {
			return e
		}
	}
	if json.Valid(body) {
		e.Message = snippet(body)
	} else {
		e.Message = firstLine(body)
	}
	return e
}

// parseErrorEvent decodes an "error" stream event, flat
// ({"type":"error","code","message","param"}) or nested
// ({"type":"error","error":{...},"status":429}).
func parseErrorEvent(data []byte, requestID string) *APIError {
	e := &APIError{RequestID: requestID}
	var ev struct {
		errorFields
		Status int             `json:"status"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		e.Message = snippet(data)
		return e
	}
	e.StatusCode = ev.Status
	ev.errorFields.apply(e)
	e.Type = "" // the flat form's "type" is the event's type, "error"
	var nested errorFields
	if len(ev.Error) > 0 && json.Unmarshal(ev.Error, &nested) == nil {
		nested.apply(e)
	}
	if e.Message == "" && e.Code == "" {
		e.Message = snippet(data)
	}
	if d, ok := tryAgainIn(e.Message); ok {
		e.RetryAfter = d
	}
	return e
}

// snippet returns the start of a body for an error message.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	const max = 512
	if len(b) > max {
		return strings.ToValidUTF8(string(b[:max]), "") + "…"
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// firstLine returns what best names a body that is not JSON: an HTML
// page's title, else its first line that is not blank; trimmed, and cut at
// 200 bytes.
func firstLine(b []byte) string {
	if t, ok := htmlTitle(b); ok {
		b = t
	} else {
		for len(b) > 0 {
			var line []byte
			line, b, _ = bytes.Cut(b, []byte("\n"))
			if line = bytes.TrimSpace(line); len(line) > 0 {
				b = line
				break
			}
		}
	}
	b = bytes.Join(bytes.Fields(b), []byte(" "))
	const max = 200
	if len(b) > max {
		return strings.ToValidUTF8(string(b[:max]), "") + "…"
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// htmlTitle returns the text of the first <title> element of b, if any.
func htmlTitle(b []byte) ([]byte, bool) {
	lower := bytes.ToLower(b)
	i := bytes.Index(lower, []byte("<title"))
	if i < 0 {
		return nil, false
	}
	j := bytes.IndexByte(lower[i:], '>')
	if j < 0 {
		return nil, false
	}
	start := i + j + 1
	end := bytes.Index(lower[start:], []byte("</title"))
	if end < 0 {
		return nil, false
	}
	t := bytes.TrimSpace(b[start : start+end])
	return t, len(t) > 0
}
