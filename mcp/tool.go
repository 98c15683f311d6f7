package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Tool is one tool of an MCP server as a function tool for the model. Its
// name is "server__tool", sanitised to ^[a-zA-Z0-9_-]{1,64}$; calls go to
// the server under the tool's own name. Get tools from [Set.Tools].
//
// Tool implements [tools.Reviewer] with the server's [ApprovalPolicy] and
// [tools.ParallelSafe]. It is safe for concurrent use.
type Tool struct {
	srv  *server
	info toolInfo
	name string
	def  responses.ToolDefinition
}

var (
	_ tools.Tool         = (*Tool)(nil)
	_ tools.Reviewer     = (*Tool)(nil)
	_ tools.ParallelSafe = (*Tool)(nil)
)

func newTool(s *server, info toolInfo, name string) *Tool {
	schema := info.InputSchema
	if len(bytes.TrimSpace(schema)) == 0 || string(bytes.TrimSpace(schema)) == "null" {
		schema = json.RawMessage(emptySchema)
	}
	desc := info.Description
	if desc == "" {
		desc = info.Title
	}
	def := responses.MustToolDefinition(responses.FunctionTool{
		Type: "function", Name: name, Description: desc, Parameters: schema, Strict: strictCompatible(schema),
	})
	return &Tool{srv: s, info: info, name: name, def: def}
}

// Name returns the function name the model sees.
func (t *Tool) Name() string { return t.name }

// Server returns the server's name in the [Config].
func (t *Tool) Server() string { return t.srv.name }

// ToolName returns the tool's name on its server.
func (t *Tool) ToolName() string { return t.info.Name }

// Definition returns the function tool definition: the server's description
// and input schema unchanged, strict only when strict mode can take the
// schema as it is.
func (t *Tool) Definition() responses.ToolDefinition { return t.def }

// ParallelSafe reports whether the server marks the tool read-only
// (readOnlyHint); other MCP tools run one at a time.
func (t *Tool) ParallelSafe() bool {
	a := t.info.Annotations
	return a != nil && a.ReadOnlyHint != nil && *a.ReadOnlyHint
}

// Idempotent reports whether the server says that calling the tool again
// with the same arguments has no further effect: it marks the tool
// read-only (readOnlyHint) or idempotent (idempotentHint). A durable driver
// runs such a call again after a crash; any other MCP tool's interrupted
// call is reported to the model as interrupted. The hints are the server's
// word, not checked. Every call carries its idempotency key, when the
// driver gives one, in the request's _meta ([IdempotencyKeyMeta]), so a
// server can deduplicate a call that is run again.
func (t *Tool) Idempotent() bool {
	a := t.info.Annotations
	return a != nil && (a.ReadOnlyHint != nil && *a.ReadOnlyHint || a.IdempotentHint != nil && *a.IdempotentHint)
}

// Review applies the server's [ApprovalPolicy]. The approval request has
// Kind "mcp" and Key "mcp:<server>/<tool>", which "approve always"
// remembers.
func (t *Tool) Review(_ context.Context, call tools.Call) (tools.Review, error) {
	args := json.RawMessage(callArguments(call))
	if !json.Valid(args) {
		args = responses.MustJSON(string(args))
	}
	return tools.Review{
		Decision: t.srv.cfg.Approval.decide(t.info.Name, t.info.Annotations),
		Request: tools.ApprovalRequest{
			Kind:      "mcp",
			Tool:      t.name,
			CallID:    call.CallID,
			Summary:   fmt.Sprintf("call tool %q of MCP server %q", t.info.Name, t.srv.name),
			Arguments: args,
			Key:       "mcp:" + t.srv.name + "/" + t.info.Name,
		},
	}, nil
}

// Call calls the tool on its server, restarting the server first if it had
// failed, and converts the result (see the package documentation). The call
// is bounded by the server's call timeout; when ctx ends or the timeout
// passes the server is sent notifications/cancelled and Call returns at
// once. Progress notifications go to call.Progress.
//
// A result the server marks isError is returned as its output (starting
// "error: ") together with an error wrapping [ErrToolFailed], so the loop
// reports the call's outcome as [tools.OutcomeError] while the model reads
// the server's message. Bad arguments, JSON-RPC errors, a structuredContent
// that does not match the tool's output schema ([ErrOutputSchema]),
// timeouts and failures of the server are returned as errors with a zero
// item, which the loop gives the model as failed outputs.
func (t *Tool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	it, _, err := t.CallStructured(ctx, call)
	return it, err
}

// CallStructured is [Tool.Call] that also returns the result's
// structuredContent exactly as the server sent it (nil when it sent none),
// for Go programs that read a tool's typed result. The model sees
// structuredContent only when the result has no content blocks; this
// returns it either way. A structuredContent that does not match the tool's
// output schema fails the call with an error wrapping [ErrOutputSchema].
func (t *Tool) CallStructured(ctx context.Context, call tools.Call) (responses.Item, json.RawMessage, error) {
	args, err := parseArguments(callArguments(call))
	if err != nil {
		return responses.Item{}, nil, err
	}
	res, err := t.srv.call(ctx, t.info.Name, args, call.Progress)
	if err != nil {
		return responses.Item{}, nil, err
	}
	sc := structuredJSON(res)
	if !res.IsError {
		err, bad := t.srv.outputs.check(t.info.OutputSchema, sc)
		if bad != nil {
			t.srv.set.opts.Logger.Warn("mcp server: output schema not checked", "mcp_server", t.srv.name, "tool", t.info.Name, "err", bad)
		}
		if err != nil {
			return responses.Item{}, sc, fmt.Errorf("mcp server %q: tool %q: %w", t.srv.name, t.info.Name, err)
		}
	}
	it := convertResult(call, res, t.srv.set.opts.MaxOutputBytes, t.srv.set.opts.Images)
	if res.IsError {
		return it, sc, fmt.Errorf("mcp server %q: tool %q: %w", t.srv.name, t.info.Name, ErrToolFailed)
	}
	return it, sc, nil
}

// ErrToolFailed is wrapped by the error [Tool.Call] returns beside its
// output when the server marks the result isError: the tool ran and
// failed, and the output says why.
var ErrToolFailed = errors.New("the tool reported an error")

// callArguments returns the arguments text of a function call item (the
// input of a custom tool call).
func callArguments(call tools.Call) string {
	var fc struct {
		Arguments *string `json:"arguments"`
		Input     *string `json:"input"`
	}
	if call.Item.IsZero() || call.Item.Decode(&fc) != nil {
		return ""
	}
	if fc.Arguments != nil {
		return *fc.Arguments
	}
	if fc.Input != nil {
		return *fc.Input
	}
	return ""
}

// parseArguments decodes the model's arguments: a JSON object, or nothing.
func parseArguments(s string) (map[string]any, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("arguments are not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("arguments are not a single JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("arguments must be a JSON object, got %s", jsonKind(v))
	}
	return m, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// decide applies the policy to the server's tool named tool.
func (p *ApprovalPolicy) decide(tool string, ann *mcpgo.ToolAnnotation) tools.Decision {
	switch {
	case matchAny(p.Always, tool):
		return tools.Ask
	case matchAny(p.Never, tool):
		return tools.Allow
	}
	if p.Annotations && ann != nil {
		if ann.DestructiveHint != nil && *ann.DestructiveHint {
			return tools.Ask
		}
		if ann.ReadOnlyHint != nil && *ann.ReadOnlyHint {
			return tools.Allow
		}
	}
	if strings.EqualFold(p.Mode, ApprovalNever) {
		return tools.Allow
	}
	return tools.Ask
}
