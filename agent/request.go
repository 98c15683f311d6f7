package agent

import "github.com/agentloop/agentloop/responses"

// WithConversation runs in the server-side conversation id ("conv_…"):
// every request of the run carries "conversation", the server prepends the
// conversation's items and appends the run's, and the loop sends only new
// items, never previous_response_id. It overrides Options.Request's
// Conversation for this run. Conversations are an OpenAI feature; the run
// does not compact its context (see [Compaction]) while in one.
func WithConversation(id string) RunOption {
	return func(c *runConfig) { c.params.Conversation = id }
}

// WithPrompt sends the stored prompt template p (id, version, variables)
// with every request of the run, overriding Options.Request's Prompt.
func WithPrompt(p responses.Prompt) RunOption {
	return func(c *runConfig) { c.params.Prompt = &p }
}

// WithTextFormat sets the text.format parameter of every request of the run
// (for example a json_schema format; see [RunAs]), keeping the verbosity of
// Options.Request's Text.
func WithTextFormat(f responses.TextFormat) RunOption {
	return func(c *runConfig) { c.params.TextFormat = &f }
}

// RunParams are the per-run request parameters set by [WithConversation],
// [WithPrompt] and [WithTextFormat]. A [RunState] keeps them, so a run
// resumed in another process carries on with them.
type RunParams struct {
	Conversation string                `json:"conversation,omitempty"`
	Prompt       *responses.Prompt     `json:"prompt,omitempty"`
	TextFormat   *responses.TextFormat `json:"text_format,omitempty"`
}

// merge returns p with the fields set in o replacing its own.
func (p RunParams) merge(o RunParams) RunParams {
	if o.Conversation != "" {
		p.Conversation = o.Conversation
	}
	if o.Prompt != nil {
		p.Prompt = o.Prompt
	}
	if o.TextFormat != nil {
		p.TextFormat = o.TextFormat
	}
	return p
}

// apply sets the parameters on req.
func (p RunParams) apply(req *responses.Request) {
	if p.Conversation != "" {
		req.Conversation = p.Conversation
	}
	if p.Prompt != nil {
		req.Prompt = p.Prompt
	}
	if p.TextFormat != nil {
		var text responses.TextConfig
		if req.Text != nil {
			text = *req.Text
		}
		text.Format = p.TextFormat
		req.Text = &text
	}
}
