package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/agentloop/agentloop/responses"
)

// Compaction keeps a long run within the model's context window. After a
// response whose usage (input plus output tokens: the whole context) reaches
// Threshold of ContextWindow, the run compacts before its next request:
//
//   - through the API's compact endpoint (POST /responses/compact) when
//     the client implements [Compactor] and the server has the endpoint:
//     the conversation (the stored chain, or the stateless transcript) and
//     the pending tool outputs become the user messages plus one opaque
//     compaction item;
//   - otherwise by a summarising turn: the model is asked (with tools
//     disabled) to summarise the conversation, and the user messages of the
//     run plus that summary replace it.
//
// The next request starts from the compacted items (without
// previous_response_id, and in stateless mode in place of the transcript);
// later requests chain or replay as before, so the compaction item is resent
// as the API requires. Tools, approvals and the result's usage carry on;
// the compaction's usage is added to the run's. An [EventCompacted] event
// reports each compaction. The decision uses the usage of the run's own
// responses, so a run that continues a long conversation compacts after its
// first response at the earliest. A compaction that fails is logged as a
// warning and the run goes on uncompacted, trying again after its next
// response. A run in a server-side conversation is not
// compacted (set Options.Request.ContextManagement for server-side
// compaction instead).
type Compaction struct {
	// ContextWindow is the model's context window in tokens. Zero disables
	// compaction.
	ContextWindow int64
	// Threshold is the share of ContextWindow that triggers compaction.
	// Zero means 0.8; values above 1 are treated as 1.
	Threshold float64
	// Summarize compacts by a summarising turn even when the compact
	// endpoint is available.
	Summarize bool
	// SummaryPrompt asks for the summary in a summarising turn. Empty means
	// a built-in prompt.
	SummaryPrompt string
}

// DefaultSummaryPrompt is the request of a summarising turn when
// Compaction.SummaryPrompt is empty.
const DefaultSummaryPrompt = "Context compaction: the conversation is about to be truncated. " +
	"Write a concise summary of everything needed to continue the task: the goal, decisions made, " +
	"facts learned from tool results (names, paths, values), what was done and what remains. " +
	"Do not call tools; answer with the summary only."

// summaryPrefix introduces the summary in the compacted conversation.
const summaryPrefix = "Summary of the earlier part of this conversation, which was compacted:\n\n"

// Compactor is implemented by clients that can compact a conversation
// through the API's compact endpoint; [*responses.Client] does. A client
// without it compacts by a summarising turn.
type Compactor interface {
	Compact(ctx context.Context, req *responses.CompactRequest) (*responses.Compaction, error)
}

var _ Compactor = (*responses.Client)(nil)

// compactState is a run's compaction bookkeeping.
type compactState struct {
	last       *responses.Usage // usage of the last response
	users      []responses.Item // the user messages sent in this run, for summaries
	noEndpoint bool             // the server has no compact endpoint
}

