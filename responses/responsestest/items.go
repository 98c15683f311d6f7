package responsestest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/agentloop/agentloop/responses"
)

// The builders below return output items as the real API produces them,
// with status "completed" where the item type has a status. They leave the
// item id out: the server assigns a deterministic one when it serves the
// item ("msg_3_0" is output item 0 of resp_3), and likewise a call_id
// ("call_3_0") when callID is empty. An id or call_id already present is
// kept.

// Text returns an assistant message with one output_text part.
func Text(s string) responses.Item {
	part := object("type", "output_text", "annotations", json.RawMessage("[]"), "text", s)
	return item(object("type", responses.TypeMessage, "status", responses.StatusCompleted,
		"role", "assistant", "content", []json.RawMessage{part}))
}

// Reasoning returns a reasoning item. An empty summary gives an empty
// summary array; an empty encrypted omits encrypted_content. As with the
// real API, the server sends encrypted_content only to a request whose
// include lists "reasoning.encrypted_content".
func Reasoning(summary, encrypted string) responses.Item {
	parts := []json.RawMessage{}
	if summary != "" {
		parts = append(parts, object("type", "summary_text", "text", summary))
	}
	kv := []any{"type", responses.TypeReasoning, "summary", parts}
	if encrypted != "" {
		kv = append(kv, "encrypted_content", encrypted)
	}
	return item(object(kv...))
}

// FunctionCall returns a function_call item. args is sent as given, so a
// malformed JSON string makes a malformed-arguments call.
func FunctionCall(callID, name, args string) responses.Item {
	return item(object(append(callKV(responses.TypeFunctionCall, callID),
		"name", name, "arguments", args)...))
}

// CustomToolCall returns a custom_tool_call item whose input is the raw
// text. It has no status: neither openai-go v3.102.0's
// ResponseCustomToolCall nor openai-node's type declares one.
func CustomToolCall(callID, name, input string) responses.Item {
	kv := []any{"type", responses.TypeCustomToolCall}
	if callID != "" {
		kv = append(kv, "call_id", callID)
	}
	return item(object(append(kv, "name", name, "input", input)...))
}

// ShellCall returns a shell_call item for a local environment that asks to
// run commands (whole command lines) in order, with no timeout or output
// limit requested.
func ShellCall(callID string, commands ...string) responses.Item {
	if commands == nil {
		commands = []string{}
	}
	action := object("commands", commands, "timeout_ms", nil, "max_output_length", nil)
	return item(object(append(callKV(responses.TypeShellCall, callID),
		"action", action, "environment", object("type", "local"))...))
}

// LocalShellCall returns a local_shell_call item that asks to exec argv.
func LocalShellCall(callID string, argv ...string) responses.Item {
	if argv == nil {
		argv = []string{}
	}
	action := object("type", "exec", "command", argv, "env", json.RawMessage("{}"),
		"working_directory", nil, "timeout_ms", nil, "user", nil)
	return item(object(append(callKV(responses.TypeLocalShellCall, callID), "action", action)...))
}

// ApplyPatchCall returns an apply_patch_call item. opType is "create_file",
// "update_file" or "delete_file"; diff is a bare V4A diff and is omitted
// when empty.
func ApplyPatchCall(callID, opType, path, diff string) responses.Item {
	kv := []any{"type", opType, "path", path}
	if diff != "" {
		kv = append(kv, "diff", diff)
	}
	return item(object(append(callKV(responses.TypeApplyPatchCall, callID), "operation", object(kv...))...))
}

// MCPApprovalRequest returns an mcp_approval_request item. Its id is the
// key an mcp_approval_response must carry; an empty id is assigned by the
// server ("mcpr_3_0").
func MCPApprovalRequest(id, server, name, args string) responses.Item {
	kv := []any{"type", responses.TypeMCPApprovalRequest}
	if id != "" {
		kv = append(kv, "id", id)
	}
	return item(object(append(kv, "server_label", server, "name", name, "arguments", args)...))
}

