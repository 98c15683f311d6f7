package mcp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

var validName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func TestModelNames(t *testing.T) {
	long := strings.Repeat("x", 80)
	keys := []toolKey{
		{"files", "read_file"},
		{"my server", "do.thing"},
		{"my_server", "do_thing"}, // collides with the one above once sanitised
		{"a", long},
		{"a", long + "y"}, // same 64-byte prefix
		{"ü", "é"},
		{"", ""},
	}
	names := modelNames(keys)
	seen := map[string]toolKey{}
	for _, k := range keys {
		n := names[k]
		assert.Regexp(t, validName, n, "name of %v", k)
		if other, dup := seen[n]; dup {
			t.Errorf("%v and %v share the name %q", k, other, n)
		}
		seen[n] = k
	}
	assert.Equal(t, "files__read_file", names[toolKey{"files", "read_file"}])
	assert.Equal(t, "my_server__do_thing", names[toolKey{"my_server", "do_thing"}], "an exact name keeps its name")
	assert.True(t, strings.HasPrefix(names[toolKey{"my server", "do.thing"}], "my_server__do_thing_"))

	// Deterministic: the same set in another order gives the same names.
	rev := make([]toolKey, len(keys))
	for i, k := range keys {
		rev[len(keys)-1-i] = k
	}
	assert.Equal(t, names, modelNames(rev))
}

func FuzzModelNames(f *testing.F) {
	f.Add("server", "tool", "server", "tool2")
	f.Add("a b", "c.d", "a_b", "c_d")
	f.Add(strings.Repeat("s", 70), "t", strings.Repeat("s", 70), "u")
	f.Fuzz(func(t *testing.T, s1, t1, s2, t2 string) {
		keys := []toolKey{{s1, t1}, {s2, t2}}
		names := modelNames(keys)
		for _, k := range keys {
			if !validName.MatchString(names[k]) {
				t.Fatalf("invalid name %q for %v", names[k], k)
			}
		}
		if keys[0] != keys[1] && names[keys[0]] == names[keys[1]] {
			t.Fatalf("%v and %v share %q", keys[0], keys[1], names[keys[0]])
		}
	})
}

