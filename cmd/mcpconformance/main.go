// Command mcpconformance is the client that the official MCP conformance
// suite drives to check the mcp package: it connects to the suite's server
// with [mcp.Connect] and exercises it as the scenario asks.
//
// Usage:
//
//	mcpconformance [-timeout d] URL
//
// The suite runs it as "conformance client --command mcpconformance
// --scenario NAME": it appends the server URL and names the scenario in
// MCP_CONFORMANCE_SCENARIO. For tools_call, sse-retry and
// elicitation-sep1034-client-defaults it calls the scenario's tool through
// the package's tools (elicitations are accepted with the schema's
// defaults); for other scenarios it connects, lists the tools and closes.
// It exits 1 when the connection or a call fails, 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/agentloop/agentloop/mcp"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv("MCP_CONFORMANCE_SCENARIO"), os.Stdout, os.Stderr)
	if errors.Is(err, errUsage) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcpconformance:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// scenarioCalls names the tool each scenario expects to be called, with its
// arguments.
var scenarioCalls = map[string]struct{ tool, args string }{
	"tools_call":                          {"add_numbers", `{"a":5,"b":3}`},
	"sse-retry":                           {"test_reconnection", `{}`},
	"elicitation-sep1034-client-defaults": {"test_client_elicitation_defaults", `{}`},
}

func run(ctx context.Context, args []string, scenario string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcpconformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 20*time.Second, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: mcpconformance [-timeout d] URL")
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	cfg := &mcp.Config{Servers: map[string]mcp.ServerConfig{"conformance": {URL: fs.Arg(0)}}}
	acceptDefaults := mcp.ElicitorFunc(func(_ context.Context, req mcp.ElicitRequest) (mcp.ElicitResult, error) {
		fmt.Fprintf(stdout, "elicitation: %s\n", req.Message)
		return mcp.ElicitResult{Action: mcp.ElicitAccept, Content: mcp.SchemaDefaults(req.Schema)}, nil
	})
	set, err := mcp.Connect(ctx, cfg, &mcp.Options{ClientName: "agentloop-mcpconformance", ClientVersion: "0.1.0", Elicitor: acceptDefaults})
	if err != nil {
		return err
	}
	defer set.Close()
	ts, err := set.Tools(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		fmt.Fprintf(stdout, "tool: %s\n", t.(*mcp.Tool).Name())
	}
	sc, ok := scenarioCalls[scenario]
	if !ok {
		return set.Close()
	}
	var tool *mcp.Tool
	for _, t := range ts {
		if mt := t.(*mcp.Tool); mt.ToolName() == sc.tool {
			tool = mt
		}
	}
	if tool == nil {
		return fmt.Errorf("scenario %s: the server offers no tool %q", scenario, sc.tool)
	}
	item := responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "call_1", Name: tool.Name(), Arguments: sc.args})
	out, err := tool.Call(ctx, tools.NewCall(item))
	if err != nil {
		return fmt.Errorf("call %s: %w", sc.tool, err)
	}
	fmt.Fprintf(stdout, "output: %s\n", out.Raw())
	return set.Close()
}
