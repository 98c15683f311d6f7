package mcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// Hosted is a hosted MCP tool: the Responses API server connects to the MCP
// server named by ServerURL (or the connector ConnectorID) and calls its
// tools itself. The agent only sends the definition and answers the
// mcp_approval_request items it produces through its approver.
type Hosted struct {
	ServerLabel       string            // required: names the server in items and tool_choice
	ServerURL         string            // exactly one of ServerURL and ConnectorID
	ConnectorID       string            // e.g. "connector_googledrive"
	Authorization     string            // OAuth access token for the server or connector
	Headers           map[string]string // sent by the API server to the MCP server
	ServerDescription string
	// AllowedTools limits the server's tools that are imported; nil imports
	// all of them.
	AllowedTools []string
	// RequireApproval is "always", "never", or a per-tool policy; nil sends
	// "always" (every call is approved through the agent's approver).
	RequireApproval *HostedApproval
}

// HostedApproval is the require_approval setting of a [Hosted] tool.
type HostedApproval struct {
	Mode   string   // "always" or "never"; empty with per-tool lists
	Always []string // tool names that always need approval
	Never  []string // tool names that never need approval
}

// NewHosted returns the definition-only tool for h. It returns an error when
// the server label is missing, or when not exactly one of ServerURL and
// ConnectorID is set, or the approval mode is unknown.
func NewHosted(h Hosted) (*HostedTool, error) {
	if h.ServerLabel == "" {
		return nil, errors.New("hosted mcp: server_label is required")
	}
	if (h.ServerURL == "") == (h.ConnectorID == "") {
		return nil, fmt.Errorf("hosted mcp %q: set exactly one of server_url and connector_id", h.ServerLabel)
	}
	def := map[string]any{"type": "mcp", "server_label": h.ServerLabel}
	if h.ServerURL != "" {
		def["server_url"] = h.ServerURL
	} else {
		def["connector_id"] = h.ConnectorID
	}
	if h.Authorization != "" {
		def["authorization"] = h.Authorization
	}
	if len(h.Headers) > 0 {
		def["headers"] = maps.Clone(h.Headers)
	}
	if h.ServerDescription != "" {
		def["server_description"] = h.ServerDescription
	}
	if h.AllowedTools != nil {
		def["allowed_tools"] = slices.Clone(h.AllowedTools)
	}
	ra := h.RequireApproval
	switch {
	case ra == nil:
		def["require_approval"] = "always"
	case len(ra.Always) == 0 && len(ra.Never) == 0:
		if ra.Mode != "always" && ra.Mode != "never" {
			return nil, fmt.Errorf("hosted mcp %q: require_approval %q is not \"always\" or \"never\"", h.ServerLabel, ra.Mode)
		}
		def["require_approval"] = ra.Mode
	default:
		if ra.Mode != "" {
			return nil, fmt.Errorf("hosted mcp %q: require_approval takes a mode or per-tool lists, not both", h.ServerLabel)
		}
		m := map[string]any{}
		if len(ra.Always) > 0 {
			m["always"] = map[string]any{"tool_names": slices.Clone(ra.Always)}
		}
		if len(ra.Never) > 0 {
			m["never"] = map[string]any{"tool_names": slices.Clone(ra.Never)}
		}
		def["require_approval"] = m
	}
	d, err := responses.NewToolDefinition(def)
	if err != nil {
		return nil, err
	}
	return &HostedTool{label: h.ServerLabel, def: d}, nil
}

// HostedTool is the definition of a hosted MCP tool. The loop never routes
// calls to it: the API server runs them, and answers to its approval
// requests go through the agent's approver.
type HostedTool struct {
	label string
	def   responses.ToolDefinition
}

var _ tools.Tool = (*HostedTool)(nil)

// ServerLabel returns the server label.
func (t *HostedTool) ServerLabel() string { return t.label }

// Definition returns the {"type": "mcp", ...} entry of the tools array.
func (t *HostedTool) Definition() responses.ToolDefinition { return t.def }

// Call always fails: hosted MCP calls are made by the API server.
func (t *HostedTool) Call(context.Context, tools.Call) (responses.Item, error) {
	return responses.Item{}, fmt.Errorf("hosted mcp %q: calls are made by the API server, not locally", t.label)
}
