package responses

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Stream event types (the "type" of each event). Events of other types are
// delivered too, with their Type and Raw JSON.
const (
	// Lifecycle; each carries Response.
	EventResponseCreated    = "response.created"
	EventResponseQueued     = "response.queued"
	EventResponseInProgress = "response.in_progress"
	EventResponseCompleted  = "response.completed"  // terminal
	EventResponseIncomplete = "response.incomplete" // terminal
	EventResponseFailed     = "response.failed"     // terminal
	// EventError is never delivered as an [Event]: it ends the stream with
	// an [*APIError].
	EventError = "error"

	// Output items; each carries OutputIndex and Item. The Item of
	// output_item.done is final and authoritative.
	EventOutputItemAdded = "response.output_item.added"
	EventOutputItemDone  = "response.output_item.done"

	// Message content.
	EventContentPartAdded          = "response.content_part.added" // Part
	EventContentPartDone           = "response.content_part.done"  // Part
	EventOutputTextDelta           = "response.output_text.delta"  // Delta
	EventOutputTextDone            = "response.output_text.done"   // Text
	EventOutputTextAnnotationAdded = "response.output_text.annotation.added"
	EventRefusalDelta              = "response.refusal.delta" // Delta
	EventRefusalDone               = "response.refusal.done"  // Text (from "refusal")

	// Reasoning.
	EventReasoningSummaryPartAdded = "response.reasoning_summary_part.added" // SummaryIndex, Part
	EventReasoningSummaryPartDone  = "response.reasoning_summary_part.done"
	EventReasoningSummaryTextDelta = "response.reasoning_summary_text.delta" // SummaryIndex, Delta
	EventReasoningSummaryTextDone  = "response.reasoning_summary_text.done"  // SummaryIndex, Text
	EventReasoningTextDelta        = "response.reasoning_text.delta"         // ContentIndex, Delta
	EventReasoningTextDone         = "response.reasoning_text.done"          // ContentIndex, Text

	// Tool-call arguments and inputs.
	EventFunctionCallArgumentsDelta   = "response.function_call_arguments.delta"    // Delta
	EventFunctionCallArgumentsDone    = "response.function_call_arguments.done"     // Text (from "arguments")
	EventCustomToolCallInputDelta     = "response.custom_tool_call_input.delta"     // Delta
	EventCustomToolCallInputDone      = "response.custom_tool_call_input.done"      // Text (from "input")
	EventMCPCallArgumentsDelta        = "response.mcp_call_arguments.delta"         // Delta
	EventMCPCallArgumentsDone         = "response.mcp_call_arguments.done"          // Text (from "arguments")
	EventCodeInterpreterCallCodeDelta = "response.code_interpreter_call_code.delta" // Delta
	EventCodeInterpreterCallCodeDone  = "response.code_interpreter_call_code.done"  // Text (from "code")

	// Shell commands; these carry no item_id: correlate by OutputIndex.
	EventShellCallCommandAdded = "response.shell_call_command.added" // CommandIndex, Text (from "command")
	EventShellCallCommandDelta = "response.shell_call_command.delta" // CommandIndex, Delta
	EventShellCallCommandDone  = "response.shell_call_command.done"  // CommandIndex, Text (from "command")
	// Hosted shell output; Delta is empty (the delta is an object): see Raw.
	EventShellCallOutputContentDelta = "response.shell_call_output_content.delta"
	EventShellCallOutputContentDone  = "response.shell_call_output_content.done"

	// Hosted-tool progress; each carries ItemID and OutputIndex only.
	EventMCPListToolsInProgress          = "response.mcp_list_tools.in_progress"
	EventMCPListToolsCompleted           = "response.mcp_list_tools.completed"
	EventMCPListToolsFailed              = "response.mcp_list_tools.failed"
	EventMCPCallInProgress               = "response.mcp_call.in_progress"
	EventMCPCallCompleted                = "response.mcp_call.completed"
	EventMCPCallFailed                   = "response.mcp_call.failed"
	EventWebSearchCallInProgress         = "response.web_search_call.in_progress"
	EventWebSearchCallSearching          = "response.web_search_call.searching"
	EventWebSearchCallCompleted          = "response.web_search_call.completed"
	EventFileSearchCallInProgress        = "response.file_search_call.in_progress"
	EventFileSearchCallSearching         = "response.file_search_call.searching"
	EventFileSearchCallCompleted         = "response.file_search_call.completed"
	EventCodeInterpreterCallInProgress   = "response.code_interpreter_call.in_progress"
	EventCodeInterpreterCallInterpreting = "response.code_interpreter_call.interpreting"
	EventCodeInterpreterCallCompleted    = "response.code_interpreter_call.completed"
	EventImageGenerationCallInProgress   = "response.image_generation_call.in_progress"
	EventImageGenerationCallGenerating   = "response.image_generation_call.generating"
	EventImageGenerationCallCompleted    = "response.image_generation_call.completed"
	EventImageGenerationCallPartialImage = "response.image_generation_call.partial_image" // see Raw
	EventCompactionCompacting            = "response.compaction.compacting"

	// Audio; Delta carries base64 audio or transcript text.
	EventAudioDelta           = "response.audio.delta"
	EventAudioDone            = "response.audio.done"
	EventAudioTranscriptDelta = "response.audio.transcript.delta"
	EventAudioTranscriptDone  = "response.audio.transcript.done"
)

