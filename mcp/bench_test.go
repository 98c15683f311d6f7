package mcp

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/agentloop/agentloop/tools"
)

// BenchmarkCallStdio measures what this package adds to an MCP tool call
// over stdio: each iteration makes one bare mcp-go CallTool and one
// Tool.Call (arguments parsed, session checked, progress token registered,
// result converted to an output item) of the same echo tool, each against
// its own process of the same server, with the same request on the wire
// (a progress token included), interleaved so both see the same machine
// noise. It reports the Tool.Call time as a ratio to the bare call
// ("x-bare") and the difference per call.
func BenchmarkCallStdio(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)

	bare, err := client.NewStdioMCPClientWithOptions(exe, []string{testServerEnv + "=serve"}, nil, transport.WithCommandLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	init := mcpgo.InitializeRequest{}
	init.Params.ProtocolVersion = mcpgo.LATEST_LEGACY_PROTOCOL_VERSION
	init.Params.ClientInfo = mcpgo.Implementation{Name: "bench", Version: "0"}
	if _, err := bare.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	req := mcpgo.CallToolRequest{}
	req.Params.Name = "echo"
	req.Params.Arguments = map[string]any{"text": "hello"}
	// The same request on the wire as Tool.Call's, which asks for progress.
	req.Params.Meta = &mcpgo.Meta{ProgressToken: "bench-1"}

	set, err := Connect(ctx, &Config{Servers: map[string]ServerConfig{"b": {Command: exe, Env: map[string]string{testServerEnv: "serve"}}}}, &Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer set.Close()
	ts, err := set.Tools(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var echo tools.Tool
	for _, t := range ts {
		if t.(*Tool).ToolName() == "echo" {
			echo = t
		}
	}
	call := fnCall("b__echo", `{"text":"hello"}`)

	var bareTime, toolTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := bare.CallTool(ctx, req); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := echo.Call(ctx, call); err != nil {
			b.Fatal(err)
		}
		toolTime += time.Since(t1)
		bareTime += t1.Sub(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(bareTime.Nanoseconds())/n, "bare-ns/call")
	b.ReportMetric(float64(toolTime.Nanoseconds())/n, "tool-ns/call")
	b.ReportMetric(float64(toolTime)/float64(bareTime), "x-bare")
	b.ReportMetric(float64((toolTime-bareTime).Nanoseconds())/n, "overhead-ns/call")
}
