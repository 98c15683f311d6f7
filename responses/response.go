package responses

import (
	"encoding/json"
	"strings"
)

// Response statuses.
const (
	StatusQueued     = "queued"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusIncomplete = "incomplete"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
)

// Response is the response object. It is decoded leniently: created_at may be
// fractional, optional objects may be null or absent, and the echoed
// configuration is kept as raw JSON where servers disagree on its shape.
type Response struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object,omitempty"`
	CreatedAt          float64            `json:"created_at,omitempty"`
	CompletedAt        *float64           `json:"completed_at,omitempty"`
	Status             string             `json:"status,omitempty"`
	Error              *ResponseError     `json:"error,omitempty"`
	IncompleteDetails  *IncompleteDetails `json:"incomplete_details,omitempty"`
	Model              string             `json:"model,omitempty"`
	Output             []Item             `json:"output"`
	Usage              *Usage             `json:"usage,omitempty"`
	PreviousResponseID string             `json:"previous_response_id,omitempty"`
	Instructions       json.RawMessage    `json:"instructions,omitempty"`
	Metadata           map[string]any     `json:"metadata,omitempty"`
	Store              *bool              `json:"store,omitempty"`
	ParallelToolCalls  *bool              `json:"parallel_tool_calls,omitempty"`
	Conversation       json.RawMessage    `json:"conversation,omitempty"`
}

// OutputText returns the concatenated text of the response's output messages.
func (r *Response) OutputText() string {
	var b strings.Builder
	for _, it := range r.Output {
		b.WriteString(it.Text())
	}
	return b.String()
}

// ResponseError is the error object of a failed response.
type ResponseError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	Type    string `json:"type,omitempty"`
}

// UnmarshalJSON decodes leniently: a numeric code becomes its decimal text,
// and an error given as a bare string becomes the message.
func (e *ResponseError) UnmarshalJSON(b []byte) error {
	var msg string
	if json.Unmarshal(b, &msg) == nil {
		*e = ResponseError{Message: msg}
		return nil
	}
	var w struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
		Param   json.RawMessage `json:"param"`
		Type    json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = ResponseError{Code: looseText(w.Code), Message: looseText(w.Message), Param: looseText(w.Param), Type: looseText(w.Type)}
	return nil
}

// looseText returns a JSON string's value, a number's text, or "".
func looseText(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String()
	}
	return ""
}

// IncompleteDetails says why a response is incomplete.
type IncompleteDetails struct {
	Reason string `json:"reason"` // max_output_tokens, content_filter, ...
}

// Usage is a response's token accounting. Detail fields are zero when the
// server did not send them.
type Usage struct {
	InputTokens         int64               `json:"input_tokens"`
	InputTokensDetails  InputTokensDetails  `json:"input_tokens_details"`
	OutputTokens        int64               `json:"output_tokens"`
	OutputTokensDetails OutputTokensDetails `json:"output_tokens_details"`
	TotalTokens         int64               `json:"total_tokens"`
}

// InputTokensDetails breaks down input tokens.
type InputTokensDetails struct {
	CachedTokens     int64 `json:"cached_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

// OutputTokensDetails breaks down output tokens.
type OutputTokensDetails struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// Add adds o to u, field by field.
func (u *Usage) Add(o *Usage) {
	if o == nil {
		return
	}
	u.InputTokens += o.InputTokens
	u.InputTokensDetails.CachedTokens += o.InputTokensDetails.CachedTokens
	u.InputTokensDetails.CacheWriteTokens += o.InputTokensDetails.CacheWriteTokens
	u.OutputTokens += o.OutputTokens
	u.OutputTokensDetails.ReasoningTokens += o.OutputTokensDetails.ReasoningTokens
	u.TotalTokens += o.TotalTokens
}
