package responsestest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// Server is a Responses API server on 127.0.0.1 that plays a script of
// turns. Its methods are safe for concurrent use; Close may be called more
// than once.
type Server struct {
	// URL is the base URL, with no trailing slash: clients post to
	// URL+"/responses" (OpenAI style; "/v1/responses" is served too) or
	// URL+"/v5/responses" (Scale GenAI Platform style).
	URL string

	hs        *httptest.Server
	done      chan struct{} // closed by Close: ends delays and hangs
	closeOnce sync.Once

	script []Turn
	turnMu sync.Mutex // serialises the choice of a scripted turn

	mu       sync.Mutex
	head     int // index of the next scripted turn
	attempts int // faults already served for script[head]
	nresp    int // responses created
	stored   map[string]*stored
	convs    map[string][]responses.Item // conversation id -> items (conversation.go)
	known    map[string]bool             // conversation ids created
	items    map[string]itemInfo         // output items served, by id
	nreq     int                         // requests received
	requests []Request
	discard  bool // DiscardRequests was called
	errs     []error
	rules    map[Rule]bool // the request checks enforced (params.go)
	nconv    int           // conversations created (conversation.go)
}

// stored is a response kept for chaining and retrieval.
type stored struct {
	prev          string
	input, output []responses.Item
	contextTokens int64 // tokens of the whole conversation up to and including this response
	object        json.RawMessage
	events        []event           // the response's stream, replayed by a streamed retrieval
	background    bool              // created with background: true
	pending       [][]byte          // background: what the next retrievals answer before object
	cancelled     bool              // background: cancelled before it completed
	inputItems    []json.RawMessage // the input as GET /responses/{id}/input_items lists it
}

// NewServer starts a server that answers the n-th create request with the
// n-th turn of script (faults aside; see [Reply]). A request beyond the end
// of the script gets HTTP 500 and is reported by [Server.Err]. Call Close
// when done. NewServer panics if a turn is nil or a [Model] is not the last
// turn.
func NewServer(script ...Turn) *Server {
	for i, t := range script {
		if t == nil {
			panic(fmt.Sprintf("responsestest: turn %d is nil", i+1))
		}
		if _, ok := t.(Model); ok && i != len(script)-1 {
			panic(fmt.Sprintf("responsestest: a Model must be the last turn, but turn %d of %d is one", i+1, len(script)))
		}
	}
	s := &Server{
		script: slices.Clone(script),
		done:   make(chan struct{}),
		stored: map[string]*stored{},
		items:  map[string]itemInfo{},
		rules:  map[Rule]bool{},
		convs:  map[string][]responses.Item{},
		known:  map[string]bool{},
	}
	for _, r := range defaultRules {
		s.rules[r] = true
	}
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/v1", "/v5"} {
		mux.HandleFunc("POST "+prefix+"/responses", s.create)
		mux.HandleFunc("GET "+prefix+"/responses/{id}", s.retrieve)
	}
	for _, prefix := range []string{"", "/v1"} {
		mux.HandleFunc("DELETE "+prefix+"/responses/{id}", s.deleteResponse)          // endpoints.go
		mux.HandleFunc("POST "+prefix+"/responses/{id}/cancel", s.cancel)             // endpoints.go
		mux.HandleFunc("GET "+prefix+"/responses/{id}/input_items", s.listInputItems) // endpoints.go
		mux.HandleFunc("POST "+prefix+"/conversations", s.createConversation)         // conversation.go
	}
	for _, prefix := range []string{"", "/v1"} {
		mux.HandleFunc("POST "+prefix+"/responses/compact", s.compact) // compact.go
	}
	mux.HandleFunc("/", s.notFound)
	s.hs = httptest.NewServer(mux)
	s.URL = s.hs.URL
	return s
}

// New is [NewServer] for a test: the server is closed when the test ends,
// and then every error of [Server.Err] fails the test.
func New(t testing.TB, script ...Turn) *Server {
	t.Helper()
	s := NewServer(script...)
	t.Cleanup(func() {
		s.Close()
		if err := s.Err(); err != nil {
			t.Errorf("responsestest: %v", err)
		}
	})
	return s
}

// Close ends pending delays and hung requests, closes every connection and
// shuts the server down. It waits for the handlers to return, which they do
// promptly.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.hs.CloseClientConnections()
		s.hs.Close()
	})
}

