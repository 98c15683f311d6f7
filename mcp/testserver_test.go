package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpserver "github.com/mark3labs/mcp-go/server"
)

// The test binary doubles as a stdio MCP server (an mcp-go server) when
// started with testServerEnv set to a mode:
//
//	serve        tools echo, pid, crash, slow, spawn, progress, meta, add_tool
//	stubborn     like serve, but ignores SIGTERM and keeps running after stdin closes
//	exit-early   writes to stderr and exits 1 before initialize
//	hang         reads stdin but never answers
//	sleep        sleeps (a grandchild started by the spawn tool)
const (
	testServerEnv = "AGENTLOOP_MCP_TESTSERVER"
	testMarkEnv   = "AGENTLOOP_MCP_MARK" // file the slow tool writes "cancelled" to
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(testServerEnv); mode != "" {
		os.Exit(runTestServer(mode))
	}
	os.Exit(m.Run())
}

func runTestServer(mode string) int {
	switch mode {
	case "exit-early":
		fmt.Fprintln(os.Stderr, "loading config")
		fmt.Fprintln(os.Stderr, "fatal: no workspace given")
		return 1
	case "hang":
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "sleep":
		time.Sleep(time.Hour)
		return 0
	}
	s := mcpserver.NewMCPServer("testserver", "1.0.0", mcpserver.WithToolCapabilities(true), mcpserver.WithInstructions("Use echo to echo."))
	s.AddTool(mcpgo.NewTool("echo", mcpgo.WithDescription("Echo text back."), mcpgo.WithString("text", mcpgo.Required())),
		func(_ context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return mcpgo.NewToolResultText(r.GetString("text", "")), nil
		})
	s.AddTool(mcpgo.NewTool("pid", mcpgo.WithDescription("The server's process id.")),
		func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return mcpgo.NewToolResultText(strconv.Itoa(os.Getpid())), nil
		})
	s.AddTool(mcpgo.NewTool("crash", mcpgo.WithDescription("Exit in the middle of the call.")),
		func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			fmt.Fprintln(os.Stderr, "panic: crash tool called")
			os.Exit(3)
			return nil, nil
		})
	s.AddTool(mcpgo.NewTool("slow", mcpgo.WithDescription("Block until cancelled.")),
		func(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			<-ctx.Done()
			if p := os.Getenv(testMarkEnv); p != "" {
				_ = os.WriteFile(p, []byte("cancelled"), 0o644)
			}
			return nil, ctx.Err()
		})
	s.AddTool(mcpgo.NewTool("spawn", mcpgo.WithDescription("Start a grandchild process; return its pid.")),
		func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			exe, _ := os.Executable()
			c := exec.Command(exe)
			c.Env = append(os.Environ(), testServerEnv+"=sleep")
			if err := c.Start(); err != nil {
				return nil, err
			}
			return mcpgo.NewToolResultText(strconv.Itoa(c.Process.Pid)), nil
		})
	s.AddTool(mcpgo.NewTool("progress", mcpgo.WithDescription("Report progress three times.")),
		func(ctx context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			var tok any
			if r.Params.Meta != nil {
				tok = r.Params.Meta.ProgressToken
			}
			for i := 1; i <= 3; i++ {
				if tok != nil {
					_ = mcpserver.ServerFromContext(ctx).SendNotificationToClient(ctx, "notifications/progress",
						map[string]any{"progressToken": tok, "progress": i, "total": 3, "message": fmt.Sprintf("step %d", i)})
				}
			}
			// mcp-go's stdio server writes notifications from another
			// goroutine than responses; give them time to go first.
			time.Sleep(300 * time.Millisecond)
			return mcpgo.NewToolResultText("done"), nil
		})
	s.AddTool(mcpgo.NewTool("meta", mcpgo.WithDescription("Return the idempotency key of the request's _meta."), mcpgo.WithIdempotentHintAnnotation(true)),
		func(_ context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			key := "none"
			if m := r.Params.Meta; m != nil {
				if k, ok := m.AdditionalFields[IdempotencyKeyMeta].(string); ok {
					key = k
				}
			}
			return mcpgo.NewToolResultText(key), nil
		})
	s.AddTool(mcpgo.NewTool("add_tool", mcpgo.WithDescription("Add a tool named by the argument."), mcpgo.WithString("name", mcpgo.Required())),
		func(_ context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			name := r.GetString("name", "")
			s.AddTool(mcpgo.NewTool(name, mcpgo.WithDescription("Added later.")),
				func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
					return mcpgo.NewToolResultText("I am " + name), nil
				})
			return mcpgo.NewToolResultText("added " + name), nil
		})
	s.AddTool(mcpgo.NewTool("big", mcpgo.WithDescription("Return 100000 bytes of text.")),
		func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return mcpgo.NewToolResultText("BEGIN" + strings.Repeat("x", 100000-8) + "END"), nil
		})
	s.AddTool(mcpgo.NewTool("fail", mcpgo.WithDescription("Return an isError result.")),
		func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			return mcpgo.NewToolResultError("disk full"), nil
		})

	weather := json.RawMessage(`{"type":"object","properties":{"temperature":{"type":"number"}},"required":["temperature"]}`)
	s.AddTool(mcpgo.NewTool("weather", mcpgo.WithDescription("Structured weather; bad=true breaks the output schema."),
		mcpgo.WithBoolean("bad"), mcpgo.WithRawOutputSchema(weather)),
		func(_ context.Context, r mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			if r.GetBool("bad", false) {
				return mcpgo.NewToolResultStructured(map[string]any{"temperature": "warm"}, "warm"), nil
			}
			return mcpgo.NewToolResultStructured(map[string]any{"temperature": 21.5}, "21.5 degrees"), nil
		})

	addRequestTools(s)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
		ctx := context.Background()
		_ = mcpserver.NewStdioServer(s).Listen(ctx, os.Stdin, os.Stdout)
		time.Sleep(time.Hour) // ignore the closed stdin
		return 0
	}
	if err := mcpserver.ServeStdio(s); err != nil && !strings.Contains(err.Error(), "EOF") {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// addRequestTools adds tools that send the client an elicitation and a
// sampling request, and report the answer.
func addRequestTools(s *mcpserver.MCPServer) {
	s.AddTool(mcpgo.NewTool("ask", mcpgo.WithDescription("Ask the user for a name.")),
		func(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			req := mcpgo.ElicitationRequest{Params: mcpgo.ElicitationParams{Message: "Your name?",
				RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string", "default": "Ada"}}}}}
			res, err := mcpserver.ServerFromContext(ctx).RequestElicitation(ctx, req)
			if err != nil {
				return mcpgo.NewToolResultError("elicitation failed: " + err.Error()), nil
			}
			b, _ := json.Marshal(res.Content)
			return mcpgo.NewToolResultText(string(res.Action) + " " + string(b)), nil
		})
	s.AddTool(mcpgo.NewTool("sample", mcpgo.WithDescription("Ask the client's model.")),
		func(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			req := mcpgo.CreateMessageRequest{CreateMessageParams: mcpgo.CreateMessageParams{
				Messages:  []mcpgo.SamplingMessage{{Role: mcpgo.RoleUser, Content: mcpgo.NewTextContent("say hi")}},
				MaxTokens: 10, SystemPrompt: "be brief"}}
			//lint:ignore SA1019 sampling is part of protocol 2025-11-25, which the client speaks
			res, err := mcpserver.ServerFromContext(ctx).RequestSampling(ctx, req)
			if err != nil {
				return mcpgo.NewToolResultError("sampling failed: " + err.Error()), nil
			}
			return mcpgo.NewToolResultText(fmt.Sprintf("%s: %v", res.Model, samplingText(res.Content))), nil
		})
}

// testServer returns a config entry that starts this test binary as a
// server in mode.
func testServer(t *testing.T, mode string, extraEnv ...string) ServerConfig {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{testServerEnv: mode}
	for _, kv := range extraEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return ServerConfig{Command: exe, Env: env}
}

// processGone reports whether no process with pid exists (zombies count as
// existing).
func processGone(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == syscall.ESRCH
}

// processDead reports whether pid has exited, counting a zombie that is
// not our child (an orphan waiting for init) as exited.
func processDead(pid int) bool {
	if processGone(pid) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
