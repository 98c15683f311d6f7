package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// ElicitRequest is a server's request for information from the user
// (MCP elicitation).
type ElicitRequest struct {
	Server  string // the server's name in the [Config]
	Mode    string // "form" or "url"
	Message string // what is asked and why
	// Schema is the JSON Schema of the answer of a form request: a flat
	// object of primitive properties, which may carry defaults.
	Schema json.RawMessage
	// URL and ElicitationID are set for a url request: the user is to open
	// URL; the answer carries no content.
	URL           string
	ElicitationID string
}

// Elicitation actions of [ElicitResult.Action].
const (
	ElicitAccept  = "accept"
	ElicitDecline = "decline"
	ElicitCancel  = "cancel"
)

// ElicitResult is the user's answer to an [ElicitRequest].
type ElicitResult struct {
	Action  string         // ElicitAccept, ElicitDecline or ElicitCancel
	Content map[string]any // the answer of an accepted form request
}

// Elicitor answers elicitation requests of servers, typically by asking the
// user. It may be called concurrently, from the middle of a tool call.
type Elicitor interface {
	Elicit(ctx context.Context, req ElicitRequest) (ElicitResult, error)
}

// ElicitorFunc adapts a function to an [Elicitor].
type ElicitorFunc func(ctx context.Context, req ElicitRequest) (ElicitResult, error)

// Elicit calls f.
func (f ElicitorFunc) Elicit(ctx context.Context, req ElicitRequest) (ElicitResult, error) {
	return f(ctx, req)
}

// DeclineElicitation is the [Elicitor] of headless runs: it declines every
// request.
var DeclineElicitation Elicitor = ElicitorFunc(func(context.Context, ElicitRequest) (ElicitResult, error) {
	return ElicitResult{Action: ElicitDecline}, nil
})

// SchemaDefaults returns the default values a form request's schema gives
// its properties, as a starting answer. It returns an empty map when the
// schema has no defaults or is not an object schema.
func SchemaDefaults(schema json.RawMessage) map[string]any {
	var s struct {
		Properties map[string]struct {
			Default json.RawMessage `json:"default"`
		} `json:"properties"`
	}
	out := map[string]any{}
	if json.Unmarshal(schema, &s) != nil {
		return out
	}
	for name, p := range s.Properties {
		if len(p.Default) == 0 {
			continue
		}
		var v any
		if json.Unmarshal(p.Default, &v) == nil {
			out[name] = v
		}
	}
	return out
}

type elicitHandler struct {
	server string
	e      Elicitor
	logger *slog.Logger
}

// recovered turns a panic of the application's handler into an error for
// the server (it runs on an mcp-go goroutine, where it would end the
// program) and logs the stack.
func recovered(logger *slog.Logger, what string, err *error) {
	if p := recover(); p != nil {
		logger.Error("mcp: "+what+" panicked", "panic", p, "stack", string(debug.Stack()))
		*err = fmt.Errorf("%s failed", what)
	}
}

func (h elicitHandler) Elicit(ctx context.Context, r mcpgo.ElicitationRequest) (_ *mcpgo.ElicitationResult, err error) {
	defer recovered(h.logger, "elicitation handler", &err)
	e := h.e
	if e == nil {
		e = DeclineElicitation
	}
	req := ElicitRequest{Server: h.server, Mode: r.Params.Mode, Message: r.Params.Message, URL: r.Params.URL, ElicitationID: r.Params.ElicitationID}
	if req.Mode == "" {
		req.Mode = mcpgo.ElicitationModeForm
	}
	if r.Params.RequestedSchema != nil {
		b, err := json.Marshal(r.Params.RequestedSchema)
		if err != nil {
			return nil, fmt.Errorf("requested schema: %w", err)
		}
		req.Schema = b
	}
	res, err := e.Elicit(ctx, req)
	if err != nil {
		return nil, err
	}
	switch res.Action {
	case ElicitAccept, ElicitDecline, ElicitCancel:
	default:
		return nil, fmt.Errorf("elicitor returned unknown action %q", res.Action)
	}
	out := &mcpgo.ElicitationResult{ElicitationResponse: mcpgo.ElicitationResponse{Action: mcpgo.ElicitationResponseAction(res.Action)}}
	if res.Action == ElicitAccept && req.Mode == mcpgo.ElicitationModeForm {
		content := res.Content
		if content == nil {
			content = map[string]any{}
		}
		out.Content = content
	}
	return out, nil
}

// SampleMessage is one message of a [SampleRequest]. Content other than
// text (images, audio) is described in Text.
type SampleMessage struct {
	Role string // "user" or "assistant"
	Text string
}

// SampleRequest is a server's request for a completion by the client's
// model (MCP sampling).
type SampleRequest struct {
	Server        string // the server's name in the [Config]
	SystemPrompt  string
	Messages      []SampleMessage
	MaxTokens     int
	Temperature   float64 // zero when not given
	StopSequences []string
}

// SampleResult is the completion that answers a [SampleRequest].
type SampleResult struct {
	Text       string
	Model      string // the model that produced it
	StopReason string // e.g. "endTurn", "maxTokens"; may be empty
}

// Sampler answers sampling requests of servers, typically with the agent's
// own model. It may be called concurrently, from the middle of a tool call.
// Servers' sampling requests are declined when [Options.Sampler] is nil.
type Sampler interface {
	Sample(ctx context.Context, req SampleRequest) (SampleResult, error)
}

// SamplerFunc adapts a function to a [Sampler].
type SamplerFunc func(ctx context.Context, req SampleRequest) (SampleResult, error)

// Sample calls f.
func (f SamplerFunc) Sample(ctx context.Context, req SampleRequest) (SampleResult, error) {
	return f(ctx, req)
}

type samplingHandler struct {
	server string
	s      Sampler
	logger *slog.Logger
}

func (h samplingHandler) CreateMessage(ctx context.Context, r mcpgo.CreateMessageRequest) (_ *mcpgo.CreateMessageResult, err error) {
	defer recovered(h.logger, "sampling handler", &err)
	if len(r.Tools) > 0 {
		return nil, errors.New("sampling with tools is not supported")
	}
	req := SampleRequest{Server: h.server, SystemPrompt: r.SystemPrompt, MaxTokens: r.MaxTokens,
		Temperature: r.Temperature, StopSequences: r.StopSequences}
	for _, m := range r.Messages {
		req.Messages = append(req.Messages, SampleMessage{Role: string(m.Role), Text: samplingText(m.Content)})
	}
	res, err := h.s.Sample(ctx, req)
	if err != nil {
		return nil, err
	}
	out := &mcpgo.CreateMessageResult{Model: res.Model, StopReason: res.StopReason}
	out.Role = mcpgo.RoleAssistant
	out.Content = mcpgo.NewTextContent(res.Text)
	return out, nil
}

// samplingText flattens sampling content to text.
func samplingText(c any) string {
	switch v := c.(type) {
	case mcpgo.TextContent:
		return v.Text
	case *mcpgo.TextContent:
		return v.Text
	case mcpgo.ImageContent:
		return describeMedia("image", v.MIMEType, v.Data)
	case mcpgo.AudioContent:
		return describeMedia("audio", v.MIMEType, v.Data)
	case []mcpgo.Content:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, samplingText(p))
		}
		return strings.Join(parts, "\n")
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, samplingText(p))
		}
		return strings.Join(parts, "\n")
	}
	b, _ := json.Marshal(c)
	return string(b)
}
