package mcp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// maxImageBytes is the largest image passed to the model as an image; larger
// ones are described.
const maxImageBytes = 8 << 20

// imageTypes are the image types the Responses API takes as input_image.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true, "image/gif": true}

// convertResult turns a tools/call result into the output item for call,
// following the MCP specification: the model gets the content blocks, and
// structuredContent (as JSON) only when there are none. Text blocks are
// joined by newlines; audio, blob resources and images the output cannot
// carry are described (type, MIME type, size), so no base64 ever reaches the
// model as text; text resources and resource links are summarised. With
// images, image blocks of a type the API accepts become input_image parts
// of an array output, in block order. Each text part is capped at maxBytes
// (head and tail kept). An isError result is prefixed "error: " so the
// model reads it as a failure it can act on.
func convertResult(call tools.Call, res *mcpgo.CallToolResult, maxBytes int, images bool) responses.Item {
	if len(res.Content) == 1 && !res.IsError { // the common case: one text block
		if v, ok := res.Content[0].(mcpgo.TextContent); ok {
			return tools.TextOutput(call, capText(v.Text, maxBytes), false)
		}
	}
	images = images && (call.Type == responses.TypeFunctionCall || call.Type == responses.TypeCustomToolCall)
	var (
		parts []responses.ContentPart // with images: text and image parts in order
		texts []string                // the text since the last image
	)
	flush := func() {
		if len(texts) > 0 {
			parts = append(parts, responses.InputText(capText(strings.Join(texts, "\n"), maxBytes)))
			texts = texts[:0]
		}
	}
	for _, c := range res.Content {
		switch v := c.(type) {
		case mcpgo.TextContent:
			texts = append(texts, v.Text)
		case mcpgo.ImageContent:
			if url, ok := imageURL(v); images && ok {
				flush()
				parts = append(parts, responses.ContentPart{Type: "input_image", ImageURL: url, Detail: "auto"})
				continue
			}
			texts = append(texts, describeMedia("image", v.MIMEType, v.Data))
		case mcpgo.AudioContent:
			texts = append(texts, describeMedia("audio", v.MIMEType, v.Data))
		case mcpgo.ResourceLink:
			texts = append(texts, describeLink(v))
		case mcpgo.EmbeddedResource:
			texts = append(texts, describeResource(v.Resource))
		default:
			texts = append(texts, fmt.Sprintf("[content of an unsupported type (%T)]", c))
		}
	}
	if len(res.Content) == 0 {
		if sc := structuredJSON(res); sc != nil {
			texts = append(texts, string(sc))
		}
	}
	flush()
	if res.IsError {
		parts = markError(parts)
	}
	switch {
	case len(parts) == 0:
		return tools.TextOutput(call, "", false)
	case len(parts) == 1 && parts[0].Type == "input_text":
		return tools.TextOutput(call, parts[0].Text, res.IsError)
	}
	out := responses.MustJSON(parts)
	if call.Type == responses.TypeCustomToolCall {
		return responses.MustItem(responses.CustomToolCallOutput{
			Type: responses.TypeCustomToolCallOutput, CallID: call.CallID, Output: out, Caller: callerOf(call.Item),
		})
	}
	return responses.MustItem(responses.FunctionCallOutput{
		Type: responses.TypeFunctionCallOutput, CallID: call.CallID, Output: out, Caller: callerOf(call.Item),
	})
}

// markError prefixes the output of an isError result with "error: ".
func markError(parts []responses.ContentPart) []responses.ContentPart {
	switch {
	case len(parts) == 0 || parts[0].Type == "input_text" && strings.TrimSpace(parts[0].Text) == "" && len(parts) == 1:
		return []responses.ContentPart{responses.InputText("error: the tool reported an error without a message")}
	case parts[0].Type == "input_text":
		parts[0].Text = "error: " + parts[0].Text
		return parts
	}
	return append([]responses.ContentPart{responses.InputText("error:")}, parts...)
}

