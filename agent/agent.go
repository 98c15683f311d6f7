package agent

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Client is what the loop needs from a Responses transport.
// [*responses.Client] implements it; other transports (a recorded
// conversation, another HTTP stack) can too, building their streams with
// [responses.NewStream].
//
// Compact is the API's compact endpoint (POST /responses/compact), used by
// [Compaction]. A transport without it returns an [*responses.APIError]
// with status 404 (or 405, 501), and the loop compacts by a summarising
// turn instead.
type Client interface {
	Create(ctx context.Context, req *responses.Request) (*responses.Response, error)
	Stream(ctx context.Context, req *responses.Request) (*responses.Stream, error)
	Compact(ctx context.Context, req *responses.CompactRequest) (*responses.Compaction, error)
}

var _ Client = (*responses.Client)(nil)

// Options configures an [Agent]. The zero value of every field means the
// documented default.
type Options struct {
	// Name names the agent in events, middleware and the RunState. An
	// agent others hand off to needs one. Optional otherwise.
	Name string
	// Description says what the agent is for; it describes the agent to
	// a model that may hand off to it or call it as a tool.
	Description string

	// Instructions are sent with every request (they are not inherited
	// through previous_response_id).
	Instructions string

	// Tools are the tools the model may call. Two tools that route the same
	// calls (same function name, or two shell tools) make New panic.
	Tools []tools.Tool
	// Toolsets supply tools that may change between turns (MCP servers);
	// they are listed again before every request.
	Toolsets []tools.Toolset

	// Handoffs are the agents the model may hand the run to; see
	// [Handoff].
	Handoffs []Handoff

	// Approver decides calls whose tool asks for approval and hosted MCP
	// approval requests. Nil declines every such call with a message that
	// no approver is configured.
	Approver Approver

	// Approved lists approval keys ([tools.ApprovalRequest.Key]) granted
	// "always" before the agent starts, for example restored from a saved
	// session; see [Agent.Approved].
	Approved []string

	// MaxTurns bounds the number of requests of one run. Zero means 32; a
	// negative value means no bound (use a token or time budget instead).
	MaxTurns int
	// MaxParallel bounds the calls of one response that run at once. Zero
	// means 8; one runs calls one at a time.
	MaxParallel int
	// ParallelToolCalls is sent as parallel_tool_calls. Nil sends true. When
	// false, calls also run one at a time.
	ParallelToolCalls *bool

	// Stateless sends store:false and the whole transcript on every request
	// (with reasoning items and their encrypted content in place), instead
	// of chaining by previous_response_id.
	Stateless bool
	// DisableStreaming uses non-streaming create. Streaming (the default)
	// yields text deltas as they arrive and starts each call as soon as its
	// item is complete.
	DisableStreaming bool

	// Request holds the other create parameters, sent on every request:
	// Include, MaxOutputTokens, Metadata, Reasoning, Temperature, Text,
	// ToolChoice, TopP, Truncation, Prompt, Conversation and Extra. Its
	// Model, Input, Instructions, Tools, Store, Stream, ParallelToolCalls and
	// PreviousResponseID are set by the loop and ignored here.
	Request responses.Request

	// StopAtTools ends the run after a call of one of these tools has run;
	// the run's final text is that call's output.
	StopAtTools []string

	// ToolTimeout bounds each call. Zero means no bound beyond the tool's
	// own (function tools and shell commands have their own timeouts).
	ToolTimeout time.Duration

	// MaxTotalTokens ends the run cleanly once the tokens used by its
	// responses reach it. Zero means no budget.
	MaxTotalTokens int64
	// MaxDuration ends the run cleanly after a turn that finishes past it.
	// Zero means no budget. (Use a context deadline to stop mid-turn.)
	MaxDuration time.Duration

	// Compaction compacts the context of a long run before it outgrows
	// the model's window; see [Compaction]. The zero value never compacts.
	Compaction Compaction

	// Middleware wraps runs, model requests and tool calls (tracing,
	// guardrails, hooks), outermost first; see [Middleware].
	Middleware []Middleware

	// InputGuardrails, OutputGuardrails and ToolGuardrails check the
	// run's input, its final output and each tool call; a trip ends the
	// run with a [*TripwireError]. They run inside Middleware. See
	// [InputGuardrail].
	InputGuardrails  []InputGuardrail
	OutputGuardrails []OutputGuardrail
	ToolGuardrails   []ToolGuardrail

	// Logger receives debug logs and recovered tool panics. Nil discards.
	Logger *slog.Logger
}

// An Agent runs a model with tools. It is safe for concurrent use: several
// runs may share one Agent. "Approve always" decisions are remembered by the
// Agent for its lifetime.
type Agent struct {
	client Client
	model  string
	opts   Options
	log    *slog.Logger

	static *router // the tools of Options.Tools, routed once

	hasModelMW, hasToolMW, hasEventMW, hasApproveMW bool

	mu     sync.Mutex
	always map[string]bool // approval keys approved for the session
}

