package responsestest

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/agentloop/agentloop/responses"
)

// event is one server-sent event, encoded.
type event struct {
	data      []byte // "event: …\ndata: {…}\n\n"
	doneIndex int    // the output index of a response.output_item.done, else -1
}

// eventWriter encodes a stream's events with increasing sequence numbers.
type eventWriter struct {
	events []event
}

func (w *eventWriter) emit(typ string, kv ...any) {
	w.emitDone(-1, typ, kv...)
}

func (w *eventWriter) emitDone(doneIndex int, typ string, kv ...any) {
	fields := append([]any{"type", typ, "sequence_number", len(w.events)}, kv...)
	data := object(fields...)
	b := make([]byte, 0, len(typ)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	w.events = append(w.events, event{data: b, doneIndex: doneIndex})
}

// item emits the events of output item i in the real API's order:
// response.output_item.added with a partial copy, the item type's own
// events, then response.output_item.done with the final item.
func (w *eventWriter) item(i int, it responses.Item) {
	w.emit("response.output_item.added", "output_index", i, "item", partial(it))
	id := it.ID
	switch it.Type {
	case responses.TypeMessage:
		w.message(i, id, it)
	case responses.TypeReasoning:
		w.reasoning(i, id, it)
	case responses.TypeFunctionCall:
		var c struct{ Arguments string }
		_ = it.Decode(&c)
		for _, d := range chunks(c.Arguments) {
			w.emit("response.function_call_arguments.delta", "item_id", id, "output_index", i, "delta", d)
		}
		w.emit("response.function_call_arguments.done", "item_id", id, "output_index", i, "arguments", c.Arguments)
	case responses.TypeCustomToolCall:
		var c struct{ Input string }
		_ = it.Decode(&c)
		for _, d := range chunks(c.Input) {
			w.emit("response.custom_tool_call_input.delta", "item_id", id, "output_index", i, "delta", d)
		}
		w.emit("response.custom_tool_call_input.done", "item_id", id, "output_index", i, "input", c.Input)
	case responses.TypeShellCall:
		var c struct {
			Action struct{ Commands []string }
		}
		_ = it.Decode(&c)
		for ci, cmd := range c.Action.Commands {
			w.emit("response.shell_call_command.added", "output_index", i, "command_index", ci, "command", "")
			for _, d := range chunks(cmd) {
				w.emit("response.shell_call_command.delta", "output_index", i, "command_index", ci, "delta", d)
			}
			w.emit("response.shell_call_command.done", "output_index", i, "command_index", ci, "command", cmd)
		}
	case responses.TypeMCPListTools:
		w.emit("response.mcp_list_tools.in_progress", "item_id", id, "output_index", i)
		if failed(it) {
			w.emit("response.mcp_list_tools.failed", "item_id", id, "output_index", i)
		} else {
			w.emit("response.mcp_list_tools.completed", "item_id", id, "output_index", i)
		}
	case responses.TypeMCPCall:
		var c struct{ Arguments string }
		_ = it.Decode(&c)
		for _, d := range chunks(c.Arguments) {
			w.emit("response.mcp_call_arguments.delta", "item_id", id, "output_index", i, "delta", d)
		}
		w.emit("response.mcp_call_arguments.done", "item_id", id, "output_index", i, "arguments", c.Arguments)
		w.emit("response.mcp_call.in_progress", "item_id", id, "output_index", i)
		if failed(it) {
			w.emit("response.mcp_call.failed", "item_id", id, "output_index", i)
		} else {
			w.emit("response.mcp_call.completed", "item_id", id, "output_index", i)
		}
	default:
		w.hosted(i, id, it) // hosted.go
	}
	w.emitDone(i, "response.output_item.done", "output_index", i, "item", it)
}

func (w *eventWriter) message(i int, id string, it responses.Item) {
	var m struct{ Content json.RawMessage }
	var parts []json.RawMessage
	if it.Decode(&m) != nil || json.Unmarshal(m.Content, &parts) != nil {
		return // string content: no part events
	}
	for ci, raw := range parts {
		var p struct {
			Type        string
			Text        string
			Refusal     string
			Annotations []json.RawMessage
		}
		_ = json.Unmarshal(raw, &p)
		loc := []any{"item_id", id, "output_index", i, "content_index", ci}
		with := func(kv ...any) []any { return append(append([]any{}, loc...), kv...) }
		switch p.Type {
		case "output_text":
			w.emit("response.content_part.added", with("part", object("type", "output_text", "annotations", json.RawMessage("[]"), "text", ""))...)
			for _, d := range chunks(p.Text) {
				w.emit("response.output_text.delta", with("delta", d, "logprobs", json.RawMessage("[]"))...)
			}
			for ai, a := range p.Annotations {
				w.emit("response.output_text.annotation.added", with("annotation_index", ai, "annotation", a)...)
			}
			w.emit("response.output_text.done", with("text", p.Text, "logprobs", json.RawMessage("[]"))...)
		case "refusal":
			w.emit("response.content_part.added", with("part", object("type", "refusal", "refusal", ""))...)
			for _, d := range chunks(p.Refusal) {
				w.emit("response.refusal.delta", with("delta", d)...)
			}
			w.emit("response.refusal.done", with("refusal", p.Refusal)...)
		default:
			w.emit("response.content_part.added", with("part", raw)...)
		}
		w.emit("response.content_part.done", with("part", raw)...)
	}
}

func (w *eventWriter) reasoning(i int, id string, it responses.Item) {
	var r struct {
		Summary []json.RawMessage
		Content []json.RawMessage
	}
	_ = it.Decode(&r)
	for si, raw := range r.Summary {
		var p struct{ Text string }
		_ = json.Unmarshal(raw, &p)
		loc := []any{"item_id", id, "output_index", i, "summary_index", si}
		with := func(kv ...any) []any { return append(append([]any{}, loc...), kv...) }
		w.emit("response.reasoning_summary_part.added", with("part", object("type", "summary_text", "text", ""))...)
		for _, d := range chunks(p.Text) {
			w.emit("response.reasoning_summary_text.delta", with("delta", d)...)
		}
		w.emit("response.reasoning_summary_text.done", with("text", p.Text)...)
		w.emit("response.reasoning_summary_part.done", with("part", raw)...)
	}
	for ci, raw := range r.Content {
		var p struct{ Text string }
		_ = json.Unmarshal(raw, &p)
		loc := []any{"item_id", id, "output_index", i, "content_index", ci}
		with := func(kv ...any) []any { return append(append([]any{}, loc...), kv...) }
		w.emit("response.content_part.added", with("part", object("type", "reasoning_text", "text", ""))...)
		for _, d := range chunks(p.Text) {
			w.emit("response.reasoning_text.delta", with("delta", d)...)
		}
		w.emit("response.reasoning_text.done", with("text", p.Text)...)
		w.emit("response.content_part.done", with("part", raw)...)
	}
}

// failed reports whether an MCP item failed: status "failed" or a non-null
// error.
func failed(it responses.Item) bool {
	var v struct {
		Status string
		Error  json.RawMessage
	}
	_ = it.Decode(&v)
	return it.Status == "failed" || (len(v.Error) > 0 && string(v.Error) != "null")
}

// partial returns the copy of it that response.output_item.added carries:
// in progress, with its content, arguments, input or commands still empty
// and without encrypted reasoning.
func partial(it responses.Item) json.RawMessage {
	var m map[string]json.RawMessage
	if it.Decode(&m) != nil {
		return it.Raw()
	}
	empty, emptyStr := json.RawMessage("[]"), json.RawMessage(`""`)
	if _, ok := m["status"]; ok {
		m["status"] = json.RawMessage(`"in_progress"`)
	}
	switch it.Type {
	case responses.TypeMessage:
		m["content"] = empty
	case responses.TypeReasoning:
		m["summary"] = empty
		if _, ok := m["content"]; ok {
			m["content"] = empty
		}
		delete(m, "encrypted_content")
	case responses.TypeFunctionCall:
		m["arguments"] = emptyStr
	case responses.TypeCustomToolCall:
		m["input"] = emptyStr
	case responses.TypeShellCall:
		var action map[string]json.RawMessage
		if json.Unmarshal(m["action"], &action) == nil && action != nil {
			action["commands"] = empty
			m["action"] = mustJSON(action)
		}
	case responses.TypeMCPListTools:
		m["tools"] = empty
	case responses.TypeMCPCall:
		m["arguments"] = emptyStr
		m["output"] = json.RawMessage("null")
		m["status"] = json.RawMessage(`"in_progress"`)
	}
	return mustJSON(m)
}

// chunkSize is the largest delta in bytes.
const chunkSize = 8

// chunks splits s into deltas of about a word each, as a model streams
// tokens: each delta ends after a space or at chunkSize bytes, on a rune
// boundary.
func chunks(s string) []string {
	var out []string
	for s != "" {
		cut := len(s)
		if sp := strings.IndexByte(s[1:min(len(s), chunkSize)], ' '); sp >= 0 { // bounded: linear in len(s)
			cut = sp + 2 // through the space
		}
		if cut > chunkSize {
			cut = chunkSize
			for cut > 1 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return out
}
