package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// AsTool returns a function tool that runs a as a sub-agent: the calling
// agent's model passes an input, a runs its own loop (its instructions,
// tools and chain) and its final text is the call's output. Calls run in
// parallel like any other calls.
//
// Within a run: the sub-agent's events reach the parent's [Agent.Stream]
// with their Path naming the agent tools they came through; the tokens it
// uses count toward the parent's usage and budget; the parent's context
// (deadline, cancellation) bounds it; an approval it needs goes to its own
// Approver, or else to the parent's. A deferred approval inside the
// sub-agent defers the parent's call: its requests appear in the parent's
// [Result.Pending] (Via names the call), and [Agent.Resume] of the parent
// resumes the sub-agent with those decisions.
//
// A sub-agent that stops before it answers (a budget, MaxTurns) gives the
// text it has with an error the model reads.
func (a *Agent) AsTool(name, description string) tools.Tool {
	if description == "" {
		description = a.opts.Description
	}
	def := responses.MustToolDefinition(responses.FunctionTool{
		Type: "function", Name: name, Description: description, Strict: true,
		Parameters: json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"the request for the agent"}},"required":["input"],"additionalProperties":false}`),
	})
	return &agentTool{a: a, def: def}
}

type agentTool struct {
	a   *Agent
	def responses.ToolDefinition
}

func (t *agentTool) Definition() responses.ToolDefinition { return t.def }

func (t *agentTool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	var args struct {
		Arguments string `json:"arguments"`
	}
	if err := call.Item.Decode(&args); err != nil {
		return responses.Item{}, fmt.Errorf("decode function_call: %w", err)
	}
	var in struct {
		Input string `json:"input"`
	}
	if err := json.Unmarshal([]byte(args.Arguments), &in); err != nil {
		return responses.Item{}, fmt.Errorf("invalid arguments: %w", err)
	}
	link, _ := ctx.Value(parentKey{}).(*parentLink)
	var seq func(func(Event, error) bool)
	if link != nil && link.resume != nil {
		seq = t.a.ResumeStream(ctx, link.resume.State, link.resume.Decisions)
	} else {
		seq = t.a.StreamItems(ctx, []responses.Item{responses.UserMessage(in.Input)})
	}
	var res *Result
	var err error
	for ev, e := range seq {
		if ev.Kind == EventRunCompleted {
			res, err = ev.Result, e
			continue
		}
		if link != nil {
			ev.Path = append([]string{t.def.Name}, ev.Path...)
			link.push(ev)
		}
	}
	if res != nil && link != nil {
		link.addUsage(res)
	}
	if err != nil {
		return responses.Item{}, fmt.Errorf("agent %s: %w", t.def.Name, err)
	}
	if res.StopReason == "pending_approval" {
		return responses.Item{}, &pendingError{state: res.State}
	}
	out := tools.Output(call, responses.MustJSON(res.Text))
	switch res.StopReason {
	case "done", "stop_tool":
		return out, nil
	}
	return out, fmt.Errorf("agent %s stopped before it answered (%s)", t.def.Name, res.StopReason)
}

// pendingError defers an agent tool's call: its sub-agent waits for
// approvals.
type pendingError struct{ state *RunState }

func (e *pendingError) Error() string { return "the agent waits for approvals" }

func pendingState(err error) (*RunState, bool) {
	var pe *pendingError
	if errors.As(err, &pe) {
		return pe.state, true
	}
	return nil, false
}

// NestedResume is what an agent tool's call resumes with.
type NestedResume struct {
	State     *RunState
	Decisions []Decision
}

type parentKey struct{}

// parentLink connects a call of an agent tool to the run that made it.
type parentLink struct {
	push     func(Event)
	approver Approver // the parent's, for a sub-agent without its own
	resume   *NestedResume

	mu      sync.Mutex
	usage   responses.Usage
	byModel map[string]responses.Usage
}

func (l *parentLink) addUsage(res *Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.usage.Add(&res.Usage)
	for model, u := range res.UsageByModel {
		if l.byModel == nil {
			l.byModel = make(map[string]responses.Usage)
		}
		sum := l.byModel[model]
		sum.Add(&u)
		l.byModel[model] = sum
	}
}

// used returns what the sub-agent used, in all and by model.
func (l *parentLink) used() (*responses.Usage, map[string]responses.Usage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.usage == (responses.Usage{}) {
		return nil, nil
	}
	u := l.usage
	return &u, maps.Clone(l.byModel)
}
