package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestElicitationAndSampling(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		name      string
		opts      *Options
		ask, samp string
	}{
		{"headless defaults", nil, "decline null", "sampling failed"},
		{"application answers", &Options{
			Elicitor: ElicitorFunc(func(_ context.Context, r ElicitRequest) (ElicitResult, error) {
				if r.Server != "test" || r.Message != "Your name?" || r.Mode != "form" {
					return ElicitResult{Action: ElicitCancel}, nil
				}
				return ElicitResult{Action: ElicitAccept, Content: SchemaDefaults(r.Schema)}, nil
			}),
			Sampler: SamplerFunc(func(_ context.Context, r SampleRequest) (SampleResult, error) {
				if len(r.Messages) != 1 || r.Messages[0].Text != "say hi" || r.SystemPrompt != "be brief" || r.MaxTokens != 10 {
					return SampleResult{}, assert.AnError
				}
				return SampleResult{Text: "hi", Model: "fake-model", StopReason: "endTurn"}, nil
			}),
		}, `accept {"name":"Ada"}`, "fake-model: hi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, tc.opts)
			out, err := callText(t.Context(), t, toolByName(t, set, "test__ask"), "")
			require.NoError(t, err)
			assert.Equal(t, tc.ask, out)
			out, _ = callText(t.Context(), t, toolByName(t, set, "test__sample"), "")
			assert.Contains(t, out, tc.samp)
			require.NoError(t, set.Close())
		})
	}
}

// TestHTTPCancellation checks that a call abandoned over streamable HTTP
// is cancelled on the server, which mcp-go does not do by itself.
func TestHTTPCancellation(t *testing.T) {
	checkLeaks(t)
	cancelled := make(chan struct{})
	var once sync.Once
	s := mcpserver.NewMCPServer("http-test", "1.0.0", mcpserver.WithToolCapabilities(true))
	s.AddTool(mcpgo.NewTool("slow"), func(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		select {
		case <-ctx.Done():
			once.Do(func() { close(cancelled) })
		case <-time.After(15 * time.Second):
		}
		return mcpgo.NewToolResultText("late"), nil
	})
	s.AddTool(mcpgo.NewTool("echo", mcpgo.WithString("text")), func(_ context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return mcpgo.NewToolResultText(r.GetString("text", "")), nil
	})
	// Record the notifications/cancelled the client posts: without one the
	// server may notice only that the HTTP request went away, which a
	// server behind a proxy never does.
	notified := make(chan json.RawMessage, 1)
	h := mcpserver.NewStreamableHTTPServer(s)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			var msg struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			}
			if json.Unmarshal(b, &msg) == nil && msg.Method == "notifications/cancelled" {
				select {
				case notified <- msg.Params:
				default:
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close) // after the set's Close, which ends the listening stream

	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"h": {URL: hs.URL + "/mcp", CallTimeout: Duration(300 * time.Millisecond)}}}, nil)
	start := time.Now()
	_, err := callText(t.Context(), t, toolByName(t, set, "h__slow"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "timed out after 300ms")
	assert.Less(t, time.Since(start), 10*time.Second)
	select {
	case p := <-notified:
		assert.Contains(t, string(p), `"requestId"`)
	case <-time.After(10 * time.Second):
		t.Fatal("the client never sent notifications/cancelled")
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the tool was never cancelled")
	}
	out, err := callText(t.Context(), t, toolByName(t, set, "h__echo"), `{"text":"ok"}`)
	require.NoError(t, err)
	assert.Equal(t, "ok", out)
	require.NoError(t, set.Close())
}

func TestSchemaDefaults(t *testing.T) {
	got := SchemaDefaults(json.RawMessage(`{"type":"object","properties":{"a":{"type":"string","default":"x"},"n":{"type":"integer","default":3},"b":{"type":"boolean"}}}`))
	assert.Equal(t, map[string]any{"a": "x", "n": float64(3)}, got)
	assert.Empty(t, SchemaDefaults(json.RawMessage(`nope`)))
	assert.True(t, strings.HasPrefix(describeMedia("image", "", "AAAA"), "[image: unknown type"))
}

// TestPaginationAndRawSchemas lists tools over several pages and keeps each
// input schema exactly as the server sent it (mcp-go's own decoding drops
// keywords such as anyOf at the top level).
func TestPaginationAndRawSchemas(t *testing.T) {
	checkLeaks(t)
	s := mcpserver.NewMCPServer("pages", "1.0.0", mcpserver.WithToolCapabilities(true), mcpserver.WithPaginationLimit(2))
	raw := `{"type":"object","description":"top","anyOf":[{"required":["a"]},{"required":["b"]}],"properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`
	for i := range 5 {
		s.AddTool(mcpgo.NewToolWithRawSchema(fmt.Sprintf("t%d", i), "tool", json.RawMessage(raw)),
			func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
				return mcpgo.NewToolResultText("ok"), nil
			})
	}
	hs := httptest.NewServer(mcpserver.NewStreamableHTTPServer(s))
	t.Cleanup(hs.Close)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"p": {URL: hs.URL + "/mcp"}}}, nil)
	ts, err := set.Tools(t.Context())
	require.NoError(t, err)
	require.Len(t, ts, 5, "all pages are listed")
	for _, tl := range ts {
		var def struct {
			Parameters json.RawMessage `json:"parameters"`
		}
		require.NoError(t, json.Unmarshal(tl.Definition().Raw(), &def))
		assert.JSONEq(t, raw, string(def.Parameters))
	}
	require.NoError(t, set.Close())
}

func TestPanickingElicitor(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, &Options{
		Elicitor: ElicitorFunc(func(context.Context, ElicitRequest) (ElicitResult, error) { panic("boom") }),
	})
	out, err := callText(t.Context(), t, toolByName(t, set, "test__ask"), "")
	require.ErrorIs(t, err, ErrToolFailed)
	assert.Contains(t, out, "elicitation failed", "the server gets an error; the program goes on")
	require.NoError(t, set.Close())
}
