package responsestest

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// compact serves POST /responses/compact (OpenAI style paths only: the
// Scale GenAI Platform's /v5 has no compact endpoint here, so a client can
// be tested against a server without one). It answers every valid request,
// outside the script: the output is the conversation's user messages
// followed by one compaction item whose encrypted_content is
// "compacted:<n>" in base64, n being the number of items it replaced. The
// request is recorded like a create; the reply is not stored. (A stored
// response whose input was a plain string contributes no user message: the
// server keeps input items only.)
func (s *Server) compact(w http.ResponseWriter, r *http.Request) {
	n, params, body, ok := s.readRequest(w, r, "compact request", nil)
	if !ok {
		return
	}
	if params.Model == "" {
		e := invalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter")
		s.writeError(w, n, http.StatusBadRequest, e, nil)
		return
	}
	if _, apiErr := s.validate(&params); apiErr != nil {
		s.writeError(w, n, http.StatusBadRequest, *apiErr, nil)
		return
	}
	history := s.history(params.PreviousResponseID)
	history = append(history, params.Input.Items...)
	if params.Input.Text != "" {
		history = append(history, responses.UserMessage(params.Input.Text))
	}

	var output []responses.Item
	for _, it := range history {
		if isUserMessage(it) {
			output = append(output, it)
		}
	}
	s.mu.Lock()
	s.nresp++
	num := s.nresp
	s.mu.Unlock()
	replaced := len(history) - len(output)
	output = append(output, responses.MustItem(responses.CompactionItem{
		Type:             responses.TypeCompaction,
		ID:               "cmp_" + strconv.Itoa(num) + "_0",
		EncryptedContent: base64.StdEncoding.EncodeToString([]byte("compacted:" + strconv.Itoa(replaced))),
	}))

	var prevTokens int64
	if params.PreviousResponseID != "" {
		s.mu.Lock()
		if st := s.stored[params.PreviousResponseID]; st != nil {
			prevTokens = st.contextTokens
		}
		s.mu.Unlock()
	}
	usage := estimateUsage(prevTokens, len(body), output[len(output)-1:])
	id := "cmp_" + strconv.Itoa(num)
	reply := mustJSON(responses.Compaction{
		ID: id, Object: "response.compaction", CreatedAt: float64(time.Now().Unix()),
		Output: output, Usage: &usage,
	})
	s.update(n, func(rec *Request) { rec.StatusCode, rec.ResponseID = http.StatusOK, id })
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(reply)
}

// history returns the items of the stored chain that ends with id, oldest
// first.
func (s *Server) history(id string) []responses.Item {
	var chain []*stored
	s.mu.Lock()
	for id != "" {
		st := s.stored[id]
		if st == nil {
			break
		}
		chain = append(chain, st)
		id = st.prev
	}
	s.mu.Unlock()
	var items []responses.Item
	for i := len(chain) - 1; i >= 0; i-- {
		items = append(items, chain[i].input...)
		items = append(items, chain[i].output...)
	}
	return items
}

func isUserMessage(it responses.Item) bool {
	if it.Type != responses.TypeMessage && it.Type != "" {
		return false
	}
	var m struct {
		Role string `json:"role"`
	}
	return it.Decode(&m) == nil && m.Role == "user"
}

// CompactedCount returns the number of items a compaction item made by the
// server's compact endpoint replaced, or -1 if it is not one.
func CompactedCount(it responses.Item) int {
	var c responses.CompactionItem
	if it.Type != responses.TypeCompaction || it.Decode(&c) != nil {
		return -1
	}
	b, err := base64.StdEncoding.DecodeString(c.EncryptedContent)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "compacted:"))
	if err != nil || !strings.HasPrefix(string(b), "compacted:") {
		return -1
	}
	return n
}