func TestStrictCompatible(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		want         bool
	}{
		{"closed and all required", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`, true},
		{"no properties", `{"type":"object","properties":{},"required":[],"additionalProperties":false}`, true},
		{"optional property", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}},"required":["a"],"additionalProperties":false}`, false},
		{"open object", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, false},
		{"$schema", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{},"required":[],"additionalProperties":false}`, false},
		{"nested open", `{"type":"object","properties":{"o":{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}},"required":["o"],"additionalProperties":false}`, false},
		{"nullable union", `{"type":"object","properties":{"u":{"type":["string","null"]}},"required":["u"],"additionalProperties":false}`, true},
		{"default keyword", `{"type":"object","properties":{"a":{"type":"string","default":"x"}},"required":["a"],"additionalProperties":false}`, false},
		// The rules are those of function tools (internal/schema.CheckStrict);
		// these were strict by the keyword list mcp had before.
		{"unsupported format", `{"type":"object","properties":{"u":{"type":"string","format":"uri"}},"required":["u"],"additionalProperties":false}`, false},
		{"property accepting anything", `{"type":"object","properties":{"a":{}},"required":["a"],"additionalProperties":false}`, false},
		{"properties without type", `{"type":"object","properties":{"o":{"properties":{},"additionalProperties":false}},"required":["o"],"additionalProperties":false}`, false},
		{"supported format", `{"type":"object","properties":{"d":{"type":"string","format":"date-time"}},"required":["d"],"additionalProperties":false}`, true},
		{"not an object", `{"type":"string"}`, false},
		{"invalid", `{`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, strictCompatible(json.RawMessage(tc.schema)))
		})
	}
}

func TestDefinitionKeepsSchema(t *testing.T) {
	schema := `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"p":{"anyOf":[{"type":"string"},{"type":"integer","minimum":1}],"default":"x"}},"$defs":{"d":{"type":"string"}}}`
	tl := newTool(&server{name: "s"}, toolInfo{Name: "t", Description: "does t", InputSchema: json.RawMessage(schema)}, "s__t")
	var def responses.FunctionTool
	require.NoError(t, json.Unmarshal(tl.Definition().Raw(), &def))
	assert.Equal(t, "function", def.Type)
	assert.Equal(t, "s__t", def.Name)
	assert.Equal(t, "does t", def.Description)
	assert.False(t, def.Strict)
	assert.JSONEq(t, schema, string(def.Parameters), "the schema is passed through unchanged")

	empty := newTool(&server{name: "s"}, toolInfo{Name: "t", Title: "Title only"}, "s__t")
	require.NoError(t, json.Unmarshal(empty.Definition().Raw(), &def))
	assert.JSONEq(t, `{"type":"object","properties":{}}`, string(def.Parameters))
	assert.Equal(t, "Title only", def.Description)
}

func TestReviewPolicy(t *testing.T) {
	yes, no := true, false
	readOnly := &mcpgo.ToolAnnotation{ReadOnlyHint: &yes, DestructiveHint: &no}
	destructive := &mcpgo.ToolAnnotation{DestructiveHint: &yes, ReadOnlyHint: &yes}
	for _, tc := range []struct {
		name   string
		policy ApprovalPolicy
		tool   string
		ann    *mcpgo.ToolAnnotation
		want   tools.Decision
	}{
		{"default asks", ApprovalPolicy{}, "read", readOnly, tools.Ask},
		{"mode never", ApprovalPolicy{Mode: "never"}, "write", nil, tools.Allow},
		{"mode always", ApprovalPolicy{Mode: "always"}, "read", nil, tools.Ask},
		{"always pattern beats never mode", ApprovalPolicy{Mode: "never", Always: []string{"write_*"}}, "write_file", nil, tools.Ask},
		{"never pattern", ApprovalPolicy{Never: []string{"read_*", "list"}}, "read_file", nil, tools.Allow},
		{"annotations read-only", ApprovalPolicy{Annotations: true}, "get", readOnly, tools.Allow},
		{"annotations destructive wins", ApprovalPolicy{Annotations: true, Mode: "never"}, "rm", destructive, tools.Ask},
		{"annotations ignored unless configured", ApprovalPolicy{}, "get", readOnly, tools.Ask},
		{"annotations without hints", ApprovalPolicy{Annotations: true, Mode: "never"}, "x", &mcpgo.ToolAnnotation{}, tools.Allow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{name: "srv", cfg: ServerConfig{Approval: tc.policy}}
			tl := newTool(s, toolInfo{Name: tc.tool, Annotations: tc.ann}, "srv__"+tc.tool)
			rv, err := tl.Review(t.Context(), fnCall("srv__"+tc.tool, `{"path":"a"}`))
			require.NoError(t, err)
			assert.Equal(t, tc.want, rv.Decision)
			assert.Equal(t, "mcp", rv.Request.Kind)
			assert.Equal(t, "srv__"+tc.tool, rv.Request.Tool)
			assert.Equal(t, "mcp:srv/"+tc.tool, rv.Request.Key)
			assert.Equal(t, "call_srv__"+tc.tool, rv.Request.CallID)
			assert.JSONEq(t, `{"path":"a"}`, string(rv.Request.Arguments))
		})
	}
	tl := newTool(&server{name: "s"}, toolInfo{Name: "t", Annotations: readOnly}, "s__t")
	assert.True(t, tl.ParallelSafe())
	assert.False(t, newTool(&server{name: "s"}, toolInfo{Name: "t"}, "s__t").ParallelSafe())
}

func TestConvertResult(t *testing.T) {
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG fake image bytes"))
	url := "data:image/png;base64," + png
	size := int64(2048)
	img := func(mime string) mcpgo.Content { return mcpgo.NewImageContent(png, mime) }
	text := func(s string) mcpgo.Content { return mcpgo.NewTextContent(s) }
	for _, tc := range []struct {
		name   string
		res    *mcpgo.CallToolResult
		images bool
		want   string                  // the string output
		parts  []responses.ContentPart // or the array output
	}{
		{name: "texts joined", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{text("a"), text("b")}}, want: "a\nb"},
		{name: "one text exactly", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{text("line\n")}, StructuredContent: map[string]any{"content": "line\n"}}, want: "line\n"},
		{name: "structured only", res: &mcpgo.CallToolResult{StructuredContent: map[string]any{"t": 1}}, want: `{"t":1}`},
		{name: "raw structured only", res: &mcpgo.CallToolResult{RawStructuredContent: json.RawMessage(`{"t": 2}`)}, want: `{"t":2}`},
		{name: "content wins over structured", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{text("weather:")}, RawStructuredContent: json.RawMessage(`{"t": 2}`)}, want: "weather:"},
		{name: "empty", res: &mcpgo.CallToolResult{}, want: ""},
		{name: "is error", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{text("denied")}, IsError: true}, want: "error: denied"},
		{name: "is error empty", res: &mcpgo.CallToolResult{IsError: true}, want: "error: the tool reported an error without a message"},
		{name: "is error structured only", res: &mcpgo.CallToolResult{StructuredContent: map[string]any{"code": 7}, IsError: true}, want: `error: {"code":7}`},
		{name: "image described", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{img("image/png")}}, want: "[image: image/png, 21 bytes]"},
		{name: "image attached in order", images: true, res: &mcpgo.CallToolResult{Content: []mcpgo.Content{text("look"), img("image/png"), text("and"), text("more")}},
			parts: []responses.ContentPart{responses.InputText("look"), {Type: "input_image", ImageURL: url, Detail: "auto"}, responses.InputText("and\nmore")}},
		{name: "image alone", images: true, res: &mcpgo.CallToolResult{Content: []mcpgo.Content{img("image/png")}},
			parts: []responses.ContentPart{{Type: "input_image", ImageURL: url, Detail: "auto"}}},
		{name: "is error with image", images: true, res: &mcpgo.CallToolResult{Content: []mcpgo.Content{img("image/png")}, IsError: true},
			parts: []responses.ContentPart{responses.InputText("error:"), {Type: "input_image", ImageURL: url, Detail: "auto"}}},
		{name: "image type the API refuses", images: true, res: &mcpgo.CallToolResult{Content: []mcpgo.Content{img("image/svg+xml")}}, want: "[image: image/svg+xml, 21 bytes]"},
		{name: "image not base64", images: true, res: &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.NewImageContent("not base64!", "image/png")}}, want: "[image: image/png, 6 bytes]"},
		{name: "audio", images: true, res: &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.NewAudioContent(png, "audio/wav")}}, want: "[audio: audio/wav, 21 bytes]"},
		{name: "resource link", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.ResourceLink{Type: "resource_link", URI: "file:///a.txt", Name: "a", MIMEType: "text/plain", Size: &size, Description: "notes"}}}, want: "[resource link: file:///a.txt (a), text/plain, 2.0 KiB: notes]"},
		{name: "text resource", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.NewEmbeddedResource(mcpgo.TextResourceContents{URI: "mem://x", MIMEType: "text/plain", Text: "body"})}}, want: "[resource mem://x (text/plain)]\nbody"},
		{name: "blob resource", res: &mcpgo.CallToolResult{Content: []mcpgo.Content{mcpgo.NewEmbeddedResource(mcpgo.BlobResourceContents{URI: "mem://b", Blob: png})}}, want: "[resource mem://b, 21 bytes of binary data]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call := fnCall("s__t", "{}")
			it := convertResult(call, tc.res, 1<<20, tc.images)
			var out responses.FunctionCallOutput
			require.NoError(t, it.Decode(&out))
			assert.Equal(t, "call_s__t", out.CallID)
			if tc.parts == nil {
				var s string
				require.NoError(t, json.Unmarshal(out.Output, &s), "%s", out.Output)
				assert.Equal(t, tc.want, s)
				assert.NotContains(t, s, png, "no base64 in text")
				return
			}
			var parts []responses.ContentPart
			require.NoError(t, json.Unmarshal(out.Output, &parts), "%s", out.Output)
			assert.Equal(t, tc.parts, parts)
			for _, p := range parts {
				assert.NotContains(t, p.Text, png, "no base64 in text")
			}
		})
	}
	// A custom tool call gets a custom_tool_call_output with the same parts.
	it := convertResult(tools.NewCall(responses.MustItem(responses.CustomToolCall{Type: responses.TypeCustomToolCall, CallID: "c", Name: "n", Input: "{}"})),
		&mcpgo.CallToolResult{Content: []mcpgo.Content{img("image/png")}}, 1<<20, true)
	assert.Equal(t, responses.TypeCustomToolCallOutput, it.Type)
	assert.Contains(t, string(it.Raw()), `"input_image"`)
}

func TestOutputSchemaCheck(t *testing.T) {
	var o outputSchemas
	schema := json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`)
	for _, tc := range []struct {
		name, schema, structured string
		wantErr, wantBad         bool
	}{
		{name: "match", schema: string(schema), structured: `{"n":1}`},
		{name: "mismatch", schema: string(schema), structured: `{"n":"one"}`, wantErr: true},
		{name: "missing property", schema: string(schema), structured: `{}`, wantErr: true},
		{name: "no schema", structured: `{"n":"one"}`},
		{name: "no structured content", schema: string(schema)},
		{name: "schema that does not compile", schema: `{"type":"no such type"}`, structured: `{}`, wantBad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sc json.RawMessage
			if tc.structured != "" {
				sc = json.RawMessage(tc.structured)
			}
			err, bad := o.check(json.RawMessage(tc.schema), sc)
			if tc.wantErr {
				assert.ErrorIs(t, err, ErrOutputSchema)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.wantBad, bad != nil, "bad: %v", bad)
		})
	}
	_, bad := o.check(json.RawMessage(`{"type":"no such type"}`), json.RawMessage(`{}`))
	assert.NoError(t, bad, "a bad schema is reported once")
}

