package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunToolsCall(t *testing.T) {
	s := mcpserver.NewMCPServer("conf", "1.0.0", mcpserver.WithToolCapabilities(true))
	var got []float64
	s.AddTool(mcpgo.NewTool("add_numbers", mcpgo.WithNumber("a"), mcpgo.WithNumber("b")),
		func(_ context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			got = append(got, r.GetFloat("a", 0), r.GetFloat("b", 0))
			return mcpgo.NewToolResultText("8"), nil
		})
	hs := httptest.NewServer(mcpserver.NewStreamableHTTPServer(s))
	defer hs.Close()

	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{hs.URL + "/mcp"}, "tools_call", &out, &errOut))
	assert.Equal(t, []float64{5, 3}, got)
	assert.Contains(t, out.String(), "tool: conformance__add_numbers")
	assert.Contains(t, out.String(), `"output":"8"`)

	err := run(t.Context(), []string{hs.URL + "/mcp"}, "sse-retry", &out, &errOut)
	assert.ErrorContains(t, err, `offers no tool "test_reconnection"`)
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.ErrorIs(t, run(t.Context(), nil, "", &out, &errOut), errUsage)
	assert.True(t, strings.HasPrefix(errOut.String(), "usage:"))
	assert.NoError(t, run(t.Context(), []string{"-h"}, "", &out, &errOut))
	err := run(t.Context(), []string{"-timeout", "2s", "http://127.0.0.1:1/mcp"}, "initialize", &out, &errOut)
	assert.Error(t, err, "no server listening")
}