// MCPListTools returns an mcp_list_tools item listing tools of server by
// name, each with an empty object schema.
func MCPListTools(server string, tools ...string) responses.Item {
	list := make([]json.RawMessage, 0, len(tools))
	for _, name := range tools {
		list = append(list, object("name", name, "input_schema", object("type", "object")))
	}
	return item(object("type", responses.TypeMCPListTools, "server_label", server, "tools", list))
}

// MCPCall returns a completed mcp_call item: a call the server already made
// on an MCP server, with its output.
func MCPCall(server, name, args, output string) responses.Item {
	return item(object("type", responses.TypeMCPCall, "status", responses.StatusCompleted,
		"server_label", server, "name", name, "arguments", args, "output", output, "error", nil))
}

// Raw returns the item whose JSON is s, unchanged. It panics if s is not a
// JSON object; use it with literals in tests.
func Raw(s string) responses.Item {
	var it responses.Item
	if err := it.UnmarshalJSON([]byte(s)); err != nil {
		panic(fmt.Sprintf("responsestest.Raw: %v", err))
	}
	if !json.Valid([]byte(s)) {
		panic("responsestest.Raw: invalid JSON")
	}
	return it
}

func callKV(typ, callID string) []any {
	kv := []any{"type", typ, "status", responses.StatusCompleted}
	if callID != "" {
		kv = append(kv, "call_id", callID)
	}
	return kv
}

func item(raw json.RawMessage) responses.Item {
	var it responses.Item
	if err := it.UnmarshalJSON(raw); err != nil {
		panic(err) // object always encodes a JSON object
	}
	return it
}

// idPrefix is the id prefix the real API uses for each item type.
var idPrefix = map[string]string{
	responses.TypeMessage:            "msg",
	responses.TypeReasoning:          "rs",
	responses.TypeFunctionCall:       "fc",
	responses.TypeCustomToolCall:     "ctc",
	responses.TypeShellCall:          "sh",
	responses.TypeLocalShellCall:     "lsh",
	responses.TypeApplyPatchCall:     "apc",
	responses.TypeComputerCall:       "cu",
	responses.TypeMCPListTools:       "mcpl",
	responses.TypeMCPCall:            "mcp",
	responses.TypeMCPApprovalRequest: "mcpr",
	responses.TypeCompaction:         "cmp",
}

// finalize returns it with an id and, for a call, a call_id, assigned from
// the response number n and output index i when missing. The rest of the
// JSON is kept byte for byte.
func finalize(it responses.Item, n, i int) responses.Item {
	var add []byte
	if it.ID == "" && !(bytes.Contains(it.Raw(), []byte(`"id"`)) && hasKey(it.Raw(), "id")) {
		prefix := idPrefix[it.Type]
		if prefix == "" {
			prefix = "item"
		}
		add = fmt.Appendf(add, `"id":%s,`, strconv.Quote(fmt.Sprintf("%s_%d_%d", prefix, n, i)))
	}
	if it.IsCall() && it.CallID == "" && !(bytes.Contains(it.Raw(), []byte(`"call_id"`)) && hasKey(it.Raw(), "call_id")) {
		add = fmt.Appendf(add, `"call_id":%s,`, strconv.Quote(fmt.Sprintf("call_%d_%d", n, i)))
	}
	if add == nil {
		return it
	}
	raw := bytes.TrimSpace(it.Raw())
	body := bytes.TrimSpace(raw[1:])
	if len(body) > 0 && body[0] == '}' {
		add = add[:len(add)-1] // empty object: no trailing comma
	}
	out := append([]byte{'{'}, add...)
	out = append(out, body...)
	return item(out)
}

// hasKey reports whether the JSON object raw has the top-level key k.
func hasKey(raw json.RawMessage, k string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[k]
	return ok
}

// object encodes alternating keys and values as a JSON object with the keys
// in the given order. Values must encode; this is for internal literals.
func object(kv ...any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := marshal(kv[i].(string))
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(kv[i+1])
		if err != nil {
			panic(fmt.Sprintf("responsestest: encode %q: %v", kv[i], err))
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// marshal is json.Marshal without HTML escaping: the API sends "<" as is.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
