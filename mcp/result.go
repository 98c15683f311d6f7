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

// convertResult turns a tools/call result into the output item for call:
// text blocks joined by newlines, structuredContent as JSON (unless a text
// block already carries the same JSON), media and resources described, and
// the text capped at maxBytes (head and tail kept). With images, image
// blocks become input_image parts of an array output. An isError result is
// prefixed "error: " so the model reads it as a failure it can act on.
func convertResult(call tools.Call, res *mcpgo.CallToolResult, maxBytes int, images bool) responses.Item {
	var (
		texts []string
		parts []responses.ContentPart
	)
	for _, c := range res.Content {
		switch v := c.(type) {
		case mcpgo.TextContent:
			texts = append(texts, v.Text)
		case mcpgo.ImageContent:
			size := base64.StdEncoding.DecodedLen(len(v.Data))
			if images && size <= maxImageBytes && strings.HasPrefix(v.MIMEType, "image/") {
				parts = append(parts, responses.ContentPart{Type: "input_image", ImageURL: "data:" + v.MIMEType + ";base64," + v.Data, Detail: "auto"})
				texts = append(texts, fmt.Sprintf("[image %d: %s, attached]", len(parts), v.MIMEType))
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
			b, _ := json.Marshal(c)
			texts = append(texts, "[unsupported content: "+string(b)+"]")
		}
	}
	if sc := structuredJSON(res); sc != nil && !containsJSON(texts, sc) {
		texts = append(texts, string(sc))
	}
	text := strings.Join(texts, "\n")
	if res.IsError {
		if strings.TrimSpace(text) == "" {
			text = "the tool reported an error without a message"
		}
		text = "error: " + text
	}
	text = capText(text, maxBytes)
	if len(parts) == 0 {
		return tools.TextOutput(call, text, res.IsError)
	}
	out := append([]responses.ContentPart{responses.InputText(text)}, parts...)
	return responses.MustItem(responses.FunctionCallOutput{
		Type: responses.TypeFunctionCallOutput, CallID: call.CallID, Output: responses.MustJSON(out), Caller: callerOf(call.Item),
	})
}

func callerOf(it responses.Item) json.RawMessage {
	var c struct {
		Caller json.RawMessage `json:"caller"`
	}
	if it.Decode(&c) != nil || string(c.Caller) == "null" {
		return nil
	}
	return c.Caller
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

// containsJSON reports whether one of texts is the JSON value sc.
func containsJSON(texts []string, sc []byte) bool {
	var want any
	if json.Unmarshal(sc, &want) != nil {
		return false
	}
	wantB, _ := json.Marshal(want)
	for _, t := range texts {
		var got any
		if json.Unmarshal([]byte(t), &got) != nil {
			continue
		}
		if gotB, _ := json.Marshal(got); bytes.Equal(gotB, wantB) {
			return true
		}
	}
	return false
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
