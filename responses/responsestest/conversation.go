package responsestest

import (
	"slices"

	"github.com/agentloop/agentloop/responses"
)

// Conversations: a create request with "conversation": "conv_…" continues
// the server-side conversation of that id, which starts empty the first time
// an id is used (the real API needs POST /conversations first; here any id
// is accepted). Its items are the context of the request: calls in it must
// be answered by the request's input, as in chained mode. The request's
// input and the response's output are appended to it when the response is
// stored. A request may not set both conversation and previous_response_id.

// checkConversation validates a request in a conversation.
func (s *Server) checkConversation(req *responses.Request) *apiError {
	if req.PreviousResponseID != "" {
		e := invalidRequest("Mutually exclusive parameters: 'previous_response_id' and 'conversation'. Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
			"conversation", "mutually_exclusive_parameters")
		return &e
	}
	return checkPairs(s.Conversation(req.Conversation), req.Input.Items)
}

// extendConversation appends a stored response's input and output to its
// conversation, if it has one.
func (s *Server) extendConversation(id string, input, output []responses.Item) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.convs == nil {
		s.convs = map[string][]responses.Item{}
	}
	s.convs[id] = append(append(s.convs[id], input...), output...)
}

// Conversation returns the items of the server-side conversation id, oldest
// first: the inputs and outputs of the stored responses created in it.
func (s *Server) Conversation(id string) []responses.Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.convs[id])
}
