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
// present, absent values as null. The fields are those of openai-go
// v3.102.0's responses.Response (required ones always; the optional ones the
// real API sends in every response: background, conversation, service_tier,
// prompt_cache_key, ...).
type responseObject struct {
	ID                   string                       `json:"id"`
	Object               string                       `json:"object"`
	CreatedAt            int64                        `json:"created_at"`
	Status               string                       `json:"status"`
	Background           bool                         `json:"background"`
	CompletedAt          *int64                       `json:"completed_at"`
	Conversation         any                          `json:"conversation"`
	Error                *responses.ResponseError     `json:"error"`
	IncompleteDetails    *responses.IncompleteDetails `json:"incomplete_details"`
	Instructions         *string                      `json:"instructions"`
	MaxOutputTokens      *int64                       `json:"max_output_tokens"`
	MaxToolCalls         *int64                       `json:"max_tool_calls"`
	Model                string                       `json:"model"`
	Output               []responses.Item             `json:"output"`
	ParallelToolCalls    bool                         `json:"parallel_tool_calls"`
	PreviousResponseID   *string                      `json:"previous_response_id"`
	Prompt               any                          `json:"prompt"`
	PromptCacheKey       *string                      `json:"prompt_cache_key"`
	PromptCacheRetention *string                      `json:"prompt_cache_retention"`
	Reasoning            json.RawMessage              `json:"reasoning"`
	SafetyIdentifier     *string                      `json:"safety_identifier"`
	ServiceTier          string                       `json:"service_tier"`
	Store                bool                         `json:"store"`
	Temperature          float64                      `json:"temperature"`
	Text                 json.RawMessage              `json:"text"`
	ToolChoice           any                          `json:"tool_choice"`
	Tools                []responses.ToolDefinition   `json:"tools"`
	TopLogprobs          int64                        `json:"top_logprobs"`
	TopP                 float64                      `json:"top_p"`
	Truncation           string                       `json:"truncation"`
	Usage                *wireUsage                   `json:"usage"`
	User                 *string                      `json:"user"`
	Metadata             map[string]string            `json:"metadata"`
	AccessPrograms       json.RawMessage              `json:"access_programs"`
}

// wireUsage is usage as the API sends it: every detail present, including
// cache_write_tokens (required in openai-go v3.102.0's
// ResponseUsageInputTokensDetails).
type wireUsage struct {
	InputTokens        int64 `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens     int64 `json:"cached_tokens"`
		CacheWriteTokens int64 `json:"cache_write_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int64 `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int64 `json:"total_tokens"`
}

func toWire(u responses.Usage) *wireUsage {
	var w wireUsage
	w.InputTokens, w.OutputTokens, w.TotalTokens = u.InputTokens, u.OutputTokens, u.TotalTokens
	w.InputTokensDetails.CachedTokens = u.InputTokensDetails.CachedTokens
	w.InputTokensDetails.CacheWriteTokens = u.InputTokensDetails.CacheWriteTokens
	w.OutputTokensDetails.ReasoningTokens = u.OutputTokensDetails.ReasoningTokens
	return &w
}