func TestCapText(t *testing.T) {
	s := strings.Repeat("a", 500) + strings.Repeat("é", 500) + strings.Repeat("z", 500)
	got := capText(s, 300)
	assert.LessOrEqual(t, len(got), 300)
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasPrefix(got, "aaaa"))
	assert.True(t, strings.HasSuffix(got, "zzzz"))
	assert.Regexp(t, `\[\.\.\. \d+ bytes dropped \.\.\.\]`, got)
	var dropped int
	_, err := fmtSscanDropped(got, &dropped)
	require.NoError(t, err)
	kept := len(got) - len(markerOf(got))
	assert.Equal(t, len(s), kept+dropped, "the dropped size is exact")

	assert.Equal(t, "short", capText("short", 300))
	assert.Equal(t, s, capText(s, -1))
}

func TestCallArgumentsFromCustomCall(t *testing.T) {
	it := responses.MustItem(responses.CustomToolCall{Type: responses.TypeCustomToolCall, CallID: "c", Name: "n", Input: `{"x":1}`})
	assert.Equal(t, `{"x":1}`, callArguments(tools.NewCall(it)))
	m, err := parseArguments(`{"big": 12345678901234567890}`)
	require.NoError(t, err)
	b, _ := json.Marshal(m)
	assert.JSONEq(t, `{"big": 12345678901234567890}`, string(b), "numbers keep their precision")
}

