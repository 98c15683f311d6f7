package responsestest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// response is one response, ready to be written.
type response struct {
	id     string
	stream bool
	object json.RawMessage // the final response object
	events []event         // the stream, when stream is set
}

// responseObject is the response object as the API encodes it: every key
// present, absent values as null.
type responseObject struct {
	ID                 string                       `json:"id"`
	Object             string                       `json:"object"`
	CreatedAt          int64                        `json:"created_at"`
	Status             string                       `json:"status"`
	CompletedAt        *int64                       `json:"completed_at"`
	Error              *responses.ResponseError     `json:"error"`
	IncompleteDetails  *responses.IncompleteDetails `json:"incomplete_details"`
	Instructions       *string                      `json:"instructions"`
	MaxOutputTokens    *int64                       `json:"max_output_tokens"`
	Model              string                       `json:"model"`
	Output             []responses.Item             `json:"output"`
	ParallelToolCalls  bool                         `json:"parallel_tool_calls"`
	PreviousResponseID *string                      `json:"previous_response_id"`
	Reasoning          json.RawMessage              `json:"reasoning"`
	Store              bool                         `json:"store"`
	Temperature        float64                      `json:"temperature"`
	Text               any                          `json:"text"`
	ToolChoice         any                          `json:"tool_choice"`
	Tools              []responses.ToolDefinition   `json:"tools"`
	TopP               float64                      `json:"top_p"`
	Truncation         string                       `json:"truncation"`
	Usage              *responses.Usage             `json:"usage"`
	Metadata           map[string]string            `json:"metadata"`
}

// respond makes the response to a request of bodyLen bytes for reply: it assigns the id and
// the item ids, computes usage, stores the response (unless store is false
// or errEvent is set) and prepares the stream. With errEvent the stream ends
// with an error event after response.in_progress.
func (s *Server) respond(bodyLen int, req *responses.Request, prev *stored, reply Reply, errEvent *apiError) *response {
	s.mu.Lock()
	s.nresp++
	num := s.nresp
	s.mu.Unlock()
	id := "resp_" + strconv.Itoa(num)

	output := make([]responses.Item, len(reply.Output))
	encrypted := slices.Contains(req.Include, "reasoning.encrypted_content")
	for i, it := range reply.Output {
		it = finalize(it, num, i)
		if it.Type == responses.TypeReasoning && !encrypted {
			it = withoutKey(it, "encrypted_content")
		}
		output[i] = it
	}
	store := errEvent == nil && (req.Store == nil || *req.Store)
	s.remember(output, store)
	var prevTokens int64
	if prev != nil {
		prevTokens = prev.contextTokens
	}
	usage := estimateUsage(prevTokens, bodyLen, output)
	if reply.Usage != nil {
		usage = *reply.Usage
		if usage.TotalTokens == 0 {
			usage.TotalTokens = usage.InputTokens + usage.OutputTokens
		}
	}

	obj := echo(req)
	obj.ID = id
	obj.CreatedAt = time.Now().Unix()
	obj.Status = responses.StatusInProgress
	inProgress := obj

	obj.Output = output
	obj.Usage = &usage
	switch reply.Status {
	case "", responses.StatusCompleted:
		obj.Status = responses.StatusCompleted
		done := time.Now().Unix()
		obj.CompletedAt = &done
	case responses.StatusFailed:
		obj.Status = responses.StatusFailed
		obj.Error = reply.Error
		if obj.Error == nil {
			obj.Error = &responses.ResponseError{Code: "server_error", Message: "The model failed to generate a response."}
		}
	case responses.StatusIncomplete:
		obj.Status = responses.StatusIncomplete
		reason := reply.IncompleteReason
		if reason == "" {
			reason = "max_output_tokens"
		}
		obj.IncompleteDetails = &responses.IncompleteDetails{Reason: reason}
	default:
		obj.Status = reply.Status
	}
	final := mustJSON(obj)

	if store {
		st := &stored{
			prev:          req.PreviousResponseID,
			input:         req.Input.Items,
			output:        output,
			contextTokens: usage.InputTokens + usage.OutputTokens,
			object:        final,
		}
		s.mu.Lock()
		s.stored[id] = st
		s.mu.Unlock()
		s.extendConversation(req.Conversation, req.Input.Items, output) // conversation.go
	}

	resp := &response{id: id, stream: req.Stream, object: final}
	if !req.Stream {
		return resp
	}
	var ev eventWriter
	ip := mustJSON(inProgress)
	ev.emit("response.created", "response", ip)
	ev.emit("response.in_progress", "response", ip)
	if errEvent != nil {
		code := any(nil)
		if errEvent.Code != "" {
			code = errEvent.Code
		}
		ev.emit("error", "code", code, "message", errEvent.Message, "param", nil)
		resp.events = ev.events
		return resp
	}
	for i, it := range output {
		ev.item(i, it)
	}
	terminal := "response.completed"
	switch obj.Status {
	case responses.StatusFailed:
		terminal = "response.failed"
	case responses.StatusIncomplete:
		terminal = "response.incomplete"
	}
	ev.emit(terminal, "response", final)
	resp.events = ev.events
	return resp
}