// Requests returns the requests received so far, in arrival order. The
// caller must not modify the headers, bodies or items they share with the
// server.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Err returns the script mismatches seen so far, joined: requests beyond the
// end of the script, bodies that are not valid JSON, and panics of a
// [TurnFunc] or [Model]. The 400s the server answers because a request
// breaks the API's rules (an unknown previous_response_id, an unanswered
// call, ...) are API behaviour, not mismatches; they are not reported here.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Remaining returns how many scripted turns have not been played. A final
// [Model] counts as one until it is reached and then stays at one.
func (s *Server) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.script) - s.head
}

func (s *Server) addErr(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// record appends a request and returns its number (1-based).
func (s *Server) record(r *http.Request, body []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nreq++
	if !s.discard {
		s.requests = append(s.requests, Request{
			N:      s.nreq,
			Method: r.Method,
			Path:   r.URL.Path,
			Header: r.Header.Clone(),
			Body:   body,
		})
	}
	return s.nreq
}

// update changes the record of request n, if it is kept.
func (s *Server) update(n int, f func(*Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := n - 1 - (s.nreq - len(s.requests)); !s.discard && i >= 0 && i < len(s.requests) {
		f(&s.requests[i])
	}
}

// DiscardRequests makes the server stop recording requests and drop those
// it has recorded: [Server.Requests] returns nil from then on. A long
// benchmark calls it so that the heap does not grow with every request;
// the responses themselves are still stored for chaining.
func (s *Server) DiscardRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = true
	s.requests = nil
}

// readRequest records a request and decodes its body, which it returns. check, if not nil, validates the raw body first, as the API does
// before anything else. When the body cannot be read, fails the check or
// cannot be decoded, it answers 400 and reports ok false.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, what string, check func([]byte) *apiError) (n int, params responses.Request, body []byte, ok bool) {
	body, readErr := readBody(r)
	if readErr != nil {
		body = nil
	}
	n = s.record(r, body)
	w.Header().Set("x-request-id", "req_"+strconv.Itoa(n))
	if readErr != nil {
		s.writeError(w, n, http.StatusBadRequest, invalidRequest("Could not read the request body.", "", ""), nil)
		return n, params, nil, false
	}
	if check != nil {
		if e := check(body); e != nil {
			_ = json.Unmarshal(body, &params) // recorded when it decodes
			s.update(n, func(rec *Request) { rec.Params = params })
			s.writeError(w, n, http.StatusBadRequest, *e, nil)
			return n, params, nil, false
		}
	}
	if err := json.Unmarshal(body, &params); err != nil {
		s.addErr(fmt.Errorf("request %d (%s %s): body is not a valid %s: %v", n, r.Method, r.URL.Path, what, err))
		s.writeError(w, n, http.StatusBadRequest, invalidRequest(
			"We could not parse the JSON body of your request: "+err.Error(), "", ""), nil)
		return n, params, nil, false
	}
	s.update(n, func(rec *Request) { rec.Params = params })
	return n, params, body, true
}

// readBody reads a request's body, at most 64 MiB.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 64<<20))
}

// create serves POST /responses.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	n, params, body, ok := s.readRequest(w, r, "request", s.checkParams)
	if !ok {
		return
	}

	prev, apiErr := s.validate(&params)
	if apiErr != nil {
		status := http.StatusBadRequest
		if apiErr.status != 0 {
			status = apiErr.status
		}
		s.writeError(w, n, status, *apiErr, nil)
		return
	}

	reply, fault, idx, err := s.pick(n, r, &params)
	if err != nil {
		s.addErr(err)
		s.writeError(w, n, http.StatusInternalServerError, apiError{
			Message: "responsestest: " + err.Error(), Type: "server_error"}, nil)
		return
	}
	if fault != nil {
		s.update(n, func(rec *Request) { rec.Fault = fault.String() })
		s.serveFault(w, r, n, body, &params, prev, reply, *fault) // a fault never uses up the turn
		return
	}
	if reply.Delay > 0 && !s.wait(r.Context(), reply.Delay) {
		s.requeue(idx, len(reply.Faults))
		panic(http.ErrAbortHandler) // close the connection: no reply
	}
	resp := s.respond(body, &params, prev, reply, nil)
	s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, resp.id })
	if !s.write(w, r, resp, -1, reply.EventDelay) {
		s.requeue(idx, len(reply.Faults))
		panic(http.ErrAbortHandler) // the client left, or Close: the stream must not look complete
	}
}

