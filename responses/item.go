package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Item types the runtime interprets. Any other type is carried unchanged.
const (
	TypeMessage              = "message"
	TypeReasoning            = "reasoning"
	TypeFunctionCall         = "function_call"
	TypeFunctionCallOutput   = "function_call_output"
	TypeCustomToolCall       = "custom_tool_call"
	TypeCustomToolCallOutput = "custom_tool_call_output"
	TypeShellCall            = "shell_call"
	TypeShellCallOutput      = "shell_call_output"
	TypeLocalShellCall       = "local_shell_call"
	TypeLocalShellCallOutput = "local_shell_call_output"
	TypeApplyPatchCall       = "apply_patch_call"
	TypeApplyPatchCallOutput = "apply_patch_call_output"
	TypeComputerCall         = "computer_call"
	TypeComputerCallOutput   = "computer_call_output"
	TypeMCPListTools         = "mcp_list_tools"
	TypeMCPCall              = "mcp_call"
	TypeMCPApprovalRequest   = "mcp_approval_request"
	TypeMCPApprovalResponse  = "mcp_approval_response"
	TypeCompaction           = "compaction"
	TypeItemReference        = "item_reference"
)

// Item is one element of a request's input or a response's output. It keeps
// the exact JSON it was decoded from (or built from), so items the runtime
// does not interpret (encrypted reasoning, hosted-tool calls, types added
// after this package was written) travel back to the server byte-for-byte.
//
// The exported fields are a read-only view of the common header fields;
// changing them does not change the JSON. Build a new item with [NewItem].
// The zero Item is not valid JSON and marshals as null.
type Item struct {
	Type   string // "message", "function_call", ...; empty for an easy message
	ID     string // the item id ("fc_…"), if any
	CallID string // the call id ("call_…") of call and output items
	Name   string // the tool name of function, custom and MCP items
	Status string // the item status, if any

	raw json.RawMessage
}

type itemHeader struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	CallID string `json:"call_id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Role   string `json:"role"`
}

// NewItem returns the item whose JSON is v marshalled. v is typically one of
// this package's item structs, a map, or a [json.RawMessage].
func NewItem(v any) (Item, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Item{}, fmt.Errorf("marshal item: %w", err)
	}
	// b is fresh, valid and compact: the item keeps it without a copy.
	return itemFrom(b, false)
}

// MustItem is like [NewItem] but panics on error. It is meant for values
// whose encoding cannot fail, such as this package's item structs.
func MustItem(v any) Item {
	it, err := NewItem(v)
	if err != nil {
		panic(err)
	}
	return it
}

// RawItem returns the item whose JSON is b, trusted: b is kept as it is,
// neither copied nor validated nor compacted, so the caller must not modify
// it afterwards and must know it to be one valid JSON object (as
// json.Marshal writes it). It is the cheap way to wrap JSON this program
// has just written; use [Item.UnmarshalJSON] for JSON from elsewhere. It
// fails only when b does not start with '{'.
func RawItem(b json.RawMessage) (Item, error) {
	return itemFrom(b, false)
}

// OutputItem returns an output item of type typ ("function_call_output",
// "custom_tool_call_output") answering callID, whose output member is
// output and whose caller member, when not empty, is caller, written
// directly: the same JSON as [MustItem] of a [FunctionCallOutput] or
// [CustomToolCallOutput], without marshalling (and so without compacting
// and validating) output again. output and caller are trusted like
// [RawItem]'s JSON: they must be valid JSON values.
func OutputItem(typ, callID string, output, caller json.RawMessage) Item {
	if len(caller) == 0 || string(caller) == "null" {
		caller = nil
	}
	b := make([]byte, 0, len(typ)+len(callID)+len(output)+len(caller)+48)
	b = append(b, `{"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"call_id":`...)
	b = appendString(b, callID)
	b = append(b, `,"output":`...)
	b = append(b, output...)
	if caller != nil {
		b = append(b, `,"caller":`...)
		b = append(b, caller...)
	}
	b = append(b, '}')
	return Item{Type: typ, CallID: callID, raw: b}
}