// echo returns the response object's echo of the request's configuration,
// with the API's defaults for what the request left out.
func echo(req *responses.Request) responseObject {
	obj := responseObject{
		Object:            "response",
		Model:             req.Model,
		Output:            []responses.Item{},
		ParallelToolCalls: req.ParallelToolCalls == nil || *req.ParallelToolCalls,
		Store:             req.Store == nil || *req.Store,
		Temperature:       1,
		TopP:              1,
		Truncation:        "disabled",
		Tools:             req.Tools,
		Metadata:          req.Metadata,
		MaxOutputTokens:   req.MaxOutputTokens,
		Reasoning:         json.RawMessage(`{"effort":null,"summary":null}`),
		Text:              json.RawMessage(`{"format":{"type":"text"}}`),
		ToolChoice:        "auto",
	}
	if req.Instructions != "" {
		obj.Instructions = &req.Instructions
	}
	if req.PreviousResponseID != "" {
		obj.PreviousResponseID = &req.PreviousResponseID
	}
	if req.Temperature != nil {
		obj.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		obj.TopP = *req.TopP
	}
	if req.Truncation != "" {
		obj.Truncation = req.Truncation
	}
	if obj.Tools == nil {
		obj.Tools = []responses.ToolDefinition{}
	}
	if obj.Metadata == nil {
		obj.Metadata = map[string]string{}
	}
	if req.Reasoning != nil {
		null := func(s string) any {
			if s == "" {
				return nil
			}
			return s
		}
		obj.Reasoning = object("effort", null(req.Reasoning.Effort), "summary", null(req.Reasoning.Summary))
	}
	if req.Text != nil {
		obj.Text = req.Text
	}
	if req.ToolChoice != nil {
		obj.ToolChoice = req.ToolChoice
	}
	return obj
}

// estimateUsage returns plausible token counts: about four bytes a token
// for the request body and each output item, plus the whole earlier
// conversation when chained (served from the prompt cache in 128-token
// blocks once it reaches 1024 tokens, as the real cache does).
func estimateUsage(prevTokens int64, bodyLen int, output []responses.Item) responses.Usage {
	var u responses.Usage
	u.InputTokens = prevTokens + tokens(bodyLen)
	if prevTokens >= 1024 {
		u.InputTokensDetails.CachedTokens = prevTokens / 128 * 128
	}
	for _, it := range output {
		t := tokens(len(it.Raw()))
		u.OutputTokens += t
		if it.Type == responses.TypeReasoning {
			u.OutputTokensDetails.ReasoningTokens += t
		}
	}
	u.TotalTokens = u.InputTokens + u.OutputTokens
	return u
}

func tokens(n int) int64 { return int64(max(1, (n+3)/4)) }

func mustJSON(v any) json.RawMessage {
	b, err := marshal(v)
	if err != nil {
		panic("responsestest: encode response: " + err.Error())
	}
	return b
}

// withoutKey returns it without the top-level key k, or it unchanged when k
// is absent.
func withoutKey(it responses.Item, k string) responses.Item {
	if !bytes.Contains(it.Raw(), []byte(strconv.Quote(k))) {
		return it
	}
	var m map[string]json.RawMessage
	if it.Decode(&m) != nil {
		return it
	}
	if _, ok := m[k]; !ok {
		return it
	}
	delete(m, k)
	return item(mustJSON(m))
}