// New returns an Agent that calls model through client. A nil opts uses the
// defaults. New panics if two tools route the same calls.
func New(client Client, model string, opts *Options) *Agent {
	a := &Agent{client: client, model: model, always: map[string]bool{}}
	if opts != nil {
		a.opts = *opts
		a.opts.Tools = slices.Clone(opts.Tools)
		a.opts.Toolsets = slices.Clone(opts.Toolsets)
		a.opts.StopAtTools = slices.Clone(opts.StopAtTools)
		a.opts.Middleware = slices.Clone(opts.Middleware)
		a.opts.Handoffs = slices.Clone(opts.Handoffs)
	}
	for _, h := range a.opts.Handoffs {
		a.opts.Tools = append(a.opts.Tools, newHandoffTool(h))
	}
	if mw, ok := guardrails(&a.opts); ok {
		a.opts.Middleware = append(a.opts.Middleware, mw)
	}
	for _, mw := range a.opts.Middleware {
		a.hasModelMW = a.hasModelMW || mw.Model != nil
		a.hasToolMW = a.hasToolMW || mw.Tool != nil
		a.hasEventMW = a.hasEventMW || mw.Event != nil
		a.hasApproveMW = a.hasApproveMW || mw.Approve != nil
	}
	switch {
	case a.opts.MaxTurns == 0:
		a.opts.MaxTurns = 32
	case a.opts.MaxTurns < 0:
		a.opts.MaxTurns = math.MaxInt
	}
	if a.opts.MaxParallel <= 0 {
		a.opts.MaxParallel = 8
	}
	for _, k := range a.opts.Approved {
		a.always[k] = true
	}
	a.log = a.opts.Logger
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	rt, err := newRouter(a.opts.Tools)
	if err != nil {
		panic("agent.New: " + err.Error())
	}
	a.static = rt
	return a
}

// Model returns the model the agent calls.
func (a *Agent) Model() string { return a.model }

// Client returns the transport the agent calls the model through.
func (a *Agent) Client() Client { return a.client }

// Name returns Options.Name.
func (a *Agent) Name() string { return a.opts.Name }

// WrapModel returns h wrapped in the agent's Model middleware (and its
// input guardrails' part of it), for a driver that sends model requests
// itself (a durable workflow's activity). The Run middleware is the
// driver's to apply.
func (a *Agent) WrapModel(h ModelHandler) ModelHandler {
	for _, mw := range slices.Backward(a.opts.Middleware) {
		if mw.Model != nil {
			h = mw.Model(h)
		}
	}
	return h
}

// WrapTool returns h wrapped in the agent's Tool middleware and tool
// guardrails, for a driver that runs calls itself.
func (a *Agent) WrapTool(h ToolHandler) ToolHandler {
	for _, mw := range slices.Backward(a.opts.Middleware) {
		if mw.Tool != nil {
			h = mw.Tool(h)
		}
	}
	return h
}

// Config returns the configuration the loop's rules read ([Machine]).
func (a *Agent) Config() Config {
	o := &a.opts
	return Config{
		Agent:             o.Name,
		Model:             a.model,
		Instructions:      o.Instructions,
		Request:           o.Request,
		MaxTurns:          o.MaxTurns,
		MaxParallel:       o.MaxParallel,
		ParallelToolCalls: o.ParallelToolCalls,
		Stateless:         o.Stateless,
		StopAtTools:       o.StopAtTools,
		MaxTotalTokens:    o.MaxTotalTokens,
		MaxDuration:       o.MaxDuration,
		Compaction:        o.Compaction,
	}
}

// Tools returns the tools of the agent's next turn, with what the loop's
// rules need to know of each: the static tools and those its toolsets list
// now. A driver other than [Agent.Run] (a durable workflow) uses it to
// answer [ListTools] and to find the tool of a call ([ToolFor]).
func (a *Agent) Tools(ctx context.Context) ([]tools.Tool, []ToolInfo, error) {
	rt, err := a.router(ctx)
	if err != nil {
		return nil, nil, err
	}
	return rt.tools, rt.infos, nil
}

func (a *Agent) rememberAlways(key string) {
	if key == "" {
		return
	}
	a.mu.Lock()
	a.always[key] = true
	a.mu.Unlock()
}

// Approved returns the approval keys granted "always" so far (given in
// Options.Approved or answered by the approver), sorted, so that a program
// can save them with a session.
func (a *Agent) Approved() []string { return a.alwaysKeys() }