// Event is one stream event. The typed fields are those the runtime reads;
// a field the event does not carry is zero. Raw holds the event's complete
// JSON, so fields not modelled here (logprobs, annotations, partial images,
// obfuscation) and event types added later are available too.
type Event struct {
	Type           string
	SequenceNumber int64
	OutputIndex    int
	ContentIndex   int
	SummaryIndex   int
	CommandIndex   int
	ItemID         string

	// Delta is the text of a *.delta event whose delta is a string.
	Delta string
	// Text is the final text of a *.done event: the "text", "refusal",
	// "arguments", "input", "code" or "command" field, whichever is set.
	Text string

	Item     *Item           // output_item.added and output_item.done
	Response *Response       // lifecycle events
	Part     json.RawMessage // content_part.* and reasoning_summary_part.*

	Raw json.RawMessage
}

// IsTerminal reports whether the event ends a response: response.completed,
// response.incomplete or response.failed.
func (e *Event) IsTerminal() bool {
	switch e.Type {
	case EventResponseCompleted, EventResponseIncomplete, EventResponseFailed:
		return true
	}
	return false
}

// eventWire is the union of the event fields; fields whose shape varies
// between events (delta is an object for shell output) are raw.
type eventWire struct {
	Type           string          `json:"type"`
	SequenceNumber json.Number     `json:"sequence_number"`
	OutputIndex    json.Number     `json:"output_index"`
	ContentIndex   json.Number     `json:"content_index"`
	SummaryIndex   json.Number     `json:"summary_index"`
	CommandIndex   json.Number     `json:"command_index"`
	ItemID         json.RawMessage `json:"item_id"`
	Delta          json.RawMessage `json:"delta"`
	Text           json.RawMessage `json:"text"`
	Refusal        json.RawMessage `json:"refusal"`
	Arguments      json.RawMessage `json:"arguments"`
	Input          json.RawMessage `json:"input"`
	Code           json.RawMessage `json:"code"`
	Command        json.RawMessage `json:"command"`
	Item           json.RawMessage `json:"item"`
	Response       json.RawMessage `json:"response"`
	Part           json.RawMessage `json:"part"`
	Error          json.RawMessage `json:"error"`
}

// decodeEvent decodes one event's JSON. raw is kept by the event. It fails
// only when raw is not a JSON object or an item or response inside it
// cannot be decoded.
// isErr reports an event that ends the stream with an error: its type is
// "error", or it has no type and a top-level error object.
func decodeEvent(raw []byte) (ev Event, isErr bool, err error) {
	var w eventWire
	// One pass: the scan checks the grammar as it goes; encoding/json
	// (which reports the error) only sees what the scan cannot read.
	if !w.scan(raw) {
		return decodeEventJSON(raw)
	}
	return decodeWire(raw, &w)
}

// decodeEventJSON is decodeEvent by encoding/json, for what the scan cannot
// read (its own eventWire, so decodeEvent's stays on the stack).
func decodeEventJSON(raw []byte) (ev Event, isErr bool, err error) {
	w := new(eventWire)
	if err := json.Unmarshal(raw, w); err != nil {
		return Event{}, false, err
	}
	return decodeWire(raw, w)
}

