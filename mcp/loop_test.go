package mcp

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

func loopClient(srv *rt.Server) *responses.Client {
	return responses.NewClient(&responses.ClientOptions{
		Provider: responses.Compatible, BaseURL: srv.URL, APIKey: "test-key",
		RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond,
	})
}

// servedRequests returns the create requests that got a response.
func servedRequests(srv *rt.Server) []rt.Request {
	var out []rt.Request
	for _, r := range srv.Requests() {
		if r.StatusCode == 200 {
			out = append(out, r)
		}
	}
	return out
}

func inputJSON(r rt.Request) []string {
	var out []string
	for _, it := range r.Params.Input.Items {
		out = append(out, string(it.Raw()))
	}
	return out
}

// TestLoopLocalMCPTool runs the agent against a scripted model that calls a
// tool of a real stdio MCP server: the call needs approval, "approve always"
// is remembered by the tool's key, progress becomes events, and the model
// gets the result.
func TestLoopLocalMCPTool(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, nil)
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "test__echo", `{"text":"hello from mcp"}`)),
		rt.Output(rt.FunctionCall("call_2", "test__echo", `{"text":"again"}`), rt.FunctionCall("call_3", "test__progress", `{}`)),
		rt.Output(rt.Text("done")),
	)
	var (
		mu    sync.Mutex
		asked []tools.ApprovalRequest
	)
	a := agent.New(loopClient(srv), "m", &agent.Options{
		Toolsets: []tools.Toolset{set},
		Approver: agent.ApproverFunc(func(_ context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, req)
			return agent.Approval{Approved: true, Always: true}, nil
		}),
	})
	var progress []tools.Progress
	var res *agent.Result
	for ev, err := range a.Stream(t.Context(), "echo something") {
		require.NoError(t, err)
		switch ev.Kind {
		case agent.EventToolProgress:
			progress = append(progress, *ev.Tool.Progress)
		case agent.EventRunCompleted:
			res = ev.Result
		}
	}
	require.NotNil(t, res)
	assert.Equal(t, "done", res.Text)

	mu.Lock()
	require.Len(t, asked, 2, "echo asked once (then remembered), progress once")
	assert.Equal(t, "mcp", asked[0].Kind)
	assert.Equal(t, "test__echo", asked[0].Tool)
	assert.Equal(t, "mcp:test/echo", asked[0].Key)
	assert.JSONEq(t, `{"text":"hello from mcp"}`, string(asked[0].Arguments))
	assert.Equal(t, "mcp:test/progress", asked[1].Key)
	mu.Unlock()
	assert.Len(t, progress, 3)

	reqs := servedRequests(srv)
	require.Len(t, reqs, 3)
	var names []string
	for _, d := range reqs[0].Params.Tools {
		names = append(names, d.Name)
	}
	assert.Contains(t, names, "test__echo")
	assert.Equal(t, []string{fnOutputJSON("call_1", "hello from mcp")}, inputJSON(reqs[1]))
	assert.Equal(t, []string{fnOutputJSON("call_2", "again"), fnOutputJSON("call_3", "done")}, inputJSON(reqs[2]))
	require.NoError(t, set.Close())
}

func fnOutputJSON(callID, output string) string {
	return string(responses.MustJSON(responses.FunctionCallOutput{Type: "function_call_output", CallID: callID, Output: responses.MustJSON(output)}))
}

// TestLoopMCPServerFailureIsOutput: a server that crashes mid-call gives the
// model an error output, and the run goes on.
func TestLoopMCPServerFailureIsOutput(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": {
		Command: testServer(t, "serve").Command, Env: testServer(t, "serve").Env,
		Approval: ApprovalPolicy{Mode: ApprovalNever},
	}}}, &Options{RestartBackoff: time.Millisecond})
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "test__crash", `{}`)),
		rt.Output(rt.FunctionCall("call_2", "test__echo", `{"text":"back"}`)),
		rt.Output(rt.Text("recovered")),
	)
	a := agent.New(loopClient(srv), "m", &agent.Options{Toolsets: []tools.Toolset{set}})
	res, err := a.Run(t.Context(), "crash it")
	require.NoError(t, err)
	assert.Equal(t, "recovered", res.Text)
	reqs := servedRequests(srv)
	require.Len(t, reqs, 3)
	in := inputJSON(reqs[1])
	require.Len(t, in, 1)
	assert.Contains(t, in[0], "failed during the call of tool")
	assert.Equal(t, []string{fnOutputJSON("call_2", "back")}, inputJSON(reqs[2]))
	require.NoError(t, set.Close())
}

