package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Request is the body of create-response (POST {base}/responses).
//
// Optional booleans and numbers are pointers: nil omits the key, and a
// pointer to false or zero sends it (store:false, temperature:0 matter).
// Use [Ptr] to take the address of a literal. Extra holds provider-specific
// body fields; they are merged into the JSON object and win over the typed
// fields of the same name.
type Request struct {
	Model              string            `json:"model,omitempty"`
	Input              Input             `json:"input,omitzero"`
	Include            []string          `json:"include,omitempty"`
	Instructions       string            `json:"instructions,omitempty"`
	MaxOutputTokens    *int64            `json:"max_output_tokens,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls,omitempty"`
	PreviousResponseID string            `json:"previous_response_id,omitempty"`
	Reasoning          *Reasoning        `json:"reasoning,omitempty"`
	Store              *bool             `json:"store,omitempty"`
	Stream             bool              `json:"stream,omitempty"`
	Temperature        *float64          `json:"temperature,omitempty"`
	Text               *TextConfig       `json:"text,omitempty"`
	ToolChoice         *ToolChoice       `json:"tool_choice,omitempty"`
	Tools              []ToolDefinition  `json:"tools,omitempty"`
	TopP               *float64          `json:"top_p,omitempty"`
	Truncation         string            `json:"truncation,omitempty"` // "auto" or "disabled"

	// OpenAI-only parameters; do not set them for the Scale GenAI Platform.
	Prompt *Prompt `json:"prompt,omitempty"`
	// Conversation is the id of a server-side conversation ("conv_…"). It
	// is sent as a plain string, one of the two forms the API accepts; a
	// decoded request takes either form, "conv_…" or {"id": "conv_…"}.
	Conversation      string          `json:"conversation,omitempty"`
	ContextManagement json.RawMessage `json:"context_management,omitempty"`

	Extra map[string]any `json:"-"`
}

// Ptr returns a pointer to v, for the optional fields of [Request].
func Ptr[T any](v T) *T { return &v }

// MarshalJSON encodes the request and merges Extra into the object.
func (r Request) MarshalJSON() ([]byte, error) {
	if len(r.Extra) == 0 {
		return appendRequest(nil, &r)
	}
	type plain Request
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range r.Extra {
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("marshal extra field %q: %w", k, err)
		}
		m[k] = vb
	}
	return json.Marshal(m)
}

// UnmarshalJSON decodes a request body. The conversation parameter may be
// a string or an object {"id": "conv_…"} (the API reference's
// ResponseConversationParam, the form the Go SDK sends); Extra is left
// empty.
func (r *Request) UnmarshalJSON(b []byte) error {
	type plain Request
	var w struct {
		*plain
		Conversation json.RawMessage `json:"conversation"`
	}
	w.plain = (*plain)(r)
	*r = Request{}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	id, err := conversationID(w.Conversation)
	if err != nil {
		return err
	}
	r.Conversation = id
	return nil
}

// conversationID decodes the conversation parameter: null, "conv_…" or
// {"id": "conv_…"}.
func conversationID(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return "", nil
	}
	var id string
	if b[0] == '"' {
		if err := json.Unmarshal(b, &id); err != nil {
			return "", fmt.Errorf("decode conversation: %w", err)
		}
		return id, nil
	}
	var obj struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil || obj.ID == nil {
		return "", fmt.Errorf(`decode conversation: want a string "conv_…" or an object {"id": "conv_…"}, got %s`, b)
	}
	return *obj.ID, nil
}

// Input is a request's input: either a plain string or a list of items.
type Input struct {
	Text  string
	Items []Item
}

// TextInput returns an input holding a plain string.
func TextInput(s string) Input { return Input{Text: s} }

// ItemsInput returns an input holding items.
func ItemsInput(items ...Item) Input { return Input{Items: items} }

// IsZero reports whether the input is empty.
func (in Input) IsZero() bool { return in.Text == "" && in.Items == nil }

// MarshalJSON encodes a string, or else the item array.
func (in Input) MarshalJSON() ([]byte, error) {
	if in.Items == nil {
		return json.Marshal(in.Text)
	}
	return json.Marshal(in.Items)
}

// UnmarshalJSON accepts a string or an array of items.
func (in *Input) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*in = Input{}
		return json.Unmarshal(b, &in.Text)
	}
	var items []Item
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	*in = Input{Items: items}
	return nil
}