// imageURL returns the data URL of an image the Responses API can take:
// one of its image types, valid base64, at most maxImageBytes.
func imageURL(v mcpgo.ImageContent) (string, bool) {
	if !imageTypes[strings.ToLower(v.MIMEType)] || base64.StdEncoding.DecodedLen(len(v.Data)) > maxImageBytes {
		return "", false
	}
	if _, err := base64.StdEncoding.DecodeString(v.Data); err != nil {
		return "", false
	}
	return "data:" + v.MIMEType + ";base64," + v.Data, true
}

func callerOf(it responses.Item) json.RawMessage {
	c := it.Field("caller")
	if string(c) == "null" {
		return nil
	}
	return c
}

// structuredJSON returns the result's structuredContent as compact JSON, or
// nil.
func structuredJSON(res *mcpgo.CallToolResult) []byte {
	var b []byte
	if len(res.RawStructuredContent) > 0 {
		b = res.RawStructuredContent
	} else if res.StructuredContent != nil {
		var err error
		if b, err = json.Marshal(res.StructuredContent); err != nil {
			return nil
		}
	}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return nil
	}
	return buf.Bytes()
}

func describeMedia(kind, mime, data string) string {
	if mime == "" {
		mime = "unknown type"
	}
	return fmt.Sprintf("[%s: %s, %s]", kind, mime, byteSize(base64.StdEncoding.DecodedLen(len(data))))
}

func describeLink(l mcpgo.ResourceLink) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[resource link: %s", l.URI)
	if l.Name != "" {
		fmt.Fprintf(&b, " (%s)", l.Name)
	}
	if l.MIMEType != "" {
		fmt.Fprintf(&b, ", %s", l.MIMEType)
	}
	if l.Size != nil {
		fmt.Fprintf(&b, ", %s", byteSize(int(*l.Size)))
	}
	if l.Description != "" {
		fmt.Fprintf(&b, ": %s", l.Description)
	}
	b.WriteString("]")
	return b.String()
}

func describeResource(r mcpgo.ResourceContents) string {
	switch v := r.(type) {
	case mcpgo.TextResourceContents:
		return fmt.Sprintf("[resource %s%s]\n%s", v.URI, mimeSuffix(v.MIMEType), v.Text)
	case *mcpgo.TextResourceContents:
		return fmt.Sprintf("[resource %s%s]\n%s", v.URI, mimeSuffix(v.MIMEType), v.Text)
	case mcpgo.BlobResourceContents:
		return fmt.Sprintf("[resource %s%s, %s of binary data]", v.URI, mimeSuffix(v.MIMEType), byteSize(base64.StdEncoding.DecodedLen(len(v.Blob))))
	case *mcpgo.BlobResourceContents:
		return fmt.Sprintf("[resource %s%s, %s of binary data]", v.URI, mimeSuffix(v.MIMEType), byteSize(base64.StdEncoding.DecodedLen(len(v.Blob))))
	}
	return "[resource]"
}

func mimeSuffix(m string) string {
	if m == "" {
		return ""
	}
	return " (" + m + ")"
}

func byteSize(n int) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// capText keeps the head and tail of s within max bytes and states how many
// bytes were dropped in between. max <= 0 keeps everything.
func capText(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	const marker = "\n[... %d bytes dropped ...]\n"
	room := max - len(fmt.Sprintf(marker, len(s)))
	if room < 2 {
		room = 2
	}
	head, tail := room/2, room-room/2
	h := s[:head]
	for i := 0; i < utf8.UTFMax-1 && len(h) > 0; i++ { // do not split a rune
		if r, size := utf8.DecodeLastRuneInString(h); r != utf8.RuneError || size != 1 {
			break
		}
		h = h[:len(h)-1]
	}
	t := s[len(s)-tail:]
	for i := 0; i < utf8.UTFMax-1 && len(t) > 0 && !utf8.RuneStart(t[0]); i++ {
		t = t[1:]
	}
	return h + fmt.Sprintf(marker, len(s)-len(h)-len(t)) + t
}
