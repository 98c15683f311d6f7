package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Hosted returns a tool the server runs, for [Options.Tools]: def (built
// from [responses.WebSearchTool], [responses.FileSearchTool],
// [responses.CodeInterpreterTool], [responses.ImageGenerationTool],
// [responses.HostedShell], a hosted MCP server, ...) goes into every
// request's tools, and the loop never executes its calls: their items are
// kept (and replayed unchanged in stateless mode), and their progress is
// reported as [EventHostedTool] events.
//
// Hosted panics if def is not valid JSON with a type, a programmer error.
func Hosted(def any) tools.Tool {
	d, err := responses.NewToolDefinition(def)
	if err != nil || d.Type == "" {
		panic(fmt.Sprintf("agent.Hosted: not a tool definition: %v", def))
	}
	return hostedTool{def: d}
}

type hostedTool struct{ def responses.ToolDefinition }

func (h hostedTool) Definition() responses.ToolDefinition { return h.def }

func (h hostedTool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	return responses.Item{}, fmt.Errorf("%s runs on the server; the client cannot execute its calls", h.def.Type)
}

// HostedEvent reports a step of a tool the server runs. Type is the item
// type (web_search_call, file_search_call, code_interpreter_call,
// image_generation_call, shell_call and shell_call_output of a hosted
// shell, mcp_call, mcp_list_tools); the other fields are set when the step
// carries them.
type HostedEvent struct {
	Type   string `json:"type"`
	ItemID string `json:"item_id,omitempty"`
	// Status is the step: in_progress, searching, interpreting,
	// generating, completed, failed, or the item's final status when
	// Item is set.
	Status string `json:"status,omitempty"`

	// Queries are the search queries of a web or file search.
	Queries []string `json:"queries,omitempty"`
	// URL is the page a web search opened or searched in.
	URL string `json:"url,omitempty"`
	// CodeDelta is the next piece of the code the code interpreter will run;
	// Code is the whole code once known.
	CodeDelta string `json:"code_delta,omitempty"`
	Code      string `json:"code,omitempty"`
	// Logs are the code interpreter's log outputs.
	Logs []string `json:"logs,omitempty"`
	// PartialImage is a base64 preview of a generated image, the
	// PartialImageIndex-th (from 0); Image is the final base64 image.
	PartialImage      string `json:"partial_image,omitempty"`
	PartialImageIndex int    `json:"partial_image_index,omitempty"`
	Image             string `json:"image,omitempty"`
	// Commands are the command lines of a hosted shell call; Stdout and
	// Stderr are the pieces of its output as they stream.
	Commands []string `json:"commands,omitempty"`
	Stdout   string   `json:"stdout,omitempty"`
	Stderr   string   `json:"stderr,omitempty"`

	// Item is the finished call item, exactly as received.
	Item *responses.Item `json:"item,omitempty"`
}

// hostedStreamEvent maps a stream event of a hosted tool to a typed event.
func hostedStreamEvent(ev responses.Event) (Event, bool) {
	name, ok := strings.CutPrefix(ev.Type, "response.")
	if !ok {
		return Event{}, false
	}
	h := &HostedEvent{ItemID: ev.ItemID}
	switch {
	case name == "code_interpreter_call_code.delta":
		h.Type, h.Status, h.CodeDelta = responses.TypeCodeInterpreterCall, "interpreting", ev.Delta
	case name == "code_interpreter_call_code.done":
		h.Type, h.Status, h.Code = responses.TypeCodeInterpreterCall, "interpreting", ev.Text
	case name == "image_generation_call.partial_image":
		var p struct {
			B64   string `json:"partial_image_b64"`
			Index int    `json:"partial_image_index"`
		}
		_ = json.Unmarshal(ev.Raw, &p)
		h.Type, h.Status, h.PartialImage, h.PartialImageIndex = responses.TypeImageGenerationCall, "generating", p.B64, p.Index
	case name == "shell_call_output_content.done":
		h.Type, h.Status = responses.TypeShellCall, "completed"
	case name == "shell_call_output_content.delta":
		var p struct {
			Delta struct {
				Stdout string `json:"stdout"`
				Stderr string `json:"stderr"`
			} `json:"delta"`
		}
		_ = json.Unmarshal(ev.Raw, &p)
		h.Type, h.Status, h.Stdout, h.Stderr = responses.TypeShellCall, "in_progress", p.Delta.Stdout, p.Delta.Stderr
	default:
		typ, status, ok := strings.Cut(name, ".")
		if !ok {
			return Event{}, false
		}
		switch typ {
		case responses.TypeWebSearchCall, responses.TypeFileSearchCall, responses.TypeCodeInterpreterCall,
			responses.TypeImageGenerationCall, responses.TypeMCPCall, responses.TypeMCPListTools:
			h.Type, h.Status = typ, status
		default:
			return Event{}, false
		}
	}
	return Event{Kind: EventHostedTool, Hosted: h}, true
}

// emitHostedItem emits the typed event of a finished hosted-tool item.
func (r *run) emitHostedItem(it responses.Item) {
	if h := hostedItem(it); h != nil {
		r.emit(Event{Kind: EventHostedTool, Hosted: h})
	}
}

// hostedItem describes a finished hosted-tool item, or returns nil for
// other items.
func hostedItem(it responses.Item) *HostedEvent {
	switch it.Type {
	case responses.TypeWebSearchCall, responses.TypeFileSearchCall, responses.TypeCodeInterpreterCall,
		responses.TypeImageGenerationCall, responses.TypeMCPCall, responses.TypeMCPListTools,
		responses.TypeShellCall, responses.TypeShellCallOutput:
	default:
		return nil // not hosted: nothing to allocate
	}
	h := &HostedEvent{Type: it.Type, ItemID: it.ID, Status: it.Status, Item: &it}
	switch it.Type {
	case responses.TypeWebSearchCall:
		var c responses.WebSearchCall
		_ = it.Decode(&c)
		if c.Action.Query != "" {
			h.Queries = append(h.Queries, c.Action.Query)
		}
		h.Queries = append(h.Queries, c.Action.Queries...)
		h.URL = c.Action.URL
	case responses.TypeFileSearchCall:
		var c responses.FileSearchCall
		_ = it.Decode(&c)
		h.Queries = c.Queries
	case responses.TypeCodeInterpreterCall:
		var c responses.CodeInterpreterCall
		_ = it.Decode(&c)
		h.Code = c.Code
		for _, o := range c.Outputs {
			if o.Type == "logs" {
				h.Logs = append(h.Logs, o.Logs)
			}
		}
	case responses.TypeImageGenerationCall:
		var c responses.ImageGenerationCall
		_ = it.Decode(&c)
		h.Image = c.Result
	case responses.TypeMCPCall, responses.TypeMCPListTools:
	case responses.TypeShellCall:
		if isAnswerable(it) {
			return nil // a local shell call: the loop runs it
		}
		var c responses.ShellCall
		_ = it.Decode(&c)
		h.Commands = c.Action.Commands
	case responses.TypeShellCallOutput: // in the output, only the server's
		var c responses.ShellCallOutput
		_ = it.Decode(&c)
		for _, o := range c.Output {
			h.Stdout += o.Stdout
			h.Stderr += o.Stderr
		}
	default:
		return nil
	}
	return h
}
