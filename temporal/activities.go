package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Activity names, as the workflow schedules them.
const (
	ListToolsActivity = "agentloop.ListTools"
	ModelActivity     = "agentloop.Model"
	CompactActivity   = "agentloop.Compact"
	ReviewActivity    = "agentloop.Review"
	HandOffActivity   = "agentloop.HandOff"
	CallActivity      = "agentloop.Call"
	DeclineActivity   = "agentloop.Decline"
)

// Error types of the activities' application errors.
const (
	// ErrTypeAPI is a model request that failed with an HTTP status; the
	// error's details hold the status.
	ErrTypeAPI = "ResponsesAPIError"
	// ErrTypePreviousResponseNotFound is a 400 previous_response_not_found:
	// the server no longer has the response the request chained to.
	ErrTypePreviousResponseNotFound = "PreviousResponseNotFound"
	// ErrTypeModel is any other failed model request (the network, a
	// broken stream); it is retried.
	ErrTypeModel = "ModelError"
	// ErrTypeMiddleware is a model request that the agent's Model
	// middleware refused (an input guardrail, a policy): not retried.
	ErrTypeMiddleware = "MiddlewareError"
)

// ToolSpec is what the workflow knows of one tool of a turn: what the
// Machine needs ([agent.ToolInfo]; Info.Idempotent says whether its calls
// are retried after a crash) and how its calls are scheduled, from
// [WorkerOptions.Tools] under Info.Name().
type ToolSpec struct {
	Info    agent.ToolInfo
	Options ToolOptions
}