// respond makes the response to a request with body for reply: it assigns the id and
// the item ids, computes usage, stores the response (unless store is false
// or errEvent is set) and prepares the stream. With errEvent the stream ends
// with an error event after response.in_progress.
func (s *Server) respond(body []byte, req *responses.Request, prev *stored, reply Reply, errEvent *apiError) *response {
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
	usage := estimateUsage(prevTokens, len(body), output)
	x := parseExtras(body)
	if reply.Usage != nil {
		usage = *reply.Usage
		if usage.TotalTokens == 0 {
			usage.TotalTokens = usage.InputTokens + usage.OutputTokens
		}
	}

	obj := echo(req, x)
	obj.ID = id
	obj.CreatedAt = time.Now().Unix()
	obj.Status = responses.StatusInProgress
	if x.Background {
		obj.Status = responses.StatusQueued
	}
	first := obj // the response as created: queued or in progress
	inProgress := obj
	inProgress.Status = responses.StatusInProgress

	obj.Output = output
	obj.Usage = toWire(usage)
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

	resp := &response{id: id, stream: req.Stream, object: final}
	if x.Background && !req.Stream {
		resp.object = mustJSON(first) // answered at once; retrieval polls it to completion
	}
	if !req.Stream && !store {
		return resp
	}
	var ev eventWriter
	ev.emit("response.created", "response", mustJSON(first))
	if x.Background {
		ev.emit("response.queued", "response", mustJSON(first))
	}
	ev.emit("response.in_progress", "response", mustJSON(inProgress))
	if errEvent != nil {
		// The live API nests the error object in the event (recorded in
		// openai/openai-dotnet#881 and openai/openai-python#2487), although
		// the API reference and the SDKs' ResponseErrorEvent show code and
		// message at the top level; openai-go ends a stream with an error
		// only on the nested form (packages/ssestream: a top-level "error").
		ev.emit("error", "error", *errEvent)
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
	if store {
		st := &stored{
			prev:          req.PreviousResponseID,
			input:         req.Input.Items,
			output:        output,
			contextTokens: usage.InputTokens + usage.OutputTokens,
			object:        final,
			events:        ev.events,
			background:    x.Background,
			inputItems:    inputItems(req, num),
		}
		if x.Background && !req.Stream {
			st.pending = [][]byte{resp.object, mustJSON(inProgress)}
		}
		s.mu.Lock()
		s.stored[id] = st
		s.mu.Unlock()
		s.extendConversation(req.Conversation, req.Input.Items, output) // conversation.go
	}
	if !req.Stream {
		resp.events = nil
	}
	return resp
}

// echo returns the response object's echo of the request's configuration,
// with the API's defaults for what the request left out.
func echo(req *responses.Request, x extras) responseObject {
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
		ToolChoice:        "auto",
		Background:        x.Background,
		ServiceTier:       "default",
		AccessPrograms:    json.RawMessage(`{"cyber":"standard"}`),
	}
	if x.ServiceTier != "" && x.ServiceTier != "auto" {
		obj.ServiceTier = x.ServiceTier // "auto" runs in the default tier
	}
	obj.PromptCacheKey = x.PromptCacheKey
	obj.PromptCacheRetention = x.PromptCacheRetention
	obj.SafetyIdentifier = x.SafetyIdentifier
	obj.MaxToolCalls = x.MaxToolCalls
	obj.TopLogprobs = x.TopLogprobs
	obj.User = x.User
	if req.Conversation != "" {
		obj.Conversation = object("id", req.Conversation)
	}
	if req.Prompt != nil {
		obj.Prompt = req.Prompt
	}
	obj.Text = echoText(req.Text)
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
	if req.ToolChoice != nil {
		obj.ToolChoice = req.ToolChoice
	}
	return obj
}

// extras are the request parameters that responses.Request does not
// declare but the response echoes.
type extras struct {
	Background           bool    `json:"background"`
	ServiceTier          string  `json:"service_tier"`
	PromptCacheKey       *string `json:"prompt_cache_key"`
	PromptCacheRetention *string `json:"prompt_cache_retention"`
	SafetyIdentifier     *string `json:"safety_identifier"`
	MaxToolCalls         *int64  `json:"max_tool_calls"`
	TopLogprobs          int64   `json:"top_logprobs"`
	User                 *string `json:"user"`
}

func parseExtras(body []byte) extras {
	var x extras
	_ = json.Unmarshal(body, &x) // a body that does not fit was rejected, or the server is lenient
	return x
}

// echoText returns the text configuration as the API echoes it: format
// always present ({"type":"text"} by default) and verbosity "medium" unless
// the request set it.
func echoText(t *responses.TextConfig) json.RawMessage {
	format := any(object("type", "text"))
	verbosity := "medium"
	if t != nil {
		if t.Format != nil {
			format = t.Format
		}
		if t.Verbosity != "" {
			verbosity = t.Verbosity
		}
	}
	return object("format", format, "verbosity", verbosity)
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