func TestHosted(t *testing.T) {
	h, err := NewHosted(Hosted{ServerLabel: "docs", ServerURL: "https://mcp.example.test/sse", Headers: map[string]string{"X-Api-Key": "k"},
		AllowedTools: []string{"search", "fetch"}, RequireApproval: &HostedApproval{Never: []string{"search"}, Always: []string{"fetch"}}})
	require.NoError(t, err)
	assert.Equal(t, "mcp", h.Definition().Type)
	assert.Equal(t, "docs", h.Definition().Name)
	assert.JSONEq(t, `{"type":"mcp","server_label":"docs","server_url":"https://mcp.example.test/sse","headers":{"X-Api-Key":"k"},
		"allowed_tools":["search","fetch"],"require_approval":{"never":{"tool_names":["search"]},"always":{"tool_names":["fetch"]}}}`, string(h.Definition().Raw()))
	_, err = h.Call(t.Context(), fnCall("docs", "{}"))
	assert.ErrorContains(t, err, "made by the API server")

	c, err := NewHosted(Hosted{ServerLabel: "drive", ConnectorID: "connector_googledrive", Authorization: "tok", RequireApproval: &HostedApproval{Mode: "never"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"mcp","server_label":"drive","connector_id":"connector_googledrive","authorization":"tok","require_approval":"never"}`, string(c.Definition().Raw()))

	for _, tc := range []struct {
		name string
		h    Hosted
		want string
	}{
		{"no label", Hosted{ServerURL: "https://x"}, "server_label is required"},
		{"no target", Hosted{ServerLabel: "x"}, "exactly one of"},
		{"two targets", Hosted{ServerLabel: "x", ServerURL: "https://x", ConnectorID: "c"}, "exactly one of"},
		{"bad mode", Hosted{ServerLabel: "x", ServerURL: "https://x", RequireApproval: &HostedApproval{Mode: "sometimes"}}, "not \"always\" or \"never\""},
		{"mode and lists", Hosted{ServerLabel: "x", ServerURL: "https://x", RequireApproval: &HostedApproval{Mode: "never", Never: []string{"a"}}}, "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHosted(tc.h)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

var droppedRE = regexp.MustCompile(`\n\[\.\.\. (\d+) bytes dropped \.\.\.\]\n`)

func markerOf(s string) string { return droppedRE.FindString(s) }

func fmtSscanDropped(s string, n *int) (int, error) {
	m := droppedRE.FindStringSubmatch(s)
	if m == nil {
		return 0, assert.AnError
	}
	return fmt.Sscan(m[1], n)
}

// FuzzConvertResult: whatever a server sends, the output is valid JSON, and
// the base64 of binary content never appears in the text the model reads.
func FuzzConvertResult(f *testing.F) {
	f.Add("hello", []byte("\x89PNG\r\n\x1a\nIHDR some image bytes"), "image/png", true, false)
	f.Add("", []byte("RIFF....WAVEfmt audio"), "audio/wav", false, true)
	f.Add(`{"a":1}`, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "", true, true)
	f.Fuzz(func(t *testing.T, text string, data []byte, mime string, images, isError bool) {
		b64 := base64.StdEncoding.EncodeToString(data)
		res := &mcpgo.CallToolResult{IsError: isError, Content: []mcpgo.Content{
			mcpgo.NewTextContent(text),
			mcpgo.NewImageContent(b64, mime),
			mcpgo.NewAudioContent(b64, mime),
			mcpgo.NewEmbeddedResource(mcpgo.BlobResourceContents{URI: "mem://b", MIMEType: mime, Blob: b64}),
		}, StructuredContent: map[string]any{"data": b64}}
		it := convertResult(fnCall("s__t", "{}"), res, 1<<20, images)
		var out responses.FunctionCallOutput
		require.NoError(t, it.Decode(&out))
		require.True(t, json.Valid(out.Output))
		var texts []string
		var s string
		if json.Unmarshal(out.Output, &s) == nil {
			texts = []string{s}
		} else {
			var parts []responses.ContentPart
			require.NoError(t, json.Unmarshal(out.Output, &parts))
			for _, p := range parts {
				texts = append(texts, p.Text)
			}
		}
		if len(b64) < 16 || strings.Contains(text, b64) || strings.Contains(mime, b64) {
			return
		}
		for _, s := range texts {
			assert.NotContains(t, s, b64)
		}
	})
}