// UnmarshalJSON reads the Idempotent field that ToolSpec had beside Info
// in listings recorded by an earlier version of this package.
func (s *ToolSpec) UnmarshalJSON(b []byte) error {
	type plain ToolSpec
	var v struct {
		plain
		Idempotent bool
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = ToolSpec(v.plain)
	s.Info.Idempotent = s.Info.Idempotent || v.Idempotent
	return nil
}

// ToolsListed is the result of the ListTools activity.
type ToolsListed struct {
	Tools []ToolSpec
}

// ModelInput is the input of the model activity.
type ModelInput struct {
	Request *responses.Request
	Turn    int
	Agent   string `json:",omitempty"` // the agent in charge, whose client sends
}

// MarshalJSON carries Request.Extra, which [responses.Request] does not
// decode, beside the request.
func (in ModelInput) MarshalJSON() ([]byte, error) {
	type plain ModelInput
	var extra map[string]any
	if in.Request != nil {
		extra = in.Request.Extra
	}
	return json.Marshal(struct {
		plain
		RequestExtra map[string]any `json:",omitempty"`
	}{plain(in), extra})
}

// UnmarshalJSON restores what MarshalJSON wrote.
func (in *ModelInput) UnmarshalJSON(b []byte) error {
	type plain ModelInput
	var v struct {
		plain
		RequestExtra map[string]any
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*in = ModelInput(v.plain)
	if in.Request != nil {
		in.Request.Extra = v.RequestExtra
	}
	return nil
}

// AgentInput names the agent in charge (its Options.Name; empty for the
// worker's agent).
type AgentInput struct{ Agent string }

// HandOffInput is a handoff the Machine asked for ([agent.HandOff]): the
// agent in charge (From) hands the run to To.
type HandOffInput struct {
	From, To  string
	Arguments json.RawMessage  `json:",omitempty"` // the handoff call's arguments, for OnHandoff
	History   []responses.Item `json:",omitempty"` // what the handoff's filter filters
}

// HandOffOutput is the configuration of the agent now in charge and, when
// the handoff has a filter (Filtered), the history its first request
// sends in place of the chain.
type HandOffOutput struct {
	Config   agent.Config
	History  []responses.Item `json:",omitempty"`
	Filtered bool             `json:",omitempty"`
}

// MarshalJSON carries Config.Request.Extra, which [responses.Request]
// does not decode.
func (o HandOffOutput) MarshalJSON() ([]byte, error) {
	type plain HandOffOutput
	return json.Marshal(struct {
		plain
		RequestExtra map[string]any `json:",omitempty"`
	}{plain(o), o.Config.Request.Extra})
}

// UnmarshalJSON restores what MarshalJSON wrote.
func (o *HandOffOutput) UnmarshalJSON(b []byte) error {
	type plain HandOffOutput
	var v struct {
		plain
		RequestExtra map[string]any
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = HandOffOutput(v.plain)
	o.Config.Request.Extra = v.RequestExtra
	return nil
}

// CallInput is the input of the review, call and decline activities.
type CallInput struct {
	Agent string // the agent in charge, whose tools answer
	// RunID is the workflow id of the run: with the call's id it makes the
	// idempotency key, the same on every attempt and after continue-as-new.
	RunID  string
	Item   responses.Item
	Reason string // DeclineActivity: why the call was refused
}

// CallOutput is what a tool returned for one call.
type CallOutput struct {
	Output   responses.Item
	Err      string        // the tool's error, if any
	Outcome  tools.Outcome // the outcome the error stands for
	Duration time.Duration
	// Tripwire and Guardrail say that a tool guardrail ended the run:
	// it tripped ([agent.TripwireError]), or failed ([agent.GuardrailError]:
	// the guardrail's name and its error).
	Tripwire  *agent.TripwireError `json:",omitempty"`
	Guardrail []string             `json:",omitempty"`
	// Truncated is the number of bytes of the output that were left out
	// to keep it under the payload limit.
	Truncated int
}

// ReviewOutput is a tool's verdict on a call.
type ReviewOutput struct {
	Decision tools.Decision
	Reason   string
	Outcome  tools.Outcome // of a denial; empty means denied
	Request  tools.ApprovalRequest
	Err      string // Review itself failed
}

// CompactInput and CompactOutput carry a compaction.
type CompactInput struct {
	Agent    string `json:",omitempty"` // the agent in charge, whose client sends
	Endpoint *responses.CompactRequest
	Summary  *responses.Request
	// SummaryExtra is Summary.Extra, which [responses.Request] does not
	// decode.
	SummaryExtra map[string]any `json:",omitempty"`
}

type CompactOutput struct {
	Output     []responses.Item
	Summary    *responses.Response
	Usage      *responses.Usage
	NoEndpoint bool
	Err        string
}

// activities are the worker's side of a run: they read the worker's agent.
type activities struct {
	a    *agent.Agent
	opts WorkerOptions
}

// agent returns the agent named name: the worker's agent, an agent it can
// hand off to (transitively), or one of WorkerOptions.Agents and theirs.
func (x *activities) agent(name string) (*agent.Agent, error) {
	if name == "" {
		return x.a, nil
	}
	if a, ok := x.a.Find(name); ok {
		return a, nil
	}
	for _, o := range x.opts.Agents {
		if a, ok := o.Find(name); ok {
			return a, nil
		}
	}
	return nil, fmt.Errorf("this worker has no agent named %q (neither its agent nor one it hands off to; add it to WorkerOptions.Agents)", name)
}

// client returns the transport of a's model requests: WorkerOptions.Client
// when set, else a's own.
func (x *activities) client(a *agent.Agent) agent.Client {
	if x.opts.Client != nil {
		return x.opts.Client
	}
	return a.Client()
}

// handOff performs a handoff as the in-process loop does: the handoff's
// OnHandoff runs with the call's arguments (its error ends the run), and
// its filter, if any, decides what history the target sees.
func (x *activities) handOff(ctx context.Context, in HandOffInput) (*HandOffOutput, error) {
	from, err := x.agent(in.From)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownAgent", nil)
	}
	h, ok := from.HandoffTo(in.To)
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("agent %q cannot hand off to %q", in.From, in.To), "UnknownAgent", nil)
	}
	if h.OnHandoff != nil {
		if err := h.OnHandoff(ctx, in.Arguments); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), "OnHandoffError", nil)
		}
	}
	out := &HandOffOutput{Config: h.Agent.Config()}
	if f := h.Filter; f.DropTools || f.LastMessages != 0 || f.Func != nil {
		out.History, out.Filtered = h.Filter.Apply(in.History), true
	}
	return out, nil
}