// pick chooses the turn for request n and returns its reply and the fault to
// serve instead, if any. idx is the script index of a scripted turn, or -1
// for a Model.
func (s *Server) pick(n int, r *http.Request, req *responses.Request) (reply Reply, fault *Fault, idx int, err error) {
	s.turnMu.Lock()
	s.mu.Lock()
	idx, attempts := s.head, s.attempts
	s.mu.Unlock()
	if idx >= len(s.script) {
		s.turnMu.Unlock()
		return Reply{}, nil, idx, fmt.Errorf("request %d (%s %s) has no scripted turn: the script has %d turns",
			n, r.Method, r.URL.Path, len(s.script))
	}
	turn := s.script[idx]
	if m, ok := turn.(Model); ok {
		s.turnMu.Unlock() // a Model is shared: requests call it concurrently
		reply, err = call(m, n, req)
		if err == nil && len(reply.Faults) > 0 {
			fault = &reply.Faults[0]
		}
		return reply, fault, -1, err
	}
	defer s.turnMu.Unlock()
	if reply, err = call(turn, n, req); err != nil {
		return Reply{}, nil, idx, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if attempts < len(reply.Faults) {
		fault = &reply.Faults[attempts]
		s.attempts++
	} else {
		s.head++
		s.attempts = 0
	}
	return reply, fault, idx, nil
}

// call runs a turn and turns a panic into an error.
func call(t Turn, n int, req *responses.Request) (reply Reply, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("request %d: turn panicked: %v", n, p)
		}
	}()
	reply = t.reply(req)
	for i, it := range reply.Output {
		if it.IsZero() {
			return Reply{}, fmt.Errorf("request %d: output item %d of the turn's reply is the zero Item", n, i)
		}
	}
	return reply, nil
}

// requeue gives script[idx] back when the client went away before its reply
// was delivered, so a retry gets the same turn. faults is how many of the
// turn's faults are already spent.
func (s *Server) requeue(idx, faults int) {
	if idx < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head == idx+1 && s.attempts == 0 {
		s.head, s.attempts = idx, faults
	}
}

// wait waits for d and reports whether it elapsed before the client left or
// the server closed.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// serveFault serves f.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, n int, body []byte, req *responses.Request, prev *stored, reply Reply, f Fault) {
	switch f.kind {
	case faultHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		panic(http.ErrAbortHandler)
	case faultFailed:
		reply = Reply{Status: responses.StatusFailed, Error: &responses.ResponseError{Code: f.err.Code, Message: f.err.Message}}
		resp := s.respond(body, req, prev, reply, nil)
		s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, resp.id })
		s.write(w, r, resp, -1, 0)
	case faultErrorEvent:
		if !req.Stream {
			s.writeError(w, n, http.StatusInternalServerError, f.err, f.header)
			return
		}
		resp := s.respond(body, req, prev, Reply{}, &f.err)
		s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, resp.id })
		s.write(w, r, resp, -1, 0)
	case faultCutAfterEvents, faultCutBeforeItemDone, faultCutAfterItemDone:
		resp := s.respond(body, req, prev, reply, nil)
		s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, resp.id })
		upto := len(resp.events) - 1 // never the terminal event
		switch {
		case !resp.stream:
			upto = 0 // half the body
		case f.kind == faultCutAfterEvents:
			upto = min(upto, max(f.cutEvents, 0))
		default:
			for i, ev := range resp.events {
				if ev.doneIndex == f.cutIndex {
					upto = i
					if f.kind == faultCutAfterItemDone {
						upto++
					}
					break
				}
			}
		}
		for k, v := range f.header {
			w.Header()[k] = v
		}
		s.write(w, r, resp, upto, reply.EventDelay)
	default:
		status := f.status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		s.writeError(w, n, status, f.err, f.header)
	}
}

