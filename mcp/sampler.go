package mcp

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentloop/agentloop/responses"
)

// ResponseCreator creates a model response. [*responses.Client] implements
// it.
type ResponseCreator interface {
	Create(ctx context.Context, req *responses.Request) (*responses.Response, error)
}

// ModelSampler returns a [Sampler] that answers servers' sampling requests
// with model through c, for applications that opt in to letting servers use
// the agent's model. Each request becomes one create request: the system
// prompt as instructions, the messages as input, MaxTokens as
// max_output_tokens, the temperature when given, store false and no tools.
// Stop sequences are not sent (the Responses API has none). It does not ask
// the user first; wrap it in a [SamplerFunc] that does, if needed.
func ModelSampler(c ResponseCreator, model string) Sampler {
	return SamplerFunc(func(ctx context.Context, r SampleRequest) (SampleResult, error) {
		req := &responses.Request{Model: model, Instructions: r.SystemPrompt, Store: responses.Ptr(false)}
		for _, m := range r.Messages {
			role := m.Role
			if role != "assistant" {
				role = "user"
			}
			req.Input.Items = append(req.Input.Items, responses.MustItem(responses.Message{Type: responses.TypeMessage, Role: role, Content: responses.MustJSON(m.Text)}))
		}
		if len(req.Input.Items) == 0 {
			return SampleResult{}, errors.New("sampling request has no messages")
		}
		if r.MaxTokens > 0 {
			req.MaxOutputTokens = responses.Ptr(int64(r.MaxTokens))
		}
		if r.Temperature != 0 {
			req.Temperature = responses.Ptr(r.Temperature)
		}
		resp, err := c.Create(ctx, req)
		if err != nil {
			return SampleResult{}, fmt.Errorf("sample with %s: %w", model, err)
		}
		stop := "endTurn"
		if resp.Status == responses.StatusIncomplete {
			stop = "maxTokens"
		}
		return SampleResult{Text: resp.OutputText(), Model: cmpOr(resp.Model, model), StopReason: stop}, nil
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