func (a *Agent) alwaysKeys() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := make([]string, 0, len(a.always))
	for k := range a.always {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Approver decides whether a call may run. The CLI's terminal prompt, an
// allow-list policy and a web UI that answers later are all Approvers.
//
// Approve is called from the loop's scheduling goroutine, one request at a
// time per run, in call order.
type Approver interface {
	Approve(ctx context.Context, req tools.ApprovalRequest) (Approval, error)
}

// ApproverFunc adapts a function to [Approver].
type ApproverFunc func(ctx context.Context, req tools.ApprovalRequest) (Approval, error)

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, req tools.ApprovalRequest) (Approval, error) {
	return f(ctx, req)
}

// Approval is an approver's answer.
type Approval struct {
	Approved bool `json:"approved"`
	// Always remembers the approval for the request's Key for the rest of
	// the session (the Agent's lifetime, and any RunState resumed from it).
	Always bool `json:"always,omitempty"`
	// Reason is told to the model when the call is declined.
	Reason string `json:"reason,omitempty"`
	// Defer means the approver cannot answer now: the run stops after the
	// other calls of the turn with [Result.Pending] set, and [Agent.Resume]
	// continues it once decisions are known.
	Defer bool `json:"defer,omitempty"`
}

// Approve, Deny and Defer are convenient Approval values.
var (
	Approve = Approval{Approved: true}
	Defer   = Approval{Defer: true}
)

// Deny returns an Approval that declines with reason.
func Deny(reason string) Approval { return Approval{Reason: reason} }

// AutoApprove is an Approver that approves everything. Use it only where
// every tool is safe to run unattended.
var AutoApprove Approver = ApproverFunc(func(context.Context, tools.ApprovalRequest) (Approval, error) {
	return Approve, nil
})

// router maps call items to tools.
type router struct {
	byKey map[string]tools.Tool
	tools []tools.Tool
	infos []ToolInfo
}

// tool returns the tool of a call the Machine routed.
func (r *router) tool(call responses.Item) tools.Tool { return r.byKey[callRouteKey(call)] }

// ToolFor returns the tool among ts that answers call, as the loop routes
// it: function and custom calls by name, the others by item type.
func ToolFor(ts []tools.Tool, call responses.Item) (tools.Tool, bool) {
	key := callRouteKey(call)
	for _, t := range ts {
		if routeKey(t.Definition()) == key {
			return t, true
		}
	}
	return nil, false
}

// Info returns what the loop's rules need to know of a tool.
func Info(t tools.Tool) ToolInfo {
	info := ToolInfo{Definition: t.Definition()}
	if ps, ok := t.(tools.ParallelSafe); ok && !ps.ParallelSafe() {
		info.Exclusive = true
	}
	_, info.Reviews = t.(tools.Reviewer)
	_, info.Declines = t.(tools.Decliner)
	if h, ok := t.(handoffTool); ok {
		info.Handoff = h.h.Agent.opts.Name
	}
	if id, ok := t.(tools.Idempotent); ok {
		info.Idempotent = id.Idempotent()
	}
	return info
}

// routeKey returns the key under which a tool definition receives calls, or
// "" for definition-only (hosted) tools.
func routeKey(def responses.ToolDefinition) string {
	switch def.Type {
	case "function":
		return responses.TypeFunctionCall + "/" + def.Name
	case "custom":
		return responses.TypeCustomToolCall + "/" + def.Name
	case "shell":
		return responses.TypeShellCall
	case "local_shell":
		return responses.TypeLocalShellCall
	case "apply_patch":
		return responses.TypeApplyPatchCall
	case "computer", "computer_use_preview":
		return responses.TypeComputerCall
	}
	return ""
}

// callRouteKey returns the routing key of a call item.
func callRouteKey(it responses.Item) string {
	switch it.Type {
	case responses.TypeFunctionCall, responses.TypeCustomToolCall:
		return it.Type + "/" + it.Name
	}
	return it.Type
}

func newRouter(ts []tools.Tool) (*router, error) {
	r := &router{byKey: make(map[string]tools.Tool, len(ts)), tools: ts, infos: make([]ToolInfo, len(ts))}
	for i, t := range ts {
		r.infos[i] = Info(t)
		key := routeKey(r.infos[i].Definition)
		if key == "" {
			continue
		}
		if _, dup := r.byKey[key]; dup {
			return nil, fmt.Errorf("two tools handle %s", key)
		}
		r.byKey[key] = t
	}
	return r, nil
}

// tools lists the static tools and those of every toolset.
func (a *Agent) router(ctx context.Context) (*router, error) {
	if len(a.opts.Toolsets) == 0 {
		return a.static, nil
	}
	all := slices.Clone(a.opts.Tools)
	for _, ts := range a.opts.Toolsets {
		more, err := ts.Tools(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tools: %w", err)
		}
		all = append(all, more...)
	}
	return newRouter(all)
}