func (x *activities) listTools(ctx context.Context, in AgentInput) (*ToolsListed, error) {
	a, err := x.agent(in.Agent)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownAgent", nil)
	}
	ts, infos, err := a.Tools(ctx)
	if err != nil {
		return nil, temporal.NewApplicationErrorWithOptions(err.Error(), "ListToolsError", temporal.ApplicationErrorOptions{Cause: err})
	}
	out := &ToolsListed{Tools: make([]ToolSpec, len(ts))}
	for i := range ts {
		out.Tools[i] = ToolSpec{Info: infos[i], Options: x.opts.toolOptions(infos[i].Name())}
	}
	return out, nil
}

// model sends one request through the Model middleware of the worker's
// agent (the run keeps the middleware of the agent it started with, as in
// process) with the client's own retries off (a zero retry budget),
// streaming and heartbeating as events arrive; Temporal's retry policy is
// the one retry mechanism. An error of the middleware itself (a guardrail
// that refused) is not retried.
func (x *activities) model(ctx context.Context, in ModelInput) (*responses.Response, error) {
	ctx = responses.WithRetryBudget(ctx, &responses.RetryBudget{})
	if in.Request == nil {
		return nil, temporal.NewNonRetryableApplicationError("no request", ErrTypeModel, nil)
	}
	a, err := x.agent(in.Agent)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownAgent", nil)
	}
	client := x.client(a)
	send := func(ctx context.Context, call *agent.ModelCall) (*responses.Response, error) {
		var resp *responses.Response
		var err error
		if x.opts.DisableStreaming {
			resp, err = client.Create(ctx, call.Request)
		} else {
			resp, err = stream(ctx, client, call.Request)
		}
		if err != nil {
			return nil, &transportError{err}
		}
		return resp, nil
	}
	req := *in.Request
	defer heartbeat(ctx)() // also while the server thinks before its first event
	call := &agent.ModelCall{Agent: in.Agent, Turn: in.Turn, Request: &req, Retry: activity.GetInfo(ctx).Attempt > 1}
	resp, err := x.a.WrapModel(send)(ctx, call)
	var te *transportError
	switch {
	case err == nil:
		return resp, nil
	case errors.As(err, &te):
		return nil, modelError(te.err)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeMiddleware, err)
}

// transportError marks an error of the model request itself, as opposed
// to one of the middleware around it.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func stream(ctx context.Context, client agent.Client, req *responses.Request) (*responses.Response, error) {
	s, err := client.Stream(ctx, req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	n := 0
	for s.Next() {
		n++
		activity.RecordHeartbeat(ctx, n) // throttled by the SDK
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	resp := s.Response()
	if resp == nil {
		return nil, errors.New("stream ended without a response")
	}
	return resp, nil
}

// APIErrorDetails are the details of an [ErrTypeAPI] error.
type APIErrorDetails struct {
	StatusCode int
	Code       string
	Message    string
}

// modelError classifies a failed model request for Temporal's retry
// policy: 408, 409, 429 and 5xx (but 501 and 505) are retried, after the
// wait the server asked for when it asked for one; other statuses, and a
// 429 for insufficient quota, are not.
func modelError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var apiErr *responses.APIError
	if !errors.As(err, &apiErr) {
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeModel, temporal.ApplicationErrorOptions{Cause: err})
	}
	details := APIErrorDetails{StatusCode: apiErr.StatusCode, Code: apiErr.Code, Message: apiErr.Message}
	typ := ErrTypeAPI
	if apiErr.Code == "previous_response_not_found" {
		typ = ErrTypePreviousResponseNotFound
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), typ, temporal.ApplicationErrorOptions{
		NonRetryable:   !retryableStatus(apiErr),
		NextRetryDelay: apiErr.RetryAfter,
		Details:        []any{details},
	})
}

