package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Handoff lets the model hand the run to another agent: it appears to the
// model as a function tool (transfer_to_<name> by default), and when the
// model calls it the same run goes on with the target's instructions,
// tools, model and options from the next request. The call gets its output
// ("Transferred to <name>."), so the conversation stays valid, chained or
// stateless. If a response holds a handoff and other calls, the other calls
// run and the first handoff wins; a second one is answered that it was
// ignored.
//
// The run keeps the [Middleware] of the agent it started with; an agent
// handed to uses its own Approver, or the first agent's when it has none.
type Handoff struct {
	// Agent is the target. It must have a name (Options.Name).
	Agent *Agent
	// ToolName is the tool's name; empty means "transfer_to_" followed by
	// the target's name in lower case with spaces as underscores.
	ToolName string
	// Description tells the model when to hand off; empty means one built
	// from the target's Options.Description.
	Description string
	// Filter decides what history the target sees; the zero value keeps it
	// all. See [HandoffFilter].
	Filter HandoffFilter
	// OnHandoff, when set, runs before the switch with the call's
	// arguments ({"reason": "..."}); an error ends the run.
	OnHandoff func(ctx context.Context, arguments json.RawMessage) error
}

// HandoffFilter decides what history an agent handed to sees. Without one
// (the zero value) it sees everything, as the conversation chains on. With
// one, its first request carries the filtered history of the run (the
// run's input and items, or in stateless mode the whole transcript) in
// place of the chain: earlier runs of the conversation are not included.
type HandoffFilter struct {
	// DropTools leaves out tool calls and their outputs (the handoff's
	// own included) and reasoning.
	DropTools bool
	// LastMessages keeps only the last N items that remain; zero keeps
	// them all.
	LastMessages int
	// Func, when set, filters after the two above (in process only).
	Func func([]responses.Item) []responses.Item
}

func (f HandoffFilter) isZero() bool {
	return !f.DropTools && f.LastMessages == 0 && f.Func == nil
}

// Apply returns what the target of a handoff sees of items.
func (f HandoffFilter) Apply(items []responses.Item) []responses.Item { return f.apply(items) }

func (f HandoffFilter) apply(items []responses.Item) []responses.Item {
	out := make([]responses.Item, 0, len(items))
	for _, it := range items {
		if f.DropTools && (it.IsCall() || it.IsOutput() || it.Type == responses.TypeReasoning ||
			it.Type == responses.TypeMCPApprovalRequest || it.Type == responses.TypeMCPApprovalResponse) {
			continue
		}
		out = append(out, it)
	}
	if n := f.LastMessages; n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	if f.Func != nil {
		out = f.Func(out)
	}
	return out
}

// handoffTool is the function tool a Handoff shows the model. The loop
// answers its calls itself.
type handoffTool struct {
	def responses.ToolDefinition
	h   Handoff
}

var handoffParameters = json.RawMessage(`{"type":"object","properties":{"reason":{"type":"string","description":"why the conversation is handed over"}},"required":["reason"],"additionalProperties":false}`)

func newHandoffTool(h Handoff) handoffTool {
	name := h.Agent.opts.Name
	if name == "" {
		panic("agent: a handoff target needs Options.Name")
	}
	tool := h.ToolName
	if tool == "" {
		tool = "transfer_to_" + strings.ReplaceAll(strings.ToLower(name), " ", "_")
	}
	desc := h.Description
	if desc == "" {
		desc = "Hand the conversation to the " + name + " agent."
		if d := h.Agent.opts.Description; d != "" {
			desc += " " + d
		}
	}
	def := responses.MustToolDefinition(responses.FunctionTool{Type: "function", Name: tool, Description: desc, Parameters: handoffParameters, Strict: true})
	return handoffTool{def: def, h: h}
}

func (t handoffTool) Definition() responses.ToolDefinition { return t.def }

func (t handoffTool) Call(context.Context, tools.Call) (responses.Item, error) {
	return responses.Item{}, fmt.Errorf("%s is a handoff; the loop answers it", t.def.Name)
}

// HandoffTo returns a's handoff to the agent named to, for a driver that
// performs a [HandOff] action itself.
func (a *Agent) HandoffTo(to string) (Handoff, bool) { return a.handoff(to) }

// Find returns the agent named name among a and the agents it can hand off
// to, transitively: the agent a [RunState] names ([RunState.Agent]).
func (a *Agent) Find(name string) (*Agent, bool) {
	f := a.find(name)
	return f, f != nil
}

// find returns the agent named name among a and the agents it can hand off
// to, transitively.
func (a *Agent) find(name string) *Agent {
	seen := map[*Agent]bool{}
	var walk func(*Agent) *Agent
	walk = func(x *Agent) *Agent {
		if x == nil || seen[x] {
			return nil
		}
		seen[x] = true
		if x.opts.Name == name {
			return x
		}
		for _, h := range x.opts.Handoffs {
			if f := walk(h.Agent); f != nil {
				return f
			}
		}
		return nil
	}
	return walk(a)
}

// handoff returns a's handoff to the agent named to.
func (a *Agent) handoff(to string) (Handoff, bool) {
	for _, h := range a.opts.Handoffs {
		if h.Agent.opts.Name == to {
			return h, true
		}
	}
	return Handoff{}, false
}
