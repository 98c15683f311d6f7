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
)

// ToolSpec is what the workflow knows of one tool of a turn: what the
// Machine needs ([agent.ToolInfo]) and how its calls are scheduled.
type ToolSpec struct {
	Info agent.ToolInfo
	// Idempotent: the tool said so ([tools.Idempotent]). Its calls are
	// retried after a crash; the others run at most once.
	Idempotent bool
	// Name is the tool's name as calls route to it (the function name, or
	// the item type of a built-in tool).
	Name    string
	Options ToolOptions
}

// ToolsListed is the result of the ListTools activity.
type ToolsListed struct {
	Tools []ToolSpec
}

// ModelInput is the input of the model activity.
type ModelInput struct {
	Request *responses.Request
	Turn    int
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

// HandOffInput asks for the configuration of the agent a run hands off to.
type HandOffInput struct{ From, To string }

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
	a      *agent.Agent
	client agent.Client
	opts   WorkerOptions
}

// agent returns the agent named name: the worker's agent, or one of
// WorkerOptions.Agents.
func (x *activities) agent(name string) (*agent.Agent, error) {
	if name == "" || name == x.a.Config().Agent {
		return x.a, nil
	}
	for _, a := range x.opts.Agents {
		if a.Config().Agent == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("this worker has no agent named %q (add it to WorkerOptions.Agents)", name)
}

// handOff returns the configuration of the agent a run hands off to.
func (x *activities) handOff(ctx context.Context, in HandOffInput) (*agent.Config, error) {
	a, err := x.agent(in.To)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "UnknownAgent", nil)
	}
	cfg := a.Config()
	return &cfg, nil
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
	for i, t := range ts {
		spec := ToolSpec{Info: infos[i], Name: toolName(infos[i].Definition)}
		if id, ok := t.(tools.Idempotent); ok {
			spec.Idempotent = id.Idempotent()
		}
		spec.Options = x.opts.toolOptions(spec.Name)
		out.Tools[i] = spec
	}
	return out, nil
}

func toolName(def responses.ToolDefinition) string {
	if def.Name != "" {
		return def.Name
	}
	return def.Type
}

// model sends one request with the client's own retries off (a zero retry
// budget), streaming and heartbeating as events arrive; Temporal's retry
// policy is the one retry mechanism.
func (x *activities) model(ctx context.Context, in ModelInput) (*responses.Response, error) {
	ctx = responses.WithRetryBudget(ctx, &responses.RetryBudget{})
	if in.Request == nil {
		return nil, temporal.NewNonRetryableApplicationError("no request", ErrTypeModel, nil)
	}
	req := *in.Request
	defer heartbeat(ctx)() // also while the server thinks before its first event
	var resp *responses.Response
	var err error
	if x.opts.DisableStreaming {
		resp, err = x.client.Create(ctx, &req)
	} else {
		resp, err = x.stream(ctx, &req)
	}
	if err != nil {
		return nil, modelError(err)
	}
	return resp, nil
}

func (x *activities) stream(ctx context.Context, req *responses.Request) (*responses.Response, error) {
	s, err := x.client.Stream(ctx, req)
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
	var c CompactOutput
	if in.Endpoint != nil {
		out, err := x.client.Compact(ctx, in.Endpoint)
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
		resp, err := x.client.Create(ctx, in.Summary)
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

// call runs one approved call: the attempt (idempotency key and number) in
// its context, heartbeats while it runs, a panic turned into an error
// output, and an output over the size limit cut to its head and tail.
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
	out, err := invoke(ctx, t, call)
	co := &CallOutput{Output: out, Duration: time.Since(start)}
	if err != nil {
		co.Err, co.Outcome = err.Error(), tools.OutcomeOf(err)
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