// appendString appends s as a JSON string, escaped as json.Marshal does.
func appendString(b []byte, s string) []byte {
	if !plainASCII(s) {
		js, _ := json.Marshal(s) // rare in types and call ids
		return append(b, js...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainASCII reports whether json.Marshal writes s between quotes as it
// is: printable ASCII without quotes, backslashes or HTML characters.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// UnmarshalJSON keeps a copy of b and decodes the header fields leniently:
// header fields of an unexpected JSON type are left empty rather than failing.
// JSON null gives the zero Item.
func (it *Item) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*it = Item{}
		return nil
	}
	v, err := itemFrom(b, true)
	if err != nil {
		return err
	}
	*it = v
	return nil
}

// itemFrom reads the header of the item b, trimmed, keeping b itself or a
// copy of it.
func itemFrom(b []byte, clone bool) (Item, error) {
	if len(b) == 0 || b[0] != '{' {
		return Item{}, errors.New("responses: item is not a JSON object")
	}
	h, ok := scanHeader(b)
	if !ok {
		h = itemHeader{}
		if err := json.Unmarshal(b, &h); err != nil {
			// Lenient: decode field by field so one odd field does not lose the item.
			var m map[string]json.RawMessage
			if err2 := json.Unmarshal(b, &m); err2 != nil {
				return Item{}, fmt.Errorf("responses: decode item: %w", err2)
			}
			h = itemHeader{}
			str := func(k string) string {
				var s string
				_ = json.Unmarshal(m[k], &s)
				return s
			}
			h.Type, h.ID, h.CallID, h.Name, h.Status, h.Role = str("type"), str("id"), str("call_id"), str("name"), str("status"), str("role")
		}
	}
	if h.Type == "" && h.Role != "" {
		h.Type = TypeMessage
	}
	if clone {
		b = bytes.Clone(b)
	}
	return Item{Type: h.Type, ID: h.ID, CallID: h.CallID, Name: h.Name, Status: h.Status, raw: b}, nil
}

// MarshalJSON returns the item's JSON unchanged.
func (it Item) MarshalJSON() ([]byte, error) {
	if it.raw == nil {
		return []byte("null"), nil
	}
	return it.raw, nil
}

// Raw returns the item's JSON. The caller must not modify it.
func (it Item) Raw() json.RawMessage { return it.raw }

// Field returns the JSON value of the item's top-level member name (the
// last one when the name repeats), or nil when it has none, without
// decoding the rest: reading a call's "caller" does not decode its 1 MiB
// of arguments. Names match exactly. The caller must not modify it.
func (it Item) Field(name string) json.RawMessage {
	var v json.RawMessage
	members(it.raw, func(key, value []byte) bool {
		if string(key) == name {
			v = value
		}
		return true
	})
	return v
}

// IsZero reports whether it holds no JSON.
func (it Item) IsZero() bool { return it.raw == nil }

// Decode unmarshals the item's JSON into v, for example a *[FunctionCall].
func (it Item) Decode(v any) error {
	if it.raw == nil {
		return errors.New("responses: decode empty item")
	}
	return json.Unmarshal(it.raw, v)
}

// IsCall reports whether the item is a call the client is expected to answer
// with an output item: function, custom tool, shell, local shell, apply_patch
// and computer calls. A hosted-environment shell call is still reported here;
// callers that see the server's own shell_call_output treat it as answered.
func (it Item) IsCall() bool {
	switch it.Type {
	case TypeFunctionCall, TypeCustomToolCall, TypeShellCall, TypeLocalShellCall,
		TypeApplyPatchCall, TypeComputerCall:
		return true
	}
	return false
}

// IsOutput reports whether the item answers a call (or an MCP approval request).
func (it Item) IsOutput() bool {
	switch it.Type {
	case TypeFunctionCallOutput, TypeCustomToolCallOutput, TypeShellCallOutput,
		TypeLocalShellCallOutput, TypeApplyPatchCallOutput, TypeComputerCallOutput,
		TypeMCPApprovalResponse:
		return true
	}
	return false
}

// OutputKey returns the key that matches an output item to its call: the
// call_id for most outputs, the id of a local_shell_call_output whose call_id
// is absent (the spec's form), and approval_request_id for an MCP approval
// response. It returns "" for other items.
func (it Item) OutputKey() string {
	switch it.Type {
	case TypeMCPApprovalResponse:
		var r struct {
			ID string `json:"approval_request_id"`
		}
		_ = json.Unmarshal(it.raw, &r)
		return r.ID
	case TypeLocalShellCallOutput:
		if it.CallID == "" {
			return it.ID
		}
	}
	if it.IsOutput() {
		return it.CallID
	}
	return ""
}

// CallKey returns the key an answer to this item must carry: the call_id of a
// call item, the id of an MCP approval request, or "" for other items.
func (it Item) CallKey() string {
	if it.Type == TypeMCPApprovalRequest {
		return it.ID
	}
	if it.IsCall() {
		return it.CallID
	}
	return ""
}

// Text returns the concatenated output_text of a message item, or "".
func (it Item) Text() string {
	if it.Type != TypeMessage {
		return ""
	}
	if s, ok := scanText(it.raw); ok {
		return s
	}
	return decodeText(it.raw)
}

var contentKeys = []string{"content"}
var partKeys = []string{"type", "text"}

// scanText is decodeText without reflection for the usual shapes (content
// a string, or an array of objects whose type and text are strings); ok is
// false for anything else, left to decodeText. raw is valid JSON.
func scanText(raw []byte) (text string, ok bool) {
	var content []byte
	if !members(raw, func(key, v []byte) bool {
		if string(key) == "content" {
			content = v
			return true
		}
		return !foldsToAny(key, contentKeys)
	}) || content == nil {
		return "", false
	}
	switch content[0] {
	case '"':
		return stringValue(content)
	case '[':
	default:
		return "", false
	}
	var buf []byte
	i := skipSpace(content, 1)
	if i < len(content) && content[i] == ']' {
		return "", true
	}
	for i < len(content) {
		end := skipValue(content, i)
		if end < 0 || content[i] != '{' {
			return "", false
		}
		var typ, txt []byte
		if !members(content[i:end], func(key, v []byte) bool {
			switch string(key) {
			case "type":
				typ = v
			case "text":
				txt = v
			default:
				return !foldsToAny(key, partKeys)
			}
			return v[0] == '"'
		}) {
			return "", false
		}
		if t, ok := plainString(typ); ok && (t == "output_text" || t == "input_text" || t == "text") && txt != nil {
			s, ok := stringValue(txt)
			if !ok {
				return "", false
			}
			buf = append(buf, s...)
		} else if typ != nil && !ok {
			return "", false
		}
		i = skipSpace(content, end)
		if i >= len(content) {
			return "", false
		}
		switch content[i] {
		case ',':
			i = skipSpace(content, i+1)
		case ']':
			return string(buf), true
		default:
			return "", false
		}
	}
	return "", false
}

// decodeText is Item.Text by encoding/json.
func decodeText(raw []byte) string {
	var m struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return ""
	}
	var buf bytes.Buffer
	for _, p := range parts {
		if p.Type == "output_text" || p.Type == "input_text" || p.Type == "text" {
			buf.WriteString(p.Text)
		}
	}
	return buf.String()
}
