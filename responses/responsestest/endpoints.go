package responsestest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/agentloop/agentloop/responses"
)

// The endpoints besides create, as the API reference describes them
// (openai-go v3.102.0: ResponseService.Get, GetStreaming, Delete, Cancel,
// InputItemService.List).

// lookup records a request for the response {id} and returns it with the
// request's body (if any), or answers 404 as the API does for an unknown or
// deleted id.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (n int, id string, st *stored, body []byte) {
	body, _ = readBody(r)
	n = s.record(r, body)
	w.Header().Set("x-request-id", "req_"+strconv.Itoa(n))
	id = r.PathValue("id")
	s.mu.Lock()
	st = s.stored[id]
	s.mu.Unlock()
	if st == nil {
		s.writeError(w, n, http.StatusNotFound, invalidRequest(
			fmt.Sprintf("Response with id '%s' not found.", id), "", ""), nil)
	}
	return n, id, st, body
}

// retrieve serves GET /responses/{id}: the response object, or with
// stream=true (in the query, or in a JSON body as openai-go's GetStreaming
// sends it) its events (those after ?starting_after=N). A background
// response is queued when created and each retrieval moves it on: the first
// answers in_progress, the next the final response, so a client that polls
// until the status is terminal sees every state.
func (s *Server) retrieve(w http.ResponseWriter, r *http.Request) {
	n, id, st, body := s.lookup(w, r)
	if st == nil {
		return
	}
	q := r.URL.Query()
	var b struct {
		Stream bool `json:"stream"`
	}
	_ = json.Unmarshal(body, &b)
	s.mu.Lock()
	obj := st.object
	stream := q.Get("stream") == "true" || b.Stream
	if len(st.pending) > 1 && !stream {
		st.pending = st.pending[1:]
		obj = st.pending[0]
	} else {
		st.pending = nil
	}
	events := st.events
	s.mu.Unlock()
	s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, id })
	if !stream {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(obj)
		return
	}
	after := -1
	if v := q.Get("starting_after"); v != "" {
		a, err := strconv.Atoi(v)
		if err != nil || a < 0 {
			s.writeError(w, n, http.StatusBadRequest, invalidRequest(
				fmt.Sprintf("Invalid 'starting_after': '%s'. Expected a non-negative integer.", v), "starting_after", "invalid_value"), nil)
			return
		}
		after = a
	}
	if after+1 < len(events) {
		events = events[after+1:]
	} else {
		events = nil
	}
	_ = s.write(w, r, &response{id: id, stream: true, events: events}, -1, 0)
}

// deleteResponse serves DELETE /responses/{id}: the response is forgotten,
// so retrieving it or chaining to it is then a not-found error. The body
// is {"id","object":"response","deleted":true}.
func (s *Server) deleteResponse(w http.ResponseWriter, r *http.Request) {
	n, id, st, _ := s.lookup(w, r)
	if st == nil {
		return
	}
	s.mu.Lock()
	delete(s.stored, id)
	s.mu.Unlock()
	s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, id })
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(object("id", id, "object", "response", "deleted", true))
}

// cancel serves POST /responses/{id}/cancel. Only a background response can
// be cancelled (API reference: "Only responses created with the background
// parameter set to true can be cancelled"); one still queued or in progress
// becomes cancelled, with no output, and stays so; cancelling one that
// already finished answers it unchanged.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	n, id, st, _ := s.lookup(w, r)
	if st == nil {
		return
	}
	if !st.background {
		s.writeError(w, n, http.StatusBadRequest, invalidRequest("Cannot cancel a synchronous response.", "", ""), nil)
		return
	}
	s.mu.Lock()
	if len(st.pending) > 0 || st.cancelled {
		if !st.cancelled {
			var obj map[string]json.RawMessage
			_ = json.Unmarshal(st.pending[0], &obj)
			obj["status"] = json.RawMessage(`"cancelled"`)
			obj["output"] = json.RawMessage(`[]`)
			st.object = mustJSON(obj)
			st.output = nil
			st.pending = nil
			st.cancelled = true
		}
	}
	obj := st.object
	s.mu.Unlock()
	s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, id })
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(obj)
}

