package responsestest

import (
	"fmt"
	"strings"

	"github.com/agentloop/agentloop/responses"
)

// validate applies the API's conversation rules to req and returns the
// response it continues, if any: previous_response_id must name a stored
// response, and every call of the conversation must be answered exactly by
// the outputs that follow it (see checkPairs).
func (s *Server) validate(req *responses.Request) (*stored, *apiError) {
	var chain []*stored // newest first
	s.mu.Lock()
	for id := req.PreviousResponseID; id != ""; {
		st := s.stored[id]
		if st == nil {
			break
		}
		chain = append(chain, st)
		id = st.prev
	}
	s.mu.Unlock()
	if e := s.checkReasoning(req.Input.Items); e != nil {
		return nil, e
	}
	if req.Conversation != "" {
		return nil, s.checkConversation(req) // conversation.go
	}
	if req.PreviousResponseID == "" {
		return nil, checkPairs(nil, req.Input.Items)
	}
	if len(chain) == 0 {
		e := invalidRequest(fmt.Sprintf("Previous response with id '%s' not found.", req.PreviousResponseID),
			"previous_response_id", "previous_response_not_found")
		return nil, &e
	}
	// Stored responses never change, so they are read without the lock.
	var history []responses.Item
	for i := len(chain) - 1; i >= 0; i-- {
		history = append(history, chain[i].input...)
		history = append(history, chain[i].output...)
	}
	return chain[0], checkPairs(history, req.Input.Items)
}

// checkPairs checks the calls of a conversation: history (the items of the
// chained responses, already checked) followed by input. Every output in
// input must answer a call that comes before it, and every call must be
// answered by an output after it. In chained mode the pending calls are
// those of the previous response; in stateless mode (no history) the calls
// replayed in input must be followed by their outputs.
func checkPairs(history, input []responses.Item) *apiError {
	calls := map[string]responses.Item{}
	answered := map[string]bool{}
	var order []string
	see := func(it responses.Item, i int, fromInput bool) *apiError {
		if k := it.CallKey(); k != "" {
			if _, seen := calls[k]; !seen {
				order = append(order, k)
			}
			calls[k] = it
			delete(answered, k) // a call sent again needs its output again
			return nil
		}
		if !it.IsOutput() {
			return nil
		}
		keys := outputKeys(it)
		if len(keys) == 0 {
			if !fromInput {
				return nil
			}
			field := "call_id"
			if it.Type == responses.TypeMCPApprovalResponse {
				field = "approval_request_id"
			}
			param := fmt.Sprintf("input[%d].%s", i, field)
			e := invalidRequest(fmt.Sprintf("Missing required parameter: '%s'.", param), param, "missing_required_parameter")
			return &e
		}
		for _, k := range keys {
			if _, ok := calls[k]; ok {
				answered[k] = true
				return nil
			}
		}
		if !fromInput {
			return nil
		}
		e := invalidRequest(noCallMessage(it, keys[0]), "input", "")
		return &e
	}
	for i, it := range history {
		_ = see(it, i, false)
	}
	for i, it := range input {
		if e := see(it, i, true); e != nil {
			return e
		}
	}
	for _, k := range order {
		// An unanswered mcp_approval_request is no error: the API reference
		// and the remote MCP guide present the approval response as the way
		// to approve a call, and no source shows a 400 for leaving one
		// unanswered (the recorded pairing errors all name tool calls with
		// a call_id); the server then simply does not make the call.
		if !answered[k] && calls[k].Type != responses.TypeMCPApprovalRequest {
			e := invalidRequest(noOutputMessage(calls[k], k), "input", "")
			return &e
		}
	}
	return nil
}

// outputKeys returns the keys an output item may answer: its call_id, the
// approval_request_id of an MCP approval response, and for a
// local_shell_call_output both its id (the spec's form) and its call_id.
func outputKeys(it responses.Item) []string {
	var keys []string
	if it.Type == responses.TypeLocalShellCallOutput {
		for _, k := range []string{it.CallID, it.ID} {
			if k != "" {
				keys = append(keys, k)
			}
		}
		return keys
	}
	if k := it.OutputKey(); k != "" {
		keys = append(keys, k)
	}
	return keys
}

func noOutputMessage(call responses.Item, key string) string {
	if call.Type == responses.TypeMCPApprovalRequest {
		return fmt.Sprintf("No approval response found for MCP approval request %s.", key)
	}
	return fmt.Sprintf("No tool output found for %s %s.", spaced(call.Type), key)
}

func noCallMessage(out responses.Item, key string) string {
	if out.Type == responses.TypeMCPApprovalResponse {
		return fmt.Sprintf("No approval request found for MCP approval response with approval_request_id %s.", key)
	}
	return fmt.Sprintf("No tool call found for %s with call_id %s.", spaced(out.Type), key)
}

// spaced turns "function_call" into "function call".
func spaced(typ string) string { return strings.ReplaceAll(typ, "_", " ") }

// itemInfo is what the server remembers of an output item it served, to
// check replayed reasoning the way the API does.
type itemInfo struct {
	typ       string
	stored    bool   // its response was stored: the item can be found by id
	reasoning string // the id of the reasoning item just before it, if any
	follower  string // for a reasoning item, the id of the item just after it
}

// remember records the output items of a response.
func (s *Server) remember(output []responses.Item, stored bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, it := range output {
		if it.ID == "" {
			continue
		}
		info := itemInfo{typ: it.Type, stored: stored}
		if i > 0 && output[i-1].Type == responses.TypeReasoning {
			info.reasoning = output[i-1].ID
		}
		if it.Type == responses.TypeReasoning && i+1 < len(output) {
			info.follower = output[i+1].ID
		}
		s.items[it.ID] = info
	}
}

// checkReasoning applies the API's rules for reasoning items replayed in
// input (stateless mode): a reasoning item without encrypted_content is
// looked up by id, so it must come from a stored response; and a reasoning
// item and the item that followed it in the output travel together. Items
// without ids (the Codex style of replay) are not checked.
func (s *Server) checkReasoning(input []responses.Item) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]int{} // id -> index in input
	for i, it := range input {
		if it.ID != "" {
			seen[it.ID] = i
		}
	}
	for i, it := range input {
		if it.ID == "" {
			continue
		}
		info, known := s.items[it.ID]
		if it.Type == responses.TypeReasoning {
			var r struct {
				EncryptedContent string `json:"encrypted_content"`
			}
			_ = it.Decode(&r)
			if r.EncryptedContent == "" && !(known && info.stored) {
				e := invalidRequest(fmt.Sprintf("Item with id '%s' not found. Items are not persisted when `store` is set to false. "+
					"Try again with `store` set to true, or remove this item from your input.", it.ID), "input", "")
				return &e
			}
			if known && info.follower != "" {
				if j, ok := seen[info.follower]; !ok || j < i {
					e := invalidRequest(fmt.Sprintf("Item '%s' of type 'reasoning' was provided without its required following item.", it.ID), "input", "")
					return &e
				}
			}
			continue
		}
		if known && info.reasoning != "" {
			if j, ok := seen[info.reasoning]; !ok || j > i {
				e := invalidRequest(fmt.Sprintf("Item '%s' of type '%s' was provided without its required 'reasoning' item: '%s'.",
					it.ID, it.Type, info.reasoning), "input", "")
				return &e
			}
		}
	}
	return nil
}
