package responses

import "encoding/json"

// The structs below are typed views of the items the runtime reads and
// writes. Decode a received [Item] into one with [Item.Decode]; build an item
// to send with [NewItem]. Fields the server may omit are pointers or carry
// omitempty; unknown fields are ignored here but kept in the Item's JSON.

// Message is an input or output message. Content is either a JSON string or
// an array of content parts; see [InputText] and friends to build parts.
type Message struct {
	Type    string          `json:"type,omitempty"` // "message"
	ID      string          `json:"id,omitempty"`
	Role    string          `json:"role"` // user, assistant, system, developer
	Status  string          `json:"status,omitempty"`
	Phase   string          `json:"phase,omitempty"`
	Content json.RawMessage `json:"content"`
}

// UserMessage returns an input message item with one input_text part.
func UserMessage(text string) Item {
	// Written by hand, as MustItem(Message{...}) would write it: every
	// run starts with one.
	b := make([]byte, 0, len(text)+72)
	b = append(b, `{"type":"message","role":"user","content":[{"type":"input_text"`...)
	if text != "" {
		b = append(b, `,"text":`...)
		b = appendString(b, text)
	}
	b = append(b, "}]}"...)
	return Item{Type: TypeMessage, raw: b}
}

// ContentPart is one part of a message's content or of an array-valued tool
// output: input_text, input_image, input_file, output_text or refusal.
type ContentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	FileData string `json:"file_data,omitempty"`
	FileURL  string `json:"file_url,omitempty"`
	Filename string `json:"filename,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Refusal  string `json:"refusal,omitempty"`
}

// InputText returns an input_text content part.
func InputText(s string) ContentPart { return ContentPart{Type: "input_text", Text: s} }

// FunctionCall is a function_call item.
type FunctionCall struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Status    string          `json:"status,omitempty"`
	Namespace string          `json:"namespace,omitempty"`
	Caller    json.RawMessage `json:"caller,omitempty"`
}

// CustomToolCall is a custom_tool_call item; Input is the model's raw text.
type CustomToolCall struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Input     string          `json:"input"`
	Namespace string          `json:"namespace,omitempty"`
	Caller    json.RawMessage `json:"caller,omitempty"`
}

// FunctionCallOutput is a function_call_output item. Output is a JSON string
// or an array of input_text, input_image and input_file parts.
type FunctionCallOutput struct {
	Type   string          `json:"type"`
	CallID string          `json:"call_id"`
	Output json.RawMessage `json:"output"`
	Caller json.RawMessage `json:"caller,omitempty"`
}

// CustomToolCallOutput is a custom_tool_call_output item.
type CustomToolCallOutput struct {
	Type   string          `json:"type"`
	CallID string          `json:"call_id"`
	Output json.RawMessage `json:"output"`
	Caller json.RawMessage `json:"caller,omitempty"`
}

// ShellCall is a shell_call item of the shell tool.
type ShellCall struct {
	Type        string          `json:"type"`
	ID          string          `json:"id,omitempty"`
	CallID      string          `json:"call_id"`
	Status      string          `json:"status,omitempty"`
	Action      ShellAction     `json:"action"`
	Environment json.RawMessage `json:"environment,omitempty"`
	Caller      json.RawMessage `json:"caller,omitempty"`
}

// ShellAction is the action of a shell_call: whole command lines run in order.
// TimeoutMS and MaxOutputLength may be null on the wire.
type ShellAction struct {
	Commands        []string `json:"commands"`
	TimeoutMS       *int64   `json:"timeout_ms"`
	MaxOutputLength *int64   `json:"max_output_length"`
}

// ShellCallOutput is a shell_call_output item: one entry per command run.
type ShellCallOutput struct {
	Type            string               `json:"type"`
	CallID          string               `json:"call_id"`
	Output          []ShellCommandOutput `json:"output"`
	MaxOutputLength *int64               `json:"max_output_length,omitempty"`
	Status          string               `json:"status,omitempty"`
	Caller          json.RawMessage      `json:"caller,omitempty"`
}

// ShellCommandOutput is the result of one command of a shell_call.
type ShellCommandOutput struct {
	Stdout  string       `json:"stdout"`
	Stderr  string       `json:"stderr"`
	Outcome ShellOutcome `json:"outcome"`
}

// ShellOutcome is {"type":"exit","exit_code":N} or {"type":"timeout"}.
type ShellOutcome struct {
	Type     string `json:"type"`
	ExitCode *int   `json:"exit_code,omitempty"`
}

// LocalShellCall is a local_shell_call item: an argv to execute directly.
type LocalShellCall struct {
	Type   string           `json:"type"`
	ID     string           `json:"id,omitempty"`
	CallID string           `json:"call_id"`
	Status string           `json:"status,omitempty"`
	Action LocalShellAction `json:"action"`
}

// LocalShellAction is the exec action of a local_shell_call.
type LocalShellAction struct {
	Type             string            `json:"type"` // "exec"
	Command          []string          `json:"command"`
	Env              map[string]string `json:"env,omitempty"`
	WorkingDirectory *string           `json:"working_directory"`
	TimeoutMS        *int64            `json:"timeout_ms"`
	User             *string           `json:"user"`
}

// LocalShellCallOutput is a local_shell_call_output item. Per the spec the
// call's call_id goes in ID (not the call item's own id); CallID is the form
// some clients send instead and is accepted when decoding.
type LocalShellCallOutput struct {
	Type   string `json:"type"`
	ID     string `json:"id,omitempty"`
	CallID string `json:"call_id,omitempty"`
	Output string `json:"output"`
	Status string `json:"status,omitempty"`
}

// ApplyPatchCall is an apply_patch_call item: one file operation.
type ApplyPatchCall struct {
	Type      string              `json:"type"`
	ID        string              `json:"id,omitempty"`
	CallID    string              `json:"call_id"`
	Status    string              `json:"status,omitempty"`
	Operation ApplyPatchOperation `json:"operation"`
	Caller    json.RawMessage     `json:"caller,omitempty"`
}

// ApplyPatchOperation is create_file, update_file (Diff is a bare V4A diff)
// or delete_file.
type ApplyPatchOperation struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Diff string `json:"diff,omitempty"`
}

// ApplyPatchCallOutput is an apply_patch_call_output item; Status is
// "completed" or "failed".
type ApplyPatchCallOutput struct {
	Type   string          `json:"type"`
	CallID string          `json:"call_id"`
	Status string          `json:"status"`
	Output string          `json:"output,omitempty"`
	Caller json.RawMessage `json:"caller,omitempty"`
}

// MCPApprovalRequest is an mcp_approval_request item of a hosted MCP tool.
type MCPApprovalRequest struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	ServerLabel string `json:"server_label"`
	Name        string `json:"name"`
	Arguments   string `json:"arguments"`
}

// MCPApprovalResponse answers an [MCPApprovalRequest] by its id.
type MCPApprovalResponse struct {
	Type              string `json:"type"`
	ApprovalRequestID string `json:"approval_request_id"`
	Approve           bool   `json:"approve"`
	Reason            string `json:"reason,omitempty"`
}

// MustJSON marshals v and panics on error; for values that always encode.
func MustJSON(v any) json.RawMessage {
	if s, ok := v.(string); ok && plainASCII(s) {
		// A tool's text output, most often: no escaping needed.
		b := make([]byte, 0, len(s)+2)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