// listInputItems serves GET /responses/{id}/input_items: the items of the
// response's input, each with an id, as a cursor page
// {"object":"list","data","first_id","last_id","has_more"}. Query: limit
// (1 to 100, default 20), order ("desc", the default, or "asc") and after
// (an item id).
func (s *Server) listInputItems(w http.ResponseWriter, r *http.Request) {
	n, id, st, _ := s.lookup(w, r)
	if st == nil {
		return
	}
	q := r.URL.Query()
	limit := 20
	if v := q.Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > 100 {
			s.writeError(w, n, http.StatusBadRequest, invalidRequest(
				fmt.Sprintf("Invalid 'limit': '%s'. Expected an integer between 1 and 100.", v), "limit", "invalid_value"), nil)
			return
		}
		limit = l
	}
	items := append([]json.RawMessage(nil), st.inputItems...)
	switch q.Get("order") {
	case "", "desc":
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	case "asc":
	default:
		s.writeError(w, n, http.StatusBadRequest, *invalidValue("order", q.Get("order"), []string{"asc", "desc"}), nil)
		return
	}
	if after := q.Get("after"); after != "" {
		for i, it := range items {
			var h struct{ ID string }
			_ = json.Unmarshal(it, &h)
			if h.ID == after {
				items = items[i+1:]
				break
			}
		}
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	first, last := any(nil), any(nil)
	if len(items) > 0 {
		var a, b struct{ ID string }
		_ = json.Unmarshal(items[0], &a)
		_ = json.Unmarshal(items[len(items)-1], &b)
		first, last = a.ID, b.ID
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, id })
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(object("object", "list", "data", items, "first_id", first, "last_id", last, "has_more", more))
}

// inputItems returns the request's input as the API lists it: a string is
// one user message, a message's string content becomes one input_text part
// (output_text for an assistant), and every item gets an id (the one it
// has, else "<prefix>_in_<response>_<index>") and, for messages and
// outputs, a status.
func inputItems(req *responses.Request, num int) []json.RawMessage {
	items := req.Input.Items
	if items == nil && req.Input.Text != "" {
		items = []responses.Item{responses.UserMessage(req.Input.Text)}
	}
	out := make([]json.RawMessage, 0, len(items))
	for i, it := range items {
		var m map[string]json.RawMessage
		if it.Decode(&m) != nil {
			continue
		}
		typ := it.Type
		if typ == "" {
			typ = responses.TypeMessage
			m["type"] = json.RawMessage(`"message"`)
		}
		if _, ok := m["id"]; !ok || it.ID == "" {
			prefix := idPrefix[typ]
			switch {
			case prefix == "" && typ == responses.TypeFunctionCallOutput:
				prefix = "fco"
			case prefix == "":
				prefix = "item"
			}
			m["id"] = mustJSON(fmt.Sprintf("%s_in_%d_%d", prefix, num, i))
		}
		switch typ {
		case responses.TypeMessage:
			var text string
			if json.Unmarshal(m["content"], &text) == nil {
				part := "input_text"
				var role string
				_ = json.Unmarshal(m["role"], &role)
				if role == "assistant" {
					part = "output_text"
				}
				p := []any{"type", part, "text", text}
				if part == "output_text" {
					p = append(p, "annotations", json.RawMessage("[]"))
				}
				m["content"] = mustJSON([]json.RawMessage{object(p...)})
			}
			if _, ok := m["status"]; !ok {
				m["status"] = json.RawMessage(`"completed"`)
			}
		case responses.TypeFunctionCallOutput, responses.TypeComputerCallOutput:
			if _, ok := m["status"]; !ok {
				m["status"] = json.RawMessage(`"completed"`)
			}
		}
		out = append(out, mustJSON(m))
	}
	return out
}