// write sends resp as JSON or, for a streaming request, as server-sent
// events. A cut >= 0 closes the connection abruptly after that many events
// (or, without streaming, after half of the body). It reports whether the
// reply was delivered in full.
func (s *Server) write(w http.ResponseWriter, r *http.Request, resp *response, cut int, eventDelay time.Duration) bool {
	if !resp.stream {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(resp.object)))
		w.WriteHeader(http.StatusOK)
		if cut < 0 {
			_, err := w.Write(resp.object)
			return err == nil
		}
		_, _ = w.Write(resp.object[:len(resp.object)/2])
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	events := resp.events
	if cut >= 0 {
		events = events[:cut]
	}
	for i, ev := range events {
		if i > 0 && eventDelay > 0 && !s.wait(r.Context(), eventDelay) {
			return false
		}
		if _, err := w.Write(ev.data); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
	}
	if cut >= 0 {
		_ = rc.Flush()
		panic(http.ErrAbortHandler) // closes the connection without a terminal event
	}
	return true // delivered, even if the client hangs up right after the last event
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	n := s.record(r, nil)
	w.Header().Set("x-request-id", "req_"+strconv.Itoa(n))
	s.writeError(w, n, http.StatusNotFound, invalidRequest(
		fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "", ""), nil)
}

// apiError is the error object of the API's error body.
type apiError struct {
	Message string
	Type    string
	Param   string
	Code    string

	status int // the HTTP status when not 400
}

func (e apiError) MarshalJSON() ([]byte, error) {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return object("message", e.Message, "type", e.Type, "param", null(e.Param), "code", null(e.Code)), nil
}

func invalidRequest(message, param, code string) apiError {
	return apiError{Message: message, Type: "invalid_request_error", Param: param, Code: code}
}

func (s *Server) writeError(w http.ResponseWriter, n, status int, e apiError, header http.Header) {
	s.update(n, func(rec *Request) { rec.StatusCode = status })
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := object("error", e)
	_, _ = w.Write(append(b, '\n'))
}

// Request is one request the server received.
type Request struct {
	N      int         // 1-based, in arrival order
	Method string      // "POST" for a create
	Path   string      // "/responses", "/v1/responses" or "/v5/responses" for a create
	Header http.Header // as received
	Body   []byte      // the raw body

	// Params is the decoded body of a create request; zero when the body
	// could not be decoded.
	Params responses.Request

	StatusCode int    // the HTTP status answered; 0 while in flight or when the client left first
	ResponseID string // the id of the response served, if any
	Fault      string // the injected fault, as [Fault.String] says, if any
}

// APIKey returns the key the request carried: the Bearer token of the
// Authorization header (OpenAI) or else the x-api-key header (Scale GenAI
// Platform).
func (r Request) APIKey() string {
	if a := r.Header.Get("Authorization"); a != "" {
		if k, ok := strings.CutPrefix(a, "Bearer "); ok {
			return k
		}
		return a
	}
	return r.Header.Get("x-api-key")
}

// Input returns the input items; a string input is returned as one user
// message.
func (r Request) Input() []responses.Item {
	if r.Params.Input.Items == nil && r.Params.Input.Text != "" {
		return []responses.Item{responses.UserMessage(r.Params.Input.Text)}
	}
	return r.Params.Input.Items
}

// InputText returns a string input, or else the concatenated text of the
// input's messages.
func (r Request) InputText() string {
	if r.Params.Input.Items == nil {
		return r.Params.Input.Text
	}
	var b strings.Builder
	for _, it := range r.Params.Input.Items {
		b.WriteString(it.Text())
	}
	return b.String()
}

// Outputs returns the input items that answer a call (function_call_output,
// shell_call_output, mcp_approval_response, ...), in order.
func (r Request) Outputs() []responses.Item {
	var out []responses.Item
	for _, it := range r.Params.Input.Items {
		if it.IsOutput() {
			out = append(out, it)
		}
	}
	return out
}

// Output returns the input item that answers the call (or MCP approval
// request) with key callID.
func (r Request) Output(callID string) (responses.Item, bool) {
	for _, it := range r.Params.Input.Items {
		if it.IsOutput() && slices.Contains(outputKeys(it), callID) {
			return it, true
		}
	}
	return responses.Item{}, false
}

// InputTypes returns the type of each input item, in order ("message" for
// a string input), for asserting the shape of a request at a glance.
func (r Request) InputTypes() []string {
	var types []string
	for _, it := range r.Input() {
		types = append(types, it.Type)
	}
	return types
}