// compactIfNeeded compacts the conversation before a request whose new input
// is input, when the last response's usage reached the threshold. It returns
// the input to send instead.
//
// A compaction that fails (other than by the run's context ending) is
// logged and skipped: the run goes on with the uncompacted context.
func (r *run) compactIfNeeded(rt *router, input []responses.Item) ([]responses.Item, error) {
	for _, it := range input {
		if it.Type == responses.TypeMessage || it.Type == "" {
			var m responses.Message
			if it.Decode(&m) == nil && m.Role == responses.RoleUser {
				r.compact.users = append(r.compact.users, it)
			}
		}
	}
	c := r.a.opts.Compaction
	last := r.compact.last
	if c.ContextWindow <= 0 || last == nil {
		return input, nil
	}
	threshold := c.Threshold
	if threshold <= 0 {
		threshold = 0.8
	}
	threshold = min(threshold, 1)
	used := last.InputTokens + last.OutputTokens
	if used < int64(threshold*float64(c.ContextWindow)) {
		return input, nil
	}
	if r.conversation() != "" {
		return input, nil // the server holds the context
	}
	r.compact.last = nil

	var compacted []responses.Item
	var usage *responses.Usage
	var err error
	compactor, ok := r.a.client.(Compactor)
	if ok && !c.Summarize && !r.compact.noEndpoint {
		compacted, usage, err = r.compactByEndpoint(compactor, input)
		if isMissingEndpoint(err) {
			r.a.log.Info("the server has no compact endpoint; compacting by a summary", "err", err)
			r.compact.noEndpoint = true
			compacted, usage, err = r.compactBySummary(rt, input)
		}
	} else {
		compacted, usage, err = r.compactBySummary(rt, input)
	}
	r.res.Usage.Add(usage)
	if err != nil {
		if r.ctx.Err() != nil {
			return nil, err
		}
		// Compaction is a precaution taken before the window is full: the
		// run goes on uncompacted, and tries again after its next response.
		r.a.log.Warn("compaction failed; continuing without it", "err", err)
		return input, nil
	}
	r.a.log.Debug("compacted the context", "tokens", used, "window", c.ContextWindow, "items", len(compacted))
	if r.a.opts.Stateless {
		r.transcript = nil // the compacted items replace it
	} else {
		r.prevID = "" // the compacted items are the whole context
	}
	ev := Event{Kind: EventCompacted, Usage: usage}
	if n := len(compacted); n > 0 {
		it := compacted[n-1]
		ev.Item = &it
	}
	r.emit(ev)
	return compacted, nil
}

// compactByEndpoint compacts through the API's compact endpoint.
func (r *run) compactByEndpoint(c Compactor, input []responses.Item) ([]responses.Item, *responses.Usage, error) {
	req := &responses.CompactRequest{Model: r.a.model, Instructions: r.a.opts.Instructions}
	if r.a.opts.Stateless {
		all := make([]responses.Item, 0, len(r.transcript)+len(input))
		all = append(all, r.transcript...)
		all = append(all, input...)
		req.Input = responses.ItemsInput(all...)
	} else {
		req.PreviousResponseID = r.prevID
		req.Input = responses.ItemsInput(input...)
	}
	out, err := c.Compact(r.ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if len(out.Output) == 0 {
		return nil, nil, errors.New("the compact endpoint returned no items")
	}
	return out.Output, out.Usage, nil
}

// compactBySummary asks the model for a summary of the conversation and
// returns the run's user messages followed by it.
func (r *run) compactBySummary(rt *router, input []responses.Item) ([]responses.Item, *responses.Usage, error) {
	prompt := r.a.opts.Compaction.SummaryPrompt
	if prompt == "" {
		prompt = DefaultSummaryPrompt
	}
	in := make([]responses.Item, 0, len(input)+1)
	in = append(in, input...)
	in = append(in, responses.UserMessage(prompt))
	req := r.request(rt, in)
	req.ToolChoice = responses.ToolChoiceMode("none")
	req.Text = nil // plain text, whatever format the run asks for
	req.Store = responses.Ptr(false)
	resp, err := r.a.client.Create(r.ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("summarising turn: %w", err)
	}
	if err := responseError(resp); err != nil {
		return nil, resp.Usage, fmt.Errorf("summarising turn: %w", err)
	}
	summary := resp.OutputText()
	if summary == "" {
		return nil, resp.Usage, errors.New("summarising turn: the model returned no summary")
	}
	out := make([]responses.Item, 0, len(r.compact.users)+1)
	out = append(out, r.compact.users...)
	out = append(out, responses.UserMessage(summaryPrefix+summary))
	return out, resp.Usage, nil
}

// isMissingEndpoint reports whether err says the server has no compact
// endpoint.
func isMissingEndpoint(err error) bool {
	var ae *responses.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.StatusCode {
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

// conversation returns the conversation the run's requests carry, if any.
func (r *run) conversation() string {
	req := r.a.opts.Request
	r.params.apply(&req)
	return req.Conversation
}
