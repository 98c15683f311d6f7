package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// CompactRequest is the body of the compact endpoint (POST
// {base}/responses/compact): the conversation to compact, given as Input
// items, as a stored response to continue (PreviousResponseID) plus new
// Input, or both.
type CompactRequest struct {
	Model              string `json:"model"`
	Input              Input  `json:"input,omitzero"`
	PreviousResponseID string `json:"previous_response_id,omitempty"`
	Instructions       string `json:"instructions,omitempty"`
	PromptCacheKey     string `json:"prompt_cache_key,omitempty"`
}

// Compaction is the reply of the compact endpoint. Output is the compacted
// conversation: the user messages, then one opaque compaction item. Send it
// as the input of the next create request (without previous_response_id),
// followed by new items; the items it replaced must not be sent again.
type Compaction struct {
	ID        string  `json:"id"`
	Object    string  `json:"object,omitempty"` // "response.compaction"
	CreatedAt float64 `json:"created_at,omitempty"`
	Output    []Item  `json:"output"`
	Usage     *Usage  `json:"usage,omitempty"`
}

// CompactionItem is a compaction item: an opaque summary of earlier context.
// Send it back unchanged.
type CompactionItem struct {
	Type             string `json:"type"` // "compaction"
	ID               string `json:"id,omitempty"`
	EncryptedContent string `json:"encrypted_content"`
}

// ContextCompaction returns the context_management parameter that has the
// server compact the context by itself once it passes threshold tokens:
// [{"type":"compaction","compact_threshold":threshold}]. A compaction item
// then appears in the response's output; keep it and send it back like any
// other item (the agent loop does).
func ContextCompaction(threshold int64) json.RawMessage {
	return MustJSON([]any{map[string]any{"type": "compaction", "compact_threshold": threshold}})
}

// CompactionTrigger returns the input item {"type":"compaction_trigger"},
// which asks the server to compact the context of a create request; it must
// be the last input item.
func CompactionTrigger() Item { return MustItem(map[string]string{"type": "compaction_trigger"}) }

// Compact sends req to the compact endpoint next to the client's create
// endpoint ({base}/responses/compact) and returns the compacted conversation.
// It retries like [Client.Create]. A server without the endpoint answers
// with an [*APIError] whose StatusCode is 404 (or 405); the Responses API has
// it, other providers may not.
func (c *Client) Compact(ctx context.Context, req *CompactRequest) (*Compaction, error) {
	if c.cfgErr != nil {
		return nil, c.cfgErr
	}
	if req == nil {
		return nil, errors.New("responses: nil compact request")
	}
	if req.Model == "" {
		return nil, errors.New("responses: compact: the model is required")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("responses: encode compact request: %w", err)
	}
	cc := *c // same options and transport, another path
	cc.endpoint = c.endpoint + "/compact"
	resp, data, err := cc.post(ctx, bytesPayload(body))
	if err != nil {
		return nil, err
	}
	var r Compaction
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("responses: decode compaction (request %s): %w: %s", resp.Header.Get("x-request-id"), err, snippet(data))
	}
	return &r, nil
}