func retryableStatus(e *responses.APIError) bool {
	if e.Code == "insufficient_quota" {
		return false
	}
	switch s := e.StatusCode; {
	case s == 0: // an error event in a stream: the server's trouble
		return true
	case s == http.StatusRequestTimeout, s == http.StatusConflict, s == http.StatusTooManyRequests:
		return true
	case s == http.StatusNotImplemented, s == http.StatusHTTPVersionNotSupported:
		return false
	case s >= 500:
		return true
	}
	return false
}

func (x *activities) compact(ctx context.Context, in CompactInput) (*CompactOutput, error) {
	ctx = responses.WithRetryBudget(ctx, &responses.RetryBudget{})
	a, err := x.agent(in.Agent)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownAgent", nil)
	}
	client := x.client(a)
	var c CompactOutput
	if in.Endpoint != nil {
		out, err := client.Compact(ctx, in.Endpoint)
		var apiErr *responses.APIError
		switch {
		case err == nil && len(out.Output) == 0:
			c.Err = "the compact endpoint returned no items"
		case err == nil:
			c.Output, c.Usage = out.Output, out.Usage
			return &c, nil
		case errors.As(err, &apiErr) && (apiErr.StatusCode == 404 || apiErr.StatusCode == 405 || apiErr.StatusCode == 501):
			c.NoEndpoint = true
		default:
			return nil, modelError(err)
		}
	}
	if c.Err == "" && in.Summary != nil {
		in.Summary.Extra = in.SummaryExtra
		resp, err := client.Create(ctx, in.Summary)
		if err != nil {
			return nil, modelError(err)
		}
		c.Summary = resp
	}
	return &c, nil
}

// tool finds the tool of a call among the tools of now of the agent in
// charge.
func (x *activities) tool(ctx context.Context, name string, it responses.Item) (tools.Tool, error) {
	a, err := x.agent(name)
	if err != nil {
		return nil, err
	}
	ts, _, err := a.Tools(ctx)
	if err != nil {
		return nil, err
	}
	t, ok := agent.ToolFor(ts, it)
	if !ok {
		return nil, fmt.Errorf("%w: no tool of this worker answers %s %q", tools.ErrUnknownTool, it.Type, it.Name)
	}
	return t, nil
}

func (x *activities) review(ctx context.Context, in CallInput) (*ReviewOutput, error) {
	call := tools.NewCall(in.Item)
	t, err := x.tool(ctx, in.Agent, in.Item)
	if err != nil {
		return &ReviewOutput{Err: err.Error()}, nil
	}
	r, ok := t.(tools.Reviewer)
	if !ok {
		return &ReviewOutput{Decision: tools.Allow}, nil
	}
	rv, err := r.Review(ctx, call)
	if err != nil {
		return &ReviewOutput{Err: err.Error()}, nil
	}
	out := &ReviewOutput{Decision: rv.Decision, Reason: rv.Reason, Request: rv.Request}
	if rv.Err != nil {
		out.Outcome = tools.OutcomeOf(rv.Err)
	}
	return out, nil
}

func (x *activities) decline(ctx context.Context, in CallInput) (*CallOutput, error) {
	call := tools.NewCall(in.Item)
	t, err := x.tool(ctx, in.Agent, in.Item)
	if err != nil {
		return &CallOutput{Err: err.Error(), Outcome: tools.OutcomeOf(err)}, nil
	}
	d, ok := t.(tools.Decliner)
	if !ok {
		return &CallOutput{Err: "the tool builds no output for a declined call", Outcome: tools.OutcomeError}, nil
	}
	out, err := d.Declined(ctx, call, in.Reason)
	co := &CallOutput{Output: out}
	if err != nil {
		co.Err, co.Outcome = err.Error(), tools.OutcomeOf(err)
	}
	return co, nil
}