// TestLoopMCPIsErrorOutcome: an isError result reaches the model as the
// server's message and the loop reports the outcome "error"; a plain result
// is "ok".
func TestLoopMCPIsErrorOutcome(t *testing.T) {
	checkLeaks(t)
	sc := testServer(t, "serve")
	sc.Approval = ApprovalPolicy{Mode: ApprovalNever}
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": sc}}, nil)
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "test__fail", `{}`), rt.FunctionCall("call_2", "test__echo", `{"text":"fine"}`)),
		rt.Output(rt.Text("noted")),
	)
	a := agent.New(loopClient(srv), "m", &agent.Options{Toolsets: []tools.Toolset{set}})
	outcomes := map[string]agent.Outcome{}
	for ev, err := range a.Stream(t.Context(), "fail it") {
		require.NoError(t, err)
		if ev.Kind == agent.EventToolFinished {
			outcomes[ev.Tool.CallID] = ev.Tool.Outcome
		}
	}
	assert.Equal(t, map[string]agent.Outcome{"call_1": agent.OutcomeError, "call_2": agent.OutcomeOK}, outcomes)
	reqs := servedRequests(srv)
	require.Len(t, reqs, 2)
	assert.Equal(t, []string{fnOutputJSON("call_1", "error: disk full"), fnOutputJSON("call_2", "fine")}, inputJSON(reqs[1]),
		"the model reads the server's own message")
	require.NoError(t, set.Close())
}

// TestLoopHostedMCP: the hosted tool's definition is sent as configured;
// one approval request is approved and one denied, and the next request
// carries exactly those mcp_approval_response items; a deferred approval
// survives a RunState JSON round trip.
func TestLoopHostedMCP(t *testing.T) {
	hosted, err := NewHosted(Hosted{ServerLabel: "docs", ServerURL: "https://mcp.example.test/mcp",
		AllowedTools: []string{"search", "delete", "fetch"}, RequireApproval: &HostedApproval{Mode: "always"}})
	require.NoError(t, err)
	srv := rt.New(t,
		rt.Output(
			rt.MCPListTools("docs", "search", "delete", "fetch"),
			rt.MCPApprovalRequest("mcpr_1", "docs", "search", `{"q":"go"}`),
			rt.MCPApprovalRequest("mcpr_2", "docs", "delete", `{"id":1}`),
		),
		rt.Output(rt.MCPCall("docs", "search", `{"q":"go"}`, "found"), rt.MCPApprovalRequest("mcpr_3", "docs", "fetch", `{"url":"u"}`)),
		rt.Output(rt.MCPCall("docs", "fetch", `{"url":"u"}`, "page"), rt.Text("done")),
	)
	approver := agent.ApproverFunc(func(_ context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		assert.Equal(t, "hosted_mcp", req.Kind)
		switch {
		case strings.HasSuffix(req.Tool, "search"):
			return agent.Approve, nil
		case strings.HasSuffix(req.Tool, "delete"):
			return agent.Deny("deleting is not allowed"), nil
		}
		return agent.Defer, nil
	})
	opts := &agent.Options{Tools: []tools.Tool{hosted}, Approver: approver}
	res, err := agent.New(loopClient(srv), "m", opts).Run(t.Context(), "find go docs")
	require.NoError(t, err)
	require.Len(t, res.Pending, 1)
	assert.Equal(t, "mcpr_3", res.Pending[0].CallID)

	reqs := servedRequests(srv)
	require.Len(t, reqs, 2)
	require.Len(t, reqs[0].Params.Tools, 1)
	assert.JSONEq(t, string(hosted.Definition().Raw()), string(reqs[0].Params.Tools[0].Raw()))
	assert.Equal(t, []string{
		`{"type":"mcp_approval_response","approval_request_id":"mcpr_1","approve":true}`,
		`{"type":"mcp_approval_response","approval_request_id":"mcpr_2","approve":false,"reason":"deleting is not allowed"}`,
	}, inputJSON(reqs[1]))

	b, err := json.Marshal(res.State)
	require.NoError(t, err)
	var st agent.RunState
	require.NoError(t, json.Unmarshal(b, &st))
	res2, err := agent.New(loopClient(srv), "m", opts).Resume(t.Context(), &st, []agent.Decision{{CallID: "mcpr_3", Approval: agent.Approve}})
	require.NoError(t, err)
	assert.Equal(t, "done", res2.Text)
	reqs = servedRequests(srv)
	require.Len(t, reqs, 3)
	assert.Equal(t, []string{`{"type":"mcp_approval_response","approval_request_id":"mcpr_3","approve":true}`}, inputJSON(reqs[2]))
}

func TestModelSampler(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.Text("hi there")))
	s := ModelSampler(loopClient(srv), "small-model")
	res, err := s.Sample(t.Context(), SampleRequest{Server: "x", SystemPrompt: "be brief", MaxTokens: 20, Temperature: 0.5,
		Messages: []SampleMessage{{Role: "user", Text: "say hi"}, {Role: "assistant", Text: "hello"}, {Role: "user", Text: "again"}}})
	require.NoError(t, err)
	assert.Equal(t, "hi there", res.Text)
	assert.Equal(t, "endTurn", res.StopReason)
	reqs := servedRequests(srv)
	require.Len(t, reqs, 1)
	p := reqs[0].Params
	assert.Equal(t, "small-model", p.Model)
	assert.Equal(t, "be brief", p.Instructions)
	require.NotNil(t, p.Store)
	assert.False(t, *p.Store)
	require.NotNil(t, p.MaxOutputTokens)
	assert.Equal(t, int64(20), *p.MaxOutputTokens)
	assert.Empty(t, p.Tools)
	require.Len(t, p.Input.Items, 3)
	assert.Equal(t, "hello", p.Input.Items[1].Text())

	_, err = s.Sample(t.Context(), SampleRequest{})
	assert.ErrorContains(t, err, "no messages")
}