// Reasoning configures reasoning models.
type Reasoning struct {
	Effort  string `json:"effort,omitempty"`  // none, minimal, low, medium, high, xhigh
	Summary string `json:"summary,omitempty"` // auto, concise, detailed
}

// TextConfig is the text parameter: output format and verbosity.
type TextConfig struct {
	Format    *TextFormat `json:"format,omitempty"`
	Verbosity string      `json:"verbosity,omitempty"`
}

// TextFormat is {"type":"text"}, {"type":"json_object"} or a flat
// {"type":"json_schema","name","schema","strict","description"}.
type TextFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Prompt references a stored prompt template.
type Prompt struct {
	ID        string         `json:"id"`
	Version   string         `json:"version,omitempty"`
	Variables map[string]any `json:"variables,omitempty"`
}

// ToolChoice is the tool_choice parameter in any of its forms: a mode
// ("none", "auto", "required") or an object such as {"type":"function",
// "name":"x"}, {"type":"mcp","server_label":"s"}, {"type":"shell"} or
// {"type":"allowed_tools","mode":"auto","tools":[...]}.
type ToolChoice struct {
	Mode   string          // set for the string form
	Object json.RawMessage // set for the object form
}

// ToolChoiceMode returns the string form: "none", "auto" or "required".
func ToolChoiceMode(mode string) *ToolChoice { return &ToolChoice{Mode: mode} }

// ToolChoiceFunction forces a call of the named function tool.
func ToolChoiceFunction(name string) *ToolChoice {
	return &ToolChoice{Object: MustJSON(map[string]string{"type": "function", "name": name})}
}

// ToolChoiceType forces a tool by type: "shell", "apply_patch",
// "web_search_preview", "code_interpreter", ...
func ToolChoiceType(typ string) *ToolChoice {
	return &ToolChoice{Object: MustJSON(map[string]string{"type": typ})}
}

// MarshalJSON encodes the mode string or the object.
func (tc ToolChoice) MarshalJSON() ([]byte, error) {
	if tc.Object != nil {
		return tc.Object, nil
	}
	return json.Marshal(tc.Mode)
}

// UnmarshalJSON accepts both forms.
func (tc *ToolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		*tc = ToolChoice{}
		return json.Unmarshal(b, &tc.Mode)
	}
	*tc = ToolChoice{Object: bytes.Clone(b)}
	return nil
}

// ToolDefinition is one entry of a request's tools array, kept as JSON so
// every tool type (function, custom, shell, apply_patch, mcp, computer,
// hosted tools, and types added later) is expressible. Type and Name are a
// read-only view of its header.
type ToolDefinition struct {
	Type string
	Name string // function and custom tools; server_label for mcp

	raw json.RawMessage
}

// NewToolDefinition returns the definition whose JSON is v marshalled.
func NewToolDefinition(v any) (ToolDefinition, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return ToolDefinition{}, fmt.Errorf("marshal tool definition: %w", err)
	}
	var d ToolDefinition
	return d, d.decode(b)
}

// MustToolDefinition is like [NewToolDefinition] but panics on error.
func MustToolDefinition(v any) ToolDefinition {
	d, err := NewToolDefinition(v)
	if err != nil {
		panic(err)
	}
	return d
}

