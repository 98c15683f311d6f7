package mcp

import (
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/tools"
)

// TestIdempotencyKeyInMeta: a call whose context carries a driver's
// attempt sends its idempotency key in the request's _meta, under
// IdempotencyKeyMeta, to a real (stdio) server; without one it sends none.
func TestIdempotencyKeyInMeta(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, nil)
	meta := toolByName(t, set, "test__meta")

	out, err := callText(t.Context(), t, meta, `{}`)
	require.NoError(t, err)
	assert.Equal(t, "none", out, "no attempt, no key")

	for n := 1; n <= 2; n++ {
		ctx := tools.WithAttempt(t.Context(), tools.Attempt{Key: "run-1/call_7", Number: n})
		out, err = callText(ctx, t, meta, `{}`)
		require.NoError(t, err)
		assert.Equal(t, "run-1/call_7", out, "attempt %d", n)
	}
	require.NoError(t, set.Close())
}

// TestIdempotentFromAnnotations: an MCP tool is idempotent when its server
// marks it read-only or idempotent.
func TestIdempotentFromAnnotations(t *testing.T) {
	yes, no := true, false
	var _ tools.Idempotent = (*Tool)(nil)
	for _, tc := range []struct {
		name string
		info toolInfo
		want bool
	}{
		{"no annotations", toolInfo{Name: "t"}, false},
		{"read-only", toolInfo{Name: "t", Annotations: annotations(&yes, nil)}, true},
		{"idempotent", toolInfo{Name: "t", Annotations: annotations(&no, &yes)}, true},
		{"neither", toolInfo{Name: "t", Annotations: annotations(&no, &no)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, newTool(&server{name: "s"}, tc.info, "s__t").Idempotent())
		})
	}
}

func annotations(readOnly, idempotent *bool) *mcpgo.ToolAnnotation {
	return &mcpgo.ToolAnnotation{ReadOnlyHint: readOnly, IdempotentHint: idempotent}
}