// call runs one approved call through the Tool middleware and tool
// guardrails of the worker's agent: the attempt (idempotency key and
// number) in its context, heartbeats while it runs, a panic turned into an
// error output, and an output over the size limit cut to its head and
// tail.
func (x *activities) call(ctx context.Context, in CallInput) (*CallOutput, error) {
	info := activity.GetInfo(ctx)
	call := tools.NewCall(in.Item)
	t, err := x.tool(ctx, in.Agent, in.Item)
	if err != nil {
		return &CallOutput{Output: tools.FailedOutput(call, err), Err: err.Error(), Outcome: tools.OutcomeOf(err)}, nil
	}
	ctx = tools.WithAttempt(ctx, tools.Attempt{Key: in.RunID + "/" + call.CallID, Number: int(info.Attempt)})
	call.Progress = func(p tools.Progress) { activity.RecordHeartbeat(ctx, p) }

	defer heartbeat(ctx)()
	start := time.Now()
	out, err := x.a.WrapTool(func(ctx context.Context, call tools.Call) (responses.Item, error) {
		return invoke(ctx, t, call)
	})(ctx, call)
	co := &CallOutput{Output: out, Duration: time.Since(start)}
	if err != nil {
		co.Err, co.Outcome = err.Error(), tools.OutcomeOf(err)
		var tw *agent.TripwireError
		var ge *agent.GuardrailError
		switch {
		case errors.As(err, &tw):
			co.Tripwire = tw
		case errors.As(err, &ge):
			co.Guardrail = []string{ge.Guardrail, fmt.Sprint(ge.Err)}
		}
	}
	co.Output, co.Truncated = limitOutput(co.Output, x.opts.maxOutputBytes())
	if ctx.Err() != nil && co.Output.IsZero() {
		return co, ctx.Err()
	}
	return co, nil
}

// heartbeat heartbeats every third of the activity's heartbeat timeout
// until the returned function is called: the process is alive, so the
// activity is.
func heartbeat(ctx context.Context) (stop func()) {
	hb := activity.GetInfo(ctx).HeartbeatTimeout
	if hb <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(hb / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx, nil)
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

func invoke(ctx context.Context, t tools.Tool, call tools.Call) (out responses.Item, err error) {
	defer func() {
		if p := recover(); p != nil {
			activity.GetLogger(ctx).Error("tool panicked", "call_id", call.CallID, "panic", p, "stack", string(debug.Stack()))
			out, err = responses.Item{}, errors.New("the tool failed with an internal error (panic)")
		}
	}()
	return t.Call(ctx, call)
}

// limitOutput keeps an output item under max bytes of JSON: a larger one
// is replaced by a text output holding the head and tail of its JSON text
// around a marker saying how many bytes were left out. It returns the
// number of bytes left out.
func limitOutput(out responses.Item, max int) (responses.Item, int) {
	raw := out.Raw()
	if out.IsZero() || len(raw) <= max {
		return out, 0
	}
	text := outputText(out)
	budget := max - 1024 // room for the item's other fields and the marker
	if budget < 0 {
		budget = 0
	}
	if len(text) <= budget {
		return out, 0
	}
	head := trimToRune(text[:budget/2], false)
	tail := trimToRune(text[len(text)-(budget-budget/2):], true)
	dropped := len(text) - len(head) - len(tail)
	msg := fmt.Sprintf("%s\n[... %d bytes left out: the output was larger than the %d bytes a durable run keeps ...]\n%s", head, dropped, max, tail)
	call := tools.Call{Type: callTypeOf(out.Type), CallID: out.CallID}
	cut := tools.TextOutput(call, msg, false)
	if cut.IsZero() {
		return out, 0
	}
	return cut, dropped
}

// outputText is the text of an output item: its output string, or its
// JSON.
func outputText(out responses.Item) string {
	var v struct {
		Output any `json:"output"`
	}
	if err := out.Decode(&v); err == nil {
		if s, ok := v.Output.(string); ok {
			return s
		}
	}
	return string(out.Raw())
}

// callTypeOf returns the call item type an output item type answers.
func callTypeOf(outputType string) string {
	switch outputType {
	case responses.TypeFunctionCallOutput:
		return responses.TypeFunctionCall
	case responses.TypeCustomToolCallOutput:
		return responses.TypeCustomToolCall
	}
	const suffix = "_output"
	if n := len(outputType) - len(suffix); n > 0 && outputType[n:] == suffix {
		return outputType[:n]
	}
	return outputType
}

func trimToRune(s string, fromStart bool) string {
	if fromStart {
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
		return s
	}
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}