// decodeWire builds the event from its decoded members.
func decodeWire(raw []byte, w *eventWire) (ev Event, isErr bool, err error) {
	if w.Type == EventError || (w.Type == "" && isObject(w.Error)) {
		return Event{Type: EventError, Raw: raw}, true, nil
	}
	ev = Event{
		Type:           w.Type,
		SequenceNumber: number(w.SequenceNumber),
		OutputIndex:    int(number(w.OutputIndex)),
		ContentIndex:   int(number(w.ContentIndex)),
		SummaryIndex:   int(number(w.SummaryIndex)),
		CommandIndex:   int(number(w.CommandIndex)),
		ItemID:         looseString(w.ItemID),
		Delta:          jsonString(w.Delta),
		Raw:            raw,
	}
	for _, f := range []json.RawMessage{w.Text, w.Refusal, w.Arguments, w.Input, w.Code, w.Command} {
		if s := jsonString(f); s != "" {
			ev.Text = s
			break
		}
	}
	if isObject(w.Item) {
		// raw belongs to the event and is never modified: the item
		// shares it.
		it, err := itemFrom(bytes.TrimSpace(w.Item), false)
		if err != nil {
			return Event{}, false, err
		}
		ev.Item = &it
	}
	if isObject(w.Response) {
		ev.Response = new(Response)
		// raw was checked by the scan, and belongs to the event.
		if err := decodeResponse(w.Response, ev.Response, true); err != nil {
			return Event{}, false, err
		}
	}
	if isObject(w.Part) {
		ev.Part = w.Part
	}
	return ev, false, nil
}

// number returns the integer part of a JSON number, or 0.
func number(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil && f > -1<<62 && f < 1<<62 {
		return int64(f)
	}
	return 0
}

// jsonString returns the value of a JSON string, or "" for anything else.
func jsonString(b json.RawMessage) string {
	if len(b) == 0 || b[0] != '"' {
		return ""
	}
	if v, next, simple := scanString(b, 0); simple && next == len(b) {
		return string(v)
	}
	if s, ok := unescape(b); ok {
		return s
	}
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}

// unescape returns the value of the JSON string b (quotes included) when
// its escapes are the one-letter ones and its bytes valid UTF-8, which is
// what streamed text and arguments deltas hold (newlines, quotes); ok is
// false for anything else (\u escapes, invalid UTF-8 that encoding/json
// replaces), left to encoding/json.
func unescape(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	b = b[1 : len(b)-1]
	if !utf8.Valid(b) {
		return "", false
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x20 || c == '"' {
			return "", false
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		default:
			return "", false
		}
	}
	return string(out), true
}

// eventKeys are the members eventWire decodes, for spotting keys that
// encoding/json would match case-insensitively.
var eventKeys = []string{"type", "sequence_number", "output_index", "content_index", "summary_index",
	"command_index", "item_id", "delta", "text", "refusal", "arguments", "input", "code", "command",
	"item", "response", "part", "error"}

// scan fills w from b without reflection: each member's value is checked
// against the JSON grammar and sliced out of b. It reports false, leaving
// the work to encoding/json, for invalid JSON and anything unusual: b not
// an object, escaped or
// differently cased keys, a type that is not a plain string, a quoted
// number.
func (w *eventWire) scan(b []byte) bool {
	s := newObjScan(b, true)
	for key, value, ok := s.next(); ok; key, value, ok = s.next() {
		v := json.RawMessage(value)
		var num *json.Number
		switch string(key) {
		case "type":
			if v[0] == 'n' {
				break // null leaves it empty
			}
			str, ok := plainString(v)
			if !ok {
				return false
			}
			w.Type = str
		case "sequence_number":
			num = &w.SequenceNumber
		case "output_index":
			num = &w.OutputIndex
		case "content_index":
			num = &w.ContentIndex
		case "summary_index":
			num = &w.SummaryIndex
		case "command_index":
			num = &w.CommandIndex
		case "item_id":
			w.ItemID = v
		case "delta":
			w.Delta = v
		case "text":
			w.Text = v
		case "refusal":
			w.Refusal = v
		case "arguments":
			w.Arguments = v
		case "input":
			w.Input = v
		case "code":
			w.Code = v
		case "command":
			w.Command = v
		case "item":
			w.Item = v
		case "response":
			w.Response = v
		case "part":
			w.Part = v
		case "error":
			w.Error = v
		default:
			if foldsToAny(key, eventKeys) {
				return false
			}
		}
		if num != nil {
			switch c := v[0]; {
			case c == 'n': // null leaves it empty
			case c == '-' || c >= '0' && c <= '9':
				*num = json.Number(v)
			default:
				return false
			}
		}
	}
	return !s.failed
}

func isObject(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}
