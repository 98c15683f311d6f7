package agent

import (
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
//     the server has it ([Client].Compact):
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

// compactAction decides, before a request, whether the context must be
// compacted first: when the last response's usage reached the threshold.
func (m *Machine) compactAction() (Action, bool) {
	c := m.cfg.Compaction
	last := m.compact.last
	if c.ContextWindow <= 0 || last == nil {
		return nil, false
	}
	threshold := c.Threshold
	if threshold <= 0 {
		threshold = 0.8
	}
	threshold = min(threshold, 1)
	used := last.InputTokens + last.OutputTokens
	if used < int64(threshold*float64(c.ContextWindow)) {
		return nil, false
	}
	if m.conversation() != "" {
		return nil, false // the server holds the context
	}
	m.compact.last = nil
	act := Compact{Summary: m.summaryRequest()}
	if !c.Summarize && !m.compact.noEndpoint {
		req := &responses.CompactRequest{Model: m.cfg.Model, Instructions: m.cfg.Instructions}
		if m.cfg.Stateless {
			all := make([]responses.Item, 0, len(m.st.Transcript)+len(m.input))
			all = append(all, m.st.Transcript...)
			all = append(all, m.input...)
			req.Input = responses.ItemsInput(all...)
		} else {
			req.PreviousResponseID = m.st.PreviousResponseID
			req.Input = responses.ItemsInput(m.input...)
		}
		act.Endpoint = req
	}
	return act, true
}

// summaryRequest asks the model for a summary of the conversation.
func (m *Machine) summaryRequest() *responses.Request {
	prompt := m.cfg.Compaction.SummaryPrompt
	if prompt == "" {
		prompt = DefaultSummaryPrompt
	}
	in := make([]responses.Item, 0, len(m.input)+1)
	in = append(in, m.input...)
	in = append(in, responses.UserMessage(prompt))
	req := m.request(in)
	req.ToolChoice = responses.ToolChoiceMode("none")
	req.Text = nil // plain text, whatever format the run asks for
	req.Store = responses.Ptr(false)
	return req
}

// compacted applies a compaction's result. A compaction that failed (other
// than by the run's end) is skipped: the run goes on with the uncompacted
// context, and tries again after its next response; the driver logs it.
func (m *Machine) compacted(o Compacted) []Action {
	m.addUsage(m.cfg.Model, o.Usage)
	if o.NoEndpoint {
		m.compact.noEndpoint = true
	}
	items, err := o.Output, o.Err
	if err == nil && len(items) == 0 {
		items, err = m.summaryItems(o.Summary)
		if o.Summary != nil {
			m.addUsage(modelOf(o.Summary, m.cfg.Model), o.Summary.Usage)
		}
	}
	if err != nil {
		if isCanceled(err) {
			m.st.Input = m.input
			return m.finish(nil, fmt.Errorf("compact: %w", err))
		}
		return m.send(nil)
	}
	if m.cfg.Stateless {
		m.st.Transcript = nil // the compacted items replace it
	} else {
		m.st.PreviousResponseID = "" // the compacted items are the whole context
	}
	m.input = items
	ev := Event{Kind: EventCompacted, Usage: o.Usage}
	if o.Summary != nil {
		ev.Usage = o.Summary.Usage
	}
	it := items[len(items)-1]
	ev.Item = &it
	return m.send([]Action{m.emit(ev)})
}

// summaryItems returns the run's user messages followed by the summary of a
// summarising turn.
func (m *Machine) summaryItems(resp *responses.Response) ([]responses.Item, error) {
	if resp == nil {
		return nil, errors.New("the compaction returned no items")
	}
	if err := responseError(resp); err != nil {
		return nil, fmt.Errorf("summarising turn: %w", err)
	}
	summary := resp.OutputText()
	if summary == "" {
		return nil, errors.New("summarising turn: the model returned no summary")
	}
	out := make([]responses.Item, 0, len(m.compact.users)+1)
	out = append(out, m.compact.users...)
	out = append(out, responses.UserMessage(summaryPrefix+summary))
	return out, nil
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
func (m *Machine) conversation() string {
	req := m.cfg.Request
	m.st.Params.apply(&req)
	return req.Conversation
}
