package responsestest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// Conversations: a create request with "conversation": "conv_…" (or the
// object form {"id": "conv_…"}, which the Go SDK sends; API reference,
// ResponseNewParamsConversationUnion) continues the server-side conversation
// of that id. Its items are the context of the request: calls in it must be
// answered by the request's input, as in chained mode. The request's input
// and the response's output are appended to it when the response is stored,
// and the response echoes {"id": "conv_…"} in its conversation field. A
// request may not set both conversation and previous_response_id.
//
// POST /conversations (or [Server.CreateConversation]) creates one. Under
// [RuleConversationExists] an id that was never created is a 404, as on the
// real API; otherwise any id starting with "conv_" starts an empty one.

// CreateConversation creates an empty conversation and returns its id,
// "conv_1", "conv_2", ...
func (s *Server) CreateConversation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newConversationLocked()
}

func (s *Server) newConversationLocked() string {
	s.nconv++
	id := "conv_" + strconv.Itoa(s.nconv)
	for s.known[id] {
		s.nconv++
		id = "conv_" + strconv.Itoa(s.nconv)
	}
	s.known[id] = true
	return id
}

// createConversation serves POST /conversations: the conversation object
// of the API reference (id, object, created_at, metadata). Initial items
// are added to the conversation.
func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Items    []responses.Item  `json:"items"`
		Metadata map[string]string `json:"metadata"`
	}
	n, ok := s.readJSON(w, r, &body)
	if !ok {
		return
	}
	s.mu.Lock()
	id := s.newConversationLocked()
	s.convs[id] = append(s.convs[id], body.Items...)
	s.mu.Unlock()
	if body.Metadata == nil {
		body.Metadata = map[string]string{}
	}
	s.update(n, func(rec *Request) { rec.StatusCode = http.StatusOK })
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(object("id", id, "object", "conversation", "created_at", time.Now().Unix(), "metadata", body.Metadata))
}

// checkConversation validates a request in a conversation.
func (s *Server) checkConversation(req *responses.Request) *apiError {
	if req.PreviousResponseID != "" {
		e := invalidRequest("Mutually exclusive parameters: 'previous_response_id' and 'conversation'. Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
			"conversation", "mutually_exclusive_parameters")
		return &e
	}
	id := req.Conversation
	if s.enforced(RuleParams) && !strings.HasPrefix(id, "conv") {
		e := invalidRequest(fmt.Sprintf("Invalid 'conversation': '%s'. Expected an ID that begins with 'conv'.", id), "conversation", "invalid_value")
		return &e
	}
	if s.enforced(RuleConversationExists) {
		s.mu.Lock()
		known := s.known[id]
		s.mu.Unlock()
		if !known {
			e := invalidRequest(fmt.Sprintf("Conversation with id '%s' not found.", id), "conversation", "")
			e.status = http.StatusNotFound
			return &e
		}
	}
	return checkPairs(s.Conversation(id), req.Input.Items)
}

// extendConversation appends a stored response's input and output to its
// conversation, if it has one.
func (s *Server) extendConversation(id string, input, output []responses.Item) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convs[id] = append(append(s.convs[id], input...), output...)
}

// Conversation returns the items of the server-side conversation id, oldest
// first: the inputs and outputs of the stored responses created in it.
func (s *Server) Conversation(id string) []responses.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.convs[id])
}

// readJSON records a request to an endpoint other than create and decodes
// its body, if any, into v; a body that does not decode is a 400.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) (n int, ok bool) {
	body, err := readBody(r)
	n = s.record(r, body)
	w.Header().Set("x-request-id", "req_"+strconv.Itoa(n))
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		s.writeError(w, n, http.StatusBadRequest, invalidRequest(
			"We could not parse the JSON body of your request: "+err.Error(), "", ""), nil)
		return n, false
	}
	return n, true
}
