package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrStreamClosed is wrapped by the [StreamError] of a stream that ended
// without a terminal event (response.completed, response.incomplete or
// response.failed).
var ErrStreamClosed = errors.New("stream closed before response.completed")

// APIError is an error reported by the server: a non-2xx reply, whose body
// is {"error": {...}}, or an "error" event inside a stream (then StatusCode
// is the event's status, or 0 when it has none).
//
// Branch on StatusCode and Code; Type and Code are open strings. A body that
// is not the documented JSON still yields an APIError whose Message holds the
// start of the body.
type APIError struct {
	StatusCode int    // HTTP status; 0 for a stream error event without one
	Type       string // e.g. "invalid_request_error"
	Code       string // e.g. "rate_limit_exceeded", "insufficient_quota"
	Param      string // the offending request parameter, if any
	Message    string
	RequestID  string // the x-request-id header of the reply
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
	e.Message = snippet(body)
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
