package agent

import "github.com/agentloop/agentloop/responses"

// WithConversation runs in the server-side conversation id ("conv_…"):
// every request of the run carries "conversation", the server prepends the
// conversation's items and appends the run's, and the loop sends only new
// items, never previous_response_id. It overrides Options.Request's
// Conversation for this run. Conversations are an OpenAI feature; the run
// does not compact its context (see [Compaction]) while in one.
func WithConversation(id string) RunOption {
	return withEdit(func(req *responses.Request) { req.Conversation = id })
}

// WithPrompt sends the stored prompt template p (id, version, variables)
// with every request of the run, overriding Options.Request's Prompt.
func WithPrompt(p responses.Prompt) RunOption {
	return withEdit(func(req *responses.Request) { req.Prompt = &p })
}

// WithTextFormat sets the text.format parameter of every request of the run
// (for example a json_schema format; see [RunAs]), keeping the verbosity of
// Options.Request's Text.
func WithTextFormat(f responses.TextFormat) RunOption {
	return withEdit(func(req *responses.Request) {
		var text responses.TextConfig
		if req.Text != nil {
			text = *req.Text
		}
		text.Format = &f
		req.Text = &text
	})
}

func withEdit(f func(*responses.Request)) RunOption {
	return func(c *runConfig) { c.edits = append(c.edits, f) }
}