func (d *ToolDefinition) decode(b []byte) error {
	var h struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		ServerLabel string `json:"server_label"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("responses: decode tool definition: %w", err)
	}
	if h.Name == "" {
		h.Name = h.ServerLabel
	}
	// Kept as json.Marshal would write it (compact, HTML characters
	// escaped), so that a request can append it as it is.
	var buf bytes.Buffer
	buf.Grow(len(b))
	if err := json.Compact(&buf, b); err != nil {
		return fmt.Errorf("responses: decode tool definition: %w", err)
	}
	raw := buf.Bytes()
	if bytes.ContainsAny(raw, "<>&\u2028\u2029") {
		var esc bytes.Buffer
		json.HTMLEscape(&esc, raw)
		raw = esc.Bytes()
	}
	*d = ToolDefinition{Type: h.Type, Name: h.Name, raw: raw}
	return nil
}

// MarshalJSON returns the definition's JSON unchanged.
func (d ToolDefinition) MarshalJSON() ([]byte, error) {
	if d.raw == nil {
		return []byte("null"), nil
	}
	return d.raw, nil
}

// UnmarshalJSON keeps a copy of b.
func (d *ToolDefinition) UnmarshalJSON(b []byte) error { return d.decode(b) }

// Raw returns the definition's JSON. The caller must not modify it.
func (d ToolDefinition) Raw() json.RawMessage { return d.raw }

// FunctionTool is the definition of a function tool. Parameters is a JSON
// Schema object; Strict is sent as given (false included).
type FunctionTool struct {
	Type        string          `json:"type"` // "function"
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      bool            `json:"strict"`
}

// CustomTool is the definition of a custom (freeform text) tool.
type CustomTool struct {
	Type        string          `json:"type"` // "custom"
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Format      json.RawMessage `json:"format,omitempty"`
}

// requestWriter appends the members of a JSON object.
type requestWriter struct {
	b   []byte
	err error
}

// key appends the member name, after a comma unless it is the first.
func (w *requestWriter) key(name string) {
	if w.b[len(w.b)-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
}

func (w *requestWriter) str(name, v string) {
	if v != "" {
		w.key(name)
		w.b = appendString(w.b, v)
	}
}

func (w *requestWriter) boolean(name string, v *bool) {
	if v != nil {
		w.key(name)
		w.b = strconv.AppendBool(w.b, *v)
	}
}

// array appends a non-empty array of n elements, each appended by elem;
// an empty one is left out.
func (w *requestWriter) array(name string, n int, elem func(b []byte, i int) []byte) {
	if n == 0 {
		return
	}
	w.key(name)
	w.b = append(w.b, '[')
	for i := range n {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = elem(w.b, i)
	}
	w.b = append(w.b, ']')
}

// value appends v as json.Marshal writes it: the fields not worth encoding
// by hand.
func (w *requestWriter) value(name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("%s: %w", name, err)
		}
		return
	}
	w.key(name)
	w.b = append(w.b, b...)
}

// appendRequest appends the JSON of r without its Extra fields, byte for
// byte as json.Marshal writes the struct, with the common fields (strings,
// flags, tools) written without reflection: it runs for every request.
func appendRequest(b []byte, r *Request) ([]byte, error) {
	if b == nil {
		n := 128 + len(r.Model) + len(r.Instructions) + len(r.PreviousResponseID)
		for _, t := range r.Tools {
			n += len(t.raw) + 1
		}
		b = make([]byte, 0, n)
	}
	w := requestWriter{b: append(b, '{')}
	w.str("model", r.Model)
	if !r.Input.IsZero() {
		w.value("input", r.Input)
	}
	w.array("include", len(r.Include), func(b []byte, i int) []byte { return appendString(b, r.Include[i]) })
	w.str("instructions", r.Instructions)
	if r.MaxOutputTokens != nil {
		w.key("max_output_tokens")
		w.b = strconv.AppendInt(w.b, *r.MaxOutputTokens, 10)
	}
	if len(r.Metadata) > 0 {
		w.value("metadata", r.Metadata)
	}
	w.boolean("parallel_tool_calls", r.ParallelToolCalls)
	w.str("previous_response_id", r.PreviousResponseID)
	if r.Reasoning != nil {
		w.key("reasoning")
		w.b = append(w.b, '{')
		w.str("effort", r.Reasoning.Effort)
		w.str("summary", r.Reasoning.Summary)
		w.b = append(w.b, '}')
	}
	w.boolean("store", r.Store)
	if r.Stream {
		w.key("stream")
		w.b = append(w.b, "true"...)
	}
	if r.Temperature != nil {
		w.value("temperature", *r.Temperature)
	}
	if r.Text != nil {
		w.value("text", r.Text)
	}
	if r.ToolChoice != nil {
		w.value("tool_choice", r.ToolChoice)
	}
	w.array("tools", len(r.Tools), func(b []byte, i int) []byte {
		if raw := r.Tools[i].raw; raw != nil {
			return append(b, raw...) // compact and escaped when decoded
		}
		return append(b, "null"...)
	})
	if r.TopP != nil {
		w.value("top_p", *r.TopP)
	}
	w.str("truncation", r.Truncation)
	if r.Prompt != nil {
		w.value("prompt", r.Prompt)
	}
	w.str("conversation", r.Conversation)
	if len(r.ContextManagement) > 0 {
		w.value("context_management", r.ContextManagement)
	}
	if w.err != nil {
		return nil, w.err
	}
	return append(w.b, '}'), nil
}
