package mcp_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/agentloop/agentloop/mcp"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

func ExampleParseConfig() {
	data := []byte(`{"mcpServers": {
	  "files": {"command": "mcp-files", "args": ["${WORKSPACE}"], "approval": {"never": ["read_*"]}},
	  "docs":  {"url": "https://docs.example.test/mcp", "headers": {"Authorization": "Bearer ${DOCS_KEY:-none}"}}
	}}`)
	vars := map[string]string{"WORKSPACE": "/src/project"}
	cfg, err := mcp.ParseConfig(data, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Servers["files"].Args)
	fmt.Println(cfg.Servers["docs"].Headers["Authorization"])

	_, err = mcp.ParseConfig([]byte(`{"mcpServers": {"files": {"command": "x", "args": ["${NOPE}"]}}}`), nil)
	fmt.Println(err)
	// Output:
	// [/src/project]
	// Bearer none
	// mcp config: server "files": field args[0]: undefined variable NOPE
}

// The test binary doubles as a small stdio MCP server (see TestMain), so
// this example starts a real server process.
func ExampleConnect() {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cfg := &mcp.Config{Servers: map[string]mcp.ServerConfig{
		"demo": {Command: exe, Env: map[string]string{"AGENTLOOP_MCP_TESTSERVER": "serve"}, AllowedTools: []string{"echo", "pid"}},
	}}
	ctx := context.Background()
	set, err := mcp.Connect(ctx, cfg, &mcp.Options{Root: os.TempDir()})
	if err != nil {
		log.Print(err) // the servers that failed to start; the others work
	}
	defer set.Close()

	ts, err := set.Tools(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range ts {
		fmt.Println(t.(*mcp.Tool).Name())
	}
	call := responses.MustItem(responses.FunctionCall{Type: "function_call", CallID: "call_1", Name: "demo__echo", Arguments: `{"text":"hi"}`})
	out, err := ts[0].Call(ctx, tools.NewCall(call))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out.Raw()))
	// Output:
	// demo__echo
	// demo__pid
	// {"type":"function_call_output","call_id":"call_1","output":"hi"}
}

func ExampleNewHosted() {
	t, err := mcp.NewHosted(mcp.Hosted{
		ServerLabel:     "docs",
		ServerURL:       "https://docs.example.test/mcp",
		AllowedTools:    []string{"search"},
		RequireApproval: &mcp.HostedApproval{Mode: "never"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(t.Definition().Raw()))
	// Output:
	// {"allowed_tools":["search"],"require_approval":"never","server_label":"docs","server_url":"https://docs.example.test/mcp","type":"mcp"}
}

// A server's sampling requests answered by the agent's own model; here a
// scripted Responses server stands in for the API.
func ExampleModelSampler() {
	api := responsestest.NewServer(responsestest.Output(responsestest.Text("Hello!")))
	defer api.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: api.URL, APIKey: "key"})

	sampler := mcp.ModelSampler(client, "gpt-5-mini")
	res, err := sampler.Sample(context.Background(), mcp.SampleRequest{
		Messages:  []mcp.SampleMessage{{Role: "user", Text: "Greet the user."}},
		MaxTokens: 50,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Text, res.StopReason)
	// Options{Sampler: sampler} offers sampling to the servers.
	// Output:
	// Hello! endTurn
}

func ExampleSchemaDefaults() {
	schema := []byte(`{"type":"object","properties":{"name":{"type":"string","default":"Ada"},"age":{"type":"integer"}}}`)
	fmt.Println(mcp.SchemaDefaults(schema))
	// Output:
	// map[name:Ada]
}
