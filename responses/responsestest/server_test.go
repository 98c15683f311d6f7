package responsestest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// client is a plain net/http client of a test server.
type client struct {
	t   testing.TB
	url string
	hc  *http.Client
}

func newClient(t testing.TB, s *rt.Server) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, url: s.URL, hc: &http.Client{Transport: tr}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
	err    error // reading the body failed
}

// post sends body (a string or a value to marshal) to path.
func (c *client) post(path string, body any, header ...string) reply {
	c.t.Helper()
	return c.postCtx(context.Background(), path, body, header...)
}

func (c *client) postCtx(ctx context.Context, path string, body any, header ...string) reply {
	c.t.Helper()
	b, ok := body.(string)
	if !ok {
		bb, err := json.Marshal(body)
		require.NoError(c.t, err)
		b = string(bb)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, strings.NewReader(b))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: data, err: err}
}

// response decodes a 200 JSON reply.
func (r reply) response(t testing.TB) *responses.Response {
	t.Helper()
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var resp responses.Response
	require.NoError(t, json.Unmarshal(r.body, &resp))
	return &resp
}

// apiError decodes an error reply.
func (r reply) apiError(t testing.TB) (message, typ string, param, code *string) {
	t.Helper()
	require.NoError(t, r.err)
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &e), "body: %s", r.body)
	return e.Error.Message, e.Error.Type, e.Error.Param, e.Error.Code
}

type sse struct {
	name string
	data map[string]any
	raw  string
}

// events parses a text/event-stream body.
func events(t testing.TB, body []byte) []sse {
	t.Helper()
	var out []sse
	var cur sse
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.raw = strings.TrimPrefix(line, "data: ")
			require.NoError(t, json.Unmarshal([]byte(cur.raw), &cur.data), "event data %s", cur.raw)
		case line == "":
			if cur.data != nil {
				out = append(out, cur)
			}
			cur = sse{}
		}
	}
	return out
}

func types(evs []sse) []string {
	var ts []string
	for _, e := range evs {
		ts = append(ts, e.data["type"].(string))
	}
	return ts
}

func call(callID, name, args string) responses.Item {
	return responses.MustItem(responses.FunctionCall{Type: "function_call", CallID: callID, Name: name, Arguments: args})
}

func output(callID, out string) responses.Item {
	return responses.MustItem(responses.FunctionCallOutput{Type: "function_call_output", CallID: callID, Output: responses.MustJSON(out)})
}

func TestNonStreamingResponse(t *testing.T) {
	s := rt.New(t,
		rt.Output(rt.Reasoning("Think first.", "enc-1"), rt.FunctionCall("call_a", "lookup", `{"k":"x"}`)),
		rt.Output(rt.Text("done")),
	)
	c := newClient(t, s)
	body := `{"model":"gpt-test","instructions":"Be brief.","input":"hi","parallel_tool_calls":false,"include":["reasoning.encrypted_content"],` +
		`"tools":[{"type":"function","name":"lookup","parameters":{"type":"object"},"strict":true}],"metadata":{"k":"v"}}`
	r := c.post("/responses", body, "Authorization", "Bearer sk-test")
	resp := r.response(t)
	assert.Equal(t, "req_1", r.header.Get("x-request-id"))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))

	assert.Equal(t, "resp_1", resp.ID)
	assert.Equal(t, "response", resp.Object)
	assert.Equal(t, responses.StatusCompleted, resp.Status)
	assert.Positive(t, resp.CreatedAt)
	require.NotNil(t, resp.CompletedAt)
	assert.Equal(t, "gpt-test", resp.Model)
	assert.JSONEq(t, `"Be brief."`, string(resp.Instructions))
	require.NotNil(t, resp.ParallelToolCalls)
	assert.False(t, *resp.ParallelToolCalls)
	require.NotNil(t, resp.Store)
	assert.True(t, *resp.Store)
	assert.Equal(t, map[string]any{"k": "v"}, resp.Metadata)

	require.Len(t, resp.Output, 2)
	assert.Equal(t, "rs_1_0", resp.Output[0].ID)
	var rs struct {
		EncryptedContent string `json:"encrypted_content"`
	}
	require.NoError(t, resp.Output[0].Decode(&rs))
	assert.Equal(t, "enc-1", rs.EncryptedContent)
	var fc responses.FunctionCall
	require.NoError(t, resp.Output[1].Decode(&fc))
	assert.Equal(t, responses.FunctionCall{Type: "function_call", ID: "fc_1_1", CallID: "call_a", Name: "lookup",
		Arguments: `{"k":"x"}`, Status: "completed"}, fc)

	require.NotNil(t, resp.Usage)
	assert.Positive(t, resp.Usage.InputTokens)
	assert.Positive(t, resp.Usage.OutputTokensDetails.ReasoningTokens)
	assert.Less(t, resp.Usage.OutputTokensDetails.ReasoningTokens, resp.Usage.OutputTokens)
	assert.Equal(t, resp.Usage.InputTokens+resp.Usage.OutputTokens, resp.Usage.TotalTokens)

	// The raw object has every key of the API's response, nulls included.
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &raw))
	for _, k := range []string{"error", "incomplete_details", "previous_response_id", "tools", "tool_choice",
		"text", "reasoning", "temperature", "top_p", "truncation", "max_output_tokens"} {
		assert.Contains(t, raw, k)
	}
	assert.JSONEq(t, `[{"type":"function","name":"lookup","parameters":{"type":"object"},"strict":true}]`, string(raw["tools"]))
	assert.JSONEq(t, `"auto"`, string(raw["tool_choice"]))

	resp2 := c.post("/responses", map[string]any{"model": "gpt-test", "previous_response_id": "resp_1",
		"input": []responses.Item{output("call_a", "found")}}).response(t)
	assert.Equal(t, "done", resp2.OutputText())
	assert.Equal(t, "resp_1", resp2.PreviousResponseID)
	// Chained: the earlier conversation counts as input.
	assert.Greater(t, resp2.Usage.InputTokens, resp.Usage.InputTokens+resp.Usage.OutputTokens)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, 1, reqs[0].N)
	assert.Equal(t, "POST", reqs[0].Method)
	assert.Equal(t, "/responses", reqs[0].Path)
	assert.Equal(t, "sk-test", reqs[0].APIKey())
	assert.JSONEq(t, body, string(reqs[0].Body))
	assert.Equal(t, "hi", reqs[0].InputText())
	assert.Equal(t, "Be brief.", reqs[0].Params.Instructions)
	assert.Equal(t, http.StatusOK, reqs[0].StatusCode)
	assert.Equal(t, "resp_1", reqs[0].ResponseID)
	assert.Equal(t, "resp_1", reqs[1].Params.PreviousResponseID)
	got, ok := reqs[1].Output("call_a")
	require.True(t, ok)
	assert.Equal(t, "function_call_output", got.Type)
	assert.Len(t, reqs[1].Outputs(), 1)
	assert.Zero(t, s.Remaining())
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		name, path, header, key string
	}{
		{"openai", "/responses", "Authorization", "Bearer sk-1"},
		{"openai v1", "/v1/responses", "Authorization", "Bearer sk-1"},
		{"sgp", "/v5/responses", "x-api-key", "sgp-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rt.New(t, rt.Output(rt.Text("ok")))
			c := newClient(t, s)
			resp := c.post(tc.path, `{"model":"openai/gpt-4o","input":"hi"}`, tc.header, tc.key, "x-selected-account-id", "acct").response(t)
			assert.Equal(t, "ok", resp.OutputText())
			req := s.Requests()[0]
			assert.Equal(t, tc.path, req.Path)
			assert.Equal(t, strings.TrimPrefix(tc.key, "Bearer "), req.APIKey())
			assert.Equal(t, "acct", req.Header.Get("x-selected-account-id"))
		})
	}
}

func TestUnknownPathAndRetrieve(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("ok")))
	c := newClient(t, s)
	c.post("/responses", `{"model":"m","input":"hi"}`).response(t)

	resp, err := c.hc.Get(s.URL + "/responses/resp_1")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), `"id":"resp_1"`)

	r := c.post("/chat/completions", `{}`)
	assert.Equal(t, http.StatusNotFound, r.status)
	msg, typ, _, _ := r.apiError(t)
	assert.Equal(t, "Invalid URL (POST /chat/completions)", msg)
	assert.Equal(t, "invalid_request_error", typ)
}

// conversation is a request sequence against one server; each step expects
// success or a 400 with the given message.
type step struct {
	body    map[string]any
	wantErr string // "" = success
	param   string
	code    string
}

func TestConversationRules(t *testing.T) {
	m := func(kv ...any) map[string]any {
		out := map[string]any{"model": "m"}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	items := func(its ...responses.Item) []responses.Item { return its }
	twoCalls := rt.Output(rt.FunctionCall("call_x", "f", "{}"), rt.FunctionCall("call_y", "g", "{}"))
	reasoningCall := rt.Output(rt.Reasoning("", "enc"), rt.FunctionCall("call_x", "f", "{}"))
	rsEnc := rt.Raw(`{"type":"reasoning","id":"rs_1_0","summary":[],"encrypted_content":"enc"}`)
	rsPlain := rt.Raw(`{"type":"reasoning","id":"rs_1_0","summary":[]}`)
	fcWithID := rt.Raw(`{"type":"function_call","id":"fc_1_1","call_id":"call_x","name":"f","arguments":"{}","status":"completed"}`)
	for _, tc := range []struct {
		name   string
		script []rt.Turn
		steps  []step
	}{
		{
			name:   "chained outputs accepted",
			script: []rt.Turn{twoCalls, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", items(output("call_y", "2"), output("call_x", "1")))},
			},
		},
		{
			name:   "unknown previous response",
			script: []rt.Turn{rt.Output(rt.Text("ok"))},
			steps: []step{{body: m("previous_response_id", "resp_404", "input", "hi"),
				wantErr: "Previous response with id 'resp_404' not found.", param: "previous_response_id", code: "previous_response_not_found"}},
		},
		{
			name:   "store false is not chainable",
			script: []rt.Turn{rt.Output(rt.Text("a")), rt.Output(rt.Text("b"))},
			steps: []step{
				{body: m("input", "hi", "store", false)},
				{body: m("previous_response_id", "resp_1", "input", "again"),
					wantErr: "Previous response with id 'resp_1' not found.", param: "previous_response_id", code: "previous_response_not_found"},
			},
		},
		{
			name:   "missing output",
			script: []rt.Turn{twoCalls, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", items(output("call_x", "1"))),
					wantErr: "No tool output found for function call call_y.", param: "input"},
				// the rejection used no turn: a correct retry gets it
				{body: m("previous_response_id", "resp_1", "input", items(output("call_x", "1"), output("call_y", "2")))},
			},
		},
		{
			name:   "output for unknown call",
			script: []rt.Turn{twoCalls},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", items(output("call_x", "1"), output("call_y", "2"), output("call_z", "3"))),
					wantErr: "No tool call found for function call output with call_id call_z.", param: "input"},
			},
		},
		{
			name:   "output without previous response",
			script: []rt.Turn{rt.Output(rt.Text("ok"))},
			steps: []step{{body: m("input", items(output("call_x", "1"))),
				wantErr: "No tool call found for function call output with call_id call_x.", param: "input"}},
		},
		{
			name:   "new user message without outputs",
			script: []rt.Turn{twoCalls},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", "never mind"),
					wantErr: "No tool output found for function call call_x.", param: "input"},
			},
		},
		{
			name:   "output without call_id",
			script: []rt.Turn{twoCalls},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", []any{map[string]any{"type": "function_call_output", "output": "1"}}),
					wantErr: "Missing required parameter: 'input[0].call_id'.", param: "input[0].call_id", code: "missing_required_parameter"},
			},
		},
		{
			name:   "chain of three keeps older calls known",
			script: []rt.Turn{rt.Output(rt.FunctionCall("call_1", "f", "{}")), rt.Output(rt.FunctionCall("call_2", "f", "{}")), rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", items(output("call_1", "1")))},
				{body: m("previous_response_id", "resp_2", "input", items(output("call_1", "1"))),
					wantErr: "No tool output found for function call call_2.", param: "input"},
				{body: m("previous_response_id", "resp_2", "input", items(output("call_2", "2")))},
			},
		},
		{
			name: "every call type needs its output",
			script: []rt.Turn{rt.Output(
				rt.ShellCall("call_s", "ls"), rt.LocalShellCall("call_l", "ls", "-l"),
				rt.ApplyPatchCall("call_p", "create_file", "a.txt", "+hi\n"), rt.CustomToolCall("call_c", "q", "SELECT 1"),
			), rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", []any{
					map[string]any{"type": "shell_call_output", "call_id": "call_s", "output": []any{}},
					map[string]any{"type": "local_shell_call_output", "id": "call_l", "output": "x"},
					map[string]any{"type": "apply_patch_call_output", "call_id": "call_p", "status": "completed"},
				}), wantErr: "No tool output found for custom tool call call_c.", param: "input"},
				{body: m("previous_response_id", "resp_1", "input", []any{
					map[string]any{"type": "shell_call_output", "call_id": "call_s", "output": []any{}},
					map[string]any{"type": "local_shell_call_output", "call_id": "call_l", "output": "x"},
					map[string]any{"type": "apply_patch_call_output", "call_id": "call_p", "status": "completed"},
					map[string]any{"type": "custom_tool_call_output", "call_id": "call_c", "output": "1"},
				})},
			},
		},
		{
			name:   "local shell answered the Codex way",
			script: []rt.Turn{rt.Output(rt.LocalShellCall("call_l", "ls")), rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", items(output("call_l", "x")))},
			},
		},
		{
			name: "mcp approval may go unanswered",
			script: []rt.Turn{rt.Output(rt.MCPListTools("docs", "fetch"), rt.MCPApprovalRequest("mcpr_1", "docs", "fetch", `{}`)),
				rt.Output(rt.Text("not fetched")), rt.Output(rt.MCPCall("docs", "fetch", "{}", "page"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("previous_response_id", "resp_1", "input", "hello")}, // no approval: the call is not made
				{body: m("previous_response_id", "resp_1", "input", []any{map[string]any{"type": "mcp_approval_response", "approval_request_id": "mcpr_9", "approve": true}}),
					wantErr: "No approval request found for MCP approval response with approval_request_id mcpr_9.", param: "input"},
				{body: m("previous_response_id", "resp_1", "input", []any{map[string]any{"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": true}})},
			},
		},
		{
			name:   "stateless transcript accepted",
			script: []rt.Turn{twoCalls, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go", "store", false)},
				{body: m("store", false, "input", items(responses.UserMessage("go"), call("call_x", "f", "{}"), call("call_y", "g", "{}"),
					output("call_x", "1"), output("call_y", "2")))},
			},
		},
		{
			name:   "stateless call without output",
			script: []rt.Turn{rt.Output(rt.Text("ok"))},
			steps: []step{{body: m("store", false, "input", items(responses.UserMessage("go"), call("call_x", "f", "{}"), call("call_y", "g", "{}"),
				output("call_x", "1"), responses.UserMessage("next"))),
				wantErr: "No tool output found for function call call_y.", param: "input"}},
		},
		{
			name:   "stateless reasoning replayed with encrypted content",
			script: []rt.Turn{reasoningCall, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go", "store", false, "include", []string{"reasoning.encrypted_content"})},
				{body: m("store", false, "input", items(responses.UserMessage("go"), rsEnc, fcWithID, output("call_x", "1")))},
			},
		},
		{
			name:   "stateless reasoning without encrypted content",
			script: []rt.Turn{reasoningCall, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go", "store", false)},
				{body: m("store", false, "input", items(responses.UserMessage("go"), rsPlain, fcWithID, output("call_x", "1"))),
					wantErr: "Item with id 'rs_1_0' not found. Items are not persisted when `store` is set to false. " +
						"Try again with `store` set to true, or remove this item from your input.", param: "input"},
			},
		},
		{
			name:   "stored reasoning is found by id",
			script: []rt.Turn{reasoningCall, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go")},
				{body: m("store", false, "input", items(responses.UserMessage("go"), rsPlain, fcWithID, output("call_x", "1")))},
			},
		},
		{
			name:   "call replayed without its reasoning",
			script: []rt.Turn{reasoningCall, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go", "store", false, "include", []string{"reasoning.encrypted_content"})},
				{body: m("store", false, "input", items(responses.UserMessage("go"), fcWithID, output("call_x", "1"))),
					wantErr: "Item 'fc_1_1' of type 'function_call' was provided without its required 'reasoning' item: 'rs_1_0'.", param: "input"},
			},
		},
		{
			name:   "reasoning replayed without its following item",
			script: []rt.Turn{reasoningCall, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go", "store", false, "include", []string{"reasoning.encrypted_content"})},
				{body: m("store", false, "input", items(responses.UserMessage("go"), rsEnc, responses.UserMessage("next"))),
					wantErr: "Item 'rs_1_0' of type 'reasoning' was provided without its required following item.", param: "input"},
			},
		},
		{
			name:   "replay without ids",
			script: []rt.Turn{reasoningCall, rt.Output(rt.Text("ok"))},
			steps: []step{
				{body: m("input", "go", "store", false, "include", []string{"reasoning.encrypted_content"})},
				{body: m("store", false, "input", items(responses.UserMessage("go"),
					rt.Raw(`{"type":"reasoning","summary":[],"encrypted_content":"enc"}`), call("call_x", "f", "{}"), output("call_x", "1")))},
			},
		},
		{
			name:   "stateless output before its call",
			script: []rt.Turn{rt.Output(rt.Text("ok"))},
			steps: []step{{body: m("store", false, "input", items(output("call_x", "1"), call("call_x", "f", "{}"))),
				wantErr: "No tool call found for function call output with call_id call_x.", param: "input"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rt.New(t, tc.script...)
			c := newClient(t, s)
			played := 0
			for i, st := range tc.steps {
				r := c.post("/responses", st.body)
				if st.wantErr == "" {
					assert.Equal(t, http.StatusOK, r.status, "step %d: %s", i+1, r.body)
					played++
					continue
				}
				require.Equal(t, http.StatusBadRequest, r.status, "step %d: %s", i+1, r.body)
				msg, typ, param, code := r.apiError(t)
				assert.Equal(t, st.wantErr, msg, "step %d", i+1)
				assert.Equal(t, "invalid_request_error", typ)
				if assert.NotNil(t, param) {
					assert.Equal(t, st.param, *param)
				}
				if st.code == "" {
					assert.Nil(t, code)
				} else if assert.NotNil(t, code) {
					assert.Equal(t, st.code, *code)
				}
			}
			assert.Equal(t, len(tc.script)-played, s.Remaining(), "a rejected request uses no turn")
		})
	}
}

func TestStreamEventOrder(t *testing.T) {
	s := rt.New(t, rt.Reply{Output: []responses.Item{
		rt.Reasoning("Check the ticket.", "enc"),
		rt.Text("Looking it up now."),
		rt.FunctionCall("call_1", "lookup", `{"key":"OPS-12"}`),
		rt.ShellCall("call_2", "cat VERSION.txt"),
		rt.ApplyPatchCall("call_3", "update_file", "VERSION.txt", "@@\n-1\n+2\n"),
	}})
	c := newClient(t, s)
	r := c.post("/responses", `{"model":"m","input":"go","stream":true,"include":["reasoning.encrypted_content"]}`)
	require.NoError(t, r.err)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "text/event-stream; charset=utf-8", r.header.Get("Content-Type"))
	evs := events(t, r.body)

	want := []string{
		"response.created", "response.in_progress",
		"response.output_item.added",
		"response.reasoning_summary_part.added",
		"response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.delta",
		"response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
		"response.output_item.done",
		"response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.output_item.added",
		"response.function_call_arguments.delta", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.output_item.done",
		"response.output_item.added",
		"response.shell_call_command.added", "response.shell_call_command.delta", "response.shell_call_command.delta",
		"response.shell_call_command.delta",
		"response.shell_call_command.done", "response.output_item.done",
		"response.output_item.added", "response.output_item.done",
		"response.completed",
	}
	assert.Equal(t, want, types(evs))
	for i, e := range evs {
		assert.Equal(t, e.name, e.data["type"], "event: line equals the JSON type")
		assert.EqualValues(t, i, e.data["sequence_number"])
	}

	created := evs[0].data["response"].(map[string]any)
	assert.Equal(t, "in_progress", created["status"])
	assert.Empty(t, created["output"])
	assert.Nil(t, created["usage"])

	// Deltas add up to the done values; added items are partial.
	var text, args, summary string
	for _, e := range evs {
		switch e.data["type"] {
		case "response.output_text.delta":
			text += e.data["delta"].(string)
			assert.Equal(t, "msg_1_1", e.data["item_id"])
		case "response.function_call_arguments.delta":
			args += e.data["delta"].(string)
			assert.Equal(t, "fc_1_2", e.data["item_id"])
			assert.EqualValues(t, 2, e.data["output_index"])
		case "response.reasoning_summary_text.delta":
			summary += e.data["delta"].(string)
		}
	}
	assert.Equal(t, "Looking it up now.", text)
	assert.Equal(t, `{"key":"OPS-12"}`, args)
	assert.Equal(t, "Check the ticket.", summary)

	var added, done []map[string]any
	for _, e := range evs {
		switch e.data["type"] {
		case "response.output_item.added":
			added = append(added, e.data["item"].(map[string]any))
		case "response.output_item.done":
			done = append(done, e.data["item"].(map[string]any))
		}
	}
	require.Len(t, added, 5)
	assert.Empty(t, added[0]["summary"])
	assert.NotContains(t, added[0], "encrypted_content")
	assert.Empty(t, added[1]["content"])
	assert.Equal(t, "in_progress", added[1]["status"])
	assert.Equal(t, "", added[2]["arguments"])
	assert.Equal(t, "call_1", added[2]["call_id"])
	assert.Empty(t, added[3]["action"].(map[string]any)["commands"])

	final := evs[len(evs)-1].data["response"].(map[string]any)
	assert.Equal(t, "completed", final["status"])
	assert.NotNil(t, final["usage"])
	out := final["output"].([]any)
	require.Len(t, out, 5)
	for i := range out {
		assert.Equal(t, out[i], done[i], "output_item.done %d is the final item", i)
	}
	assert.Equal(t, "enc", done[0]["encrypted_content"])

	// The stored response continues like a non-streamed one.
	assert.Equal(t, "resp_1", s.Requests()[0].ResponseID)
}

func TestStreamTerminalEvents(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reply    rt.Reply
		terminal string
		check    func(t *testing.T, resp map[string]any)
	}{
		{"incomplete", rt.Reply{Output: []responses.Item{rt.Text("trunc")}, Status: "incomplete"}, "response.incomplete",
			func(t *testing.T, resp map[string]any) {
				assert.Equal(t, map[string]any{"reason": "max_output_tokens"}, resp["incomplete_details"])
			}},
		{"incomplete content filter", rt.Reply{Status: "incomplete", IncompleteReason: "content_filter"}, "response.incomplete",
			func(t *testing.T, resp map[string]any) {
				assert.Equal(t, map[string]any{"reason": "content_filter"}, resp["incomplete_details"])
			}},
		{"failed", rt.Reply{Status: "failed", Error: &responses.ResponseError{Code: "invalid_prompt", Message: "no"}}, "response.failed",
			func(t *testing.T, resp map[string]any) {
				assert.Equal(t, map[string]any{"code": "invalid_prompt", "message": "no"}, resp["error"])
			}},
		{"mcp", rt.Output(rt.MCPCall("docs", "fetch", `{"u":1}`, "page")), "response.completed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rt.New(t, tc.reply)
			c := newClient(t, s)
			evs := events(t, c.post("/responses", `{"model":"m","input":"go","stream":true}`).body)
			require.NotEmpty(t, evs)
			last := evs[len(evs)-1]
			assert.Equal(t, tc.terminal, last.data["type"])
			resp := last.data["response"].(map[string]any)
			assert.Equal(t, strings.TrimPrefix(tc.terminal, "response."), resp["status"])
			if tc.check != nil {
				tc.check(t, resp)
			}
		})
	}
	t.Run("mcp order", func(t *testing.T) {
		s := rt.New(t, rt.Output(rt.MCPListTools("docs", "fetch"), rt.MCPCall("docs", "fetch", `{}`, "page")))
		c := newClient(t, s)
		evs := events(t, c.post("/responses", `{"model":"m","input":"go","stream":true}`).body)
		assert.Equal(t, []string{"response.created", "response.in_progress",
			"response.output_item.added", "response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed", "response.output_item.done",
			"response.output_item.added", "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done",
			"response.mcp_call.in_progress", "response.mcp_call.completed", "response.output_item.done",
			"response.completed"}, types(evs))
	})
}

func TestFaults(t *testing.T) {
	text := []responses.Item{rt.Text("hello there")}
	for _, tc := range []struct {
		name    string
		fault   rt.Fault
		stream  bool
		check   func(t *testing.T, r reply)
		retryOK bool // the second attempt gets the reply
	}{
		{name: "rate limited", fault: rt.RateLimited(1500 * time.Millisecond), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, http.StatusTooManyRequests, r.status)
			assert.Equal(t, "1500", r.header.Get("retry-after-ms"))
			assert.Equal(t, "2", r.header.Get("retry-after"))
			_, typ, _, code := r.apiError(t)
			assert.Equal(t, "requests", typ)
			assert.Equal(t, "rate_limit_exceeded", *code)
		}},
		{name: "insufficient quota", fault: rt.InsufficientQuota(), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, http.StatusTooManyRequests, r.status)
			_, typ, _, code := r.apiError(t)
			assert.Equal(t, "insufficient_quota", typ)
			assert.Equal(t, "insufficient_quota", *code)
		}},
		{name: "500", fault: rt.ServerError(500), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, 500, r.status)
			_, typ, _, code := r.apiError(t)
			assert.Equal(t, "server_error", typ)
			assert.Nil(t, code)
		}},
		{name: "503 with header", fault: rt.ServerError(503).WithHeader("x-should-retry", "false"), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, 503, r.status)
			assert.Equal(t, "false", r.header.Get("x-should-retry"))
		}},
		{name: "401", fault: rt.Unauthorized(), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, 401, r.status)
			_, _, _, code := r.apiError(t)
			assert.Equal(t, "invalid_api_key", *code)
		}},
		{name: "400", fault: rt.HTTPError(400, "invalid_request_error", "", "Unsupported parameter: 'temperature'."), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, 400, r.status)
			msg, _, param, _ := r.apiError(t)
			assert.Equal(t, "Unsupported parameter: 'temperature'.", msg)
			assert.Nil(t, param)
		}},
		{name: "cut after 3 events", fault: rt.CutAfterEvents(3), stream: true, retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, 200, r.status)
			assert.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
			assert.Equal(t, []string{"response.created", "response.in_progress", "response.output_item.added"}, types(events(t, r.body)))
		}},
		{name: "cut before item done", fault: rt.CutBeforeItemDone(0), stream: true, retryOK: true, check: func(t *testing.T, r reply) {
			assert.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
			ts := types(events(t, r.body))
			assert.Equal(t, "response.content_part.done", ts[len(ts)-1])
		}},
		{name: "cut after item done", fault: rt.CutAfterItemDone(0), stream: true, retryOK: true, check: func(t *testing.T, r reply) {
			assert.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
			ts := types(events(t, r.body))
			assert.Equal(t, "response.output_item.done", ts[len(ts)-1])
		}},
		{name: "cut non-streaming", fault: rt.CutAfterEvents(0), retryOK: true, check: func(t *testing.T, r reply) {
			assert.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
			assert.False(t, json.Valid(r.body))
		}},
		{name: "failed response", fault: rt.FailedResponse("server_error", "boom"), stream: true, retryOK: true, check: func(t *testing.T, r reply) {
			require.NoError(t, r.err)
			evs := events(t, r.body)
			assert.Equal(t, []string{"response.created", "response.in_progress", "response.failed"}, types(evs))
			resp := evs[2].data["response"].(map[string]any)
			assert.Equal(t, "failed", resp["status"])
			assert.Equal(t, map[string]any{"code": "server_error", "message": "boom"}, resp["error"])
		}},
		{name: "failed response non-streaming", fault: rt.FailedResponse("server_error", "boom"), retryOK: true, check: func(t *testing.T, r reply) {
			resp := r.response(t)
			assert.Equal(t, "failed", resp.Status)
			assert.Equal(t, "boom", resp.Error.Message)
		}},
		{name: "error event", fault: rt.ErrorEvent("rate_limit_exceeded", "slow down"), stream: true, retryOK: true, check: func(t *testing.T, r reply) {
			require.NoError(t, r.err)
			evs := events(t, r.body)
			assert.Equal(t, []string{"response.created", "response.in_progress", "error"}, types(evs))
			// nested under "error", as the live API sends it
			assert.Equal(t, map[string]any{"type": "server_error", "code": "rate_limit_exceeded", "message": "slow down", "param": nil}, evs[2].data["error"])
			assert.NotContains(t, evs[2].data, "code")
		}},
		{name: "error event non-streaming", fault: rt.ErrorEvent("server_error", "boom"), retryOK: true, check: func(t *testing.T, r reply) {
			assert.Equal(t, 500, r.status)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rt.New(t, rt.Reply{Output: text, Faults: []rt.Fault{tc.fault}})
			c := newClient(t, s)
			body := fmt.Sprintf(`{"model":"m","input":"hi","stream":%v}`, tc.stream)
			tc.check(t, c.post("/responses", body))
			r := c.post("/responses", body)
			require.NoError(t, r.err)
			assert.Equal(t, http.StatusOK, r.status)
			if tc.stream {
				evs := events(t, r.body)
				assert.Equal(t, "response.completed", evs[len(evs)-1].data["type"])
			} else {
				assert.Equal(t, "hello there", r.response(t).OutputText())
			}
			reqs := s.Requests()
			assert.Equal(t, tc.fault.String(), reqs[0].Fault)
			assert.Empty(t, reqs[1].Fault)
			assert.Zero(t, s.Remaining())
		})
	}
}

func TestSeveralFaultsThenReply(t *testing.T) {
	s := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("ok")},
		Faults: []rt.Fault{rt.ServerError(500), rt.RateLimited(0), rt.ServerError(503)}}, rt.Output(rt.Text("second")))
	c := newClient(t, s)
	var statuses []int
	for range 4 {
		statuses = append(statuses, c.post("/responses", `{"model":"m","input":"hi"}`).status)
	}
	assert.Equal(t, []int{500, 429, 503, 200}, statuses)
	assert.Equal(t, "second", c.post("/responses", `{"model":"m","input":"hi"}`).response(t).OutputText())
}

func TestHangAndTimeout(t *testing.T) {
	s := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("ok")}, Faults: []rt.Fault{rt.Hang()}})
	c := newClient(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	r := c.postCtx(ctx, "/responses", `{"model":"m","input":"hi"}`)
	assert.ErrorIs(t, r.err, context.DeadlineExceeded)
	assert.Equal(t, "ok", c.post("/responses", `{"model":"m","input":"hi"}`).response(t).OutputText())
}

func TestDelays(t *testing.T) {
	s := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("a b c d")}, Delay: 30 * time.Millisecond, EventDelay: 5 * time.Millisecond})
	c := newClient(t, s)
	start := time.Now()
	r := c.post("/responses", `{"model":"m","input":"hi","stream":true}`)
	require.NoError(t, r.err)
	// 30 ms before, and 5 ms between each of the 12 events.
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond+11*5*time.Millisecond)
}

func TestClientLeavesDuringDelayKeepsTurn(t *testing.T) {
	s := rt.New(t, rt.Reply{Output: []responses.Item{rt.Text("first")}, Delay: time.Hour}, rt.Output(rt.Text("second")))
	c := newClient(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	assert.Error(t, c.postCtx(ctx, "/responses", `{"model":"m","input":"hi"}`).err)
	require.Eventually(t, func() bool { return s.Remaining() == 2 }, 5*time.Second, time.Millisecond)
}

func TestCloseEndsDelaysAndHangs(t *testing.T) {
	s := rt.NewServer(
		rt.Reply{Output: []responses.Item{rt.Text("x")}, Delay: time.Hour},
	)
	c := newClient(t, s)
	done := make(chan reply)
	go func() { done <- c.post("/responses", `{"model":"m","input":"hi"}`) }()
	require.Eventually(t, func() bool { return len(s.Requests()) == 1 }, 5*time.Second, time.Millisecond)
	start := time.Now()
	s.Close()
	s.Close() // idempotent
	assert.Less(t, time.Since(start), 5*time.Second)
	r := <-done
	assert.True(t, r.err != nil || r.status != http.StatusOK)
}

func TestScriptExhausted(t *testing.T) {
	s := rt.NewServer(rt.Output(rt.Text("only")))
	defer s.Close()
	c := newClient(t, s)
	c.post("/responses", `{"model":"m","input":"hi"}`).response(t)
	require.NoError(t, s.Err())
	r := c.post("/responses", `{"model":"m","input":"again"}`)
	assert.Equal(t, http.StatusInternalServerError, r.status)
	msg, typ, _, _ := r.apiError(t)
	assert.Equal(t, "responsestest: request 2 (POST /responses) has no scripted turn: the script has 1 turns", msg)
	assert.Equal(t, "server_error", typ)
	assert.ErrorContains(t, s.Err(), "request 2 (POST /responses) has no scripted turn")
}

func TestInvalidBody(t *testing.T) {
	s := rt.NewServer(rt.Output(rt.Text("ok")))
	defer s.Close()
	c := newClient(t, s)
	r := c.post("/responses", `{"model":`)
	assert.Equal(t, http.StatusBadRequest, r.status)
	msg, _, _, _ := r.apiError(t)
	assert.Contains(t, msg, "We could not parse the JSON body")
	assert.Error(t, s.Err())
	assert.Equal(t, 1, s.Remaining())
}

func TestTurnFuncSeesRequest(t *testing.T) {
	var seen []string
	echo := rt.TurnFunc(func(req *responses.Request) rt.Reply {
		seen = append(seen, req.Input.Text)
		return rt.Output(rt.Text("you said " + req.Input.Text))
	})
	s := rt.New(t, echo, echo)
	c := newClient(t, s)
	assert.Equal(t, "you said a", c.post("/responses", `{"model":"m","input":"a"}`).response(t).OutputText())
	assert.Equal(t, "you said b", c.post("/responses", `{"model":"m","input":"b"}`).response(t).OutputText())
	assert.Equal(t, []string{"a", "b"}, seen)
}

func TestTurnPanicIsReported(t *testing.T) {
	s := rt.NewServer(rt.TurnFunc(func(*responses.Request) rt.Reply { panic("oops") }))
	defer s.Close()
	c := newClient(t, s)
	assert.Equal(t, 500, c.post("/responses", `{"model":"m","input":"a"}`).status)
	assert.ErrorContains(t, s.Err(), "turn panicked: oops")
}

func TestNewServerPanics(t *testing.T) {
	m := rt.Model(func(*responses.Request) rt.Reply { return rt.Reply{} })
	assert.PanicsWithValue(t, "responsestest: a Model must be the last turn, but turn 1 of 2 is one", func() { rt.NewServer(m, rt.Reply{}) })
	assert.Panics(t, func() { rt.NewServer(nil) })
}

// A Model serves many agents at once; each conversation is checked by the
// server's own rules.
func TestModelConcurrent(t *testing.T) {
	model := rt.Model(func(req *responses.Request) rt.Reply {
		if len(req.Input.Items) > 0 && req.Input.Items[0].Type == "function_call_output" {
			return rt.Output(rt.Text("done"))
		}
		return rt.Output(rt.FunctionCall("", "work", `{}`))
	})
	s := rt.New(t, rt.Output(rt.Text("warm-up")), model)
	c := newClient(t, s)
	c.post("/responses", `{"model":"m","input":"hi"}`).response(t)

	const agents, turns = 32, 5
	var wg sync.WaitGroup
	errs := make(chan error, agents)
	for a := range agents {
		wg.Go(func() {
			stream := a%2 == 0
			for range turns {
				r := c.post("/responses", map[string]any{"model": "m", "input": "go", "stream": stream})
				var resp responses.Response
				if stream {
					evs := events(t, r.body)
					if err := json.Unmarshal(mustMarshal(evs[len(evs)-1].data["response"]), &resp); err != nil {
						errs <- err
						return
					}
				} else if err := json.Unmarshal(r.body, &resp); err != nil {
					errs <- err
					return
				}
				callID := resp.Output[0].CallID
				r = c.post("/responses", map[string]any{"model": "m", "previous_response_id": resp.ID, "stream": stream,
					"input": []responses.Item{output(callID, "ok")}})
				if r.status != 200 {
					errs <- fmt.Errorf("agent %d: %d %s", a, r.status, r.body)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, s.Requests(), 1+agents*turns*2)
	assert.Equal(t, 1, s.Remaining())
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestNewReportsMismatchToTB(t *testing.T) {
	ft := &fakeTB{TB: t}
	s := rt.New(ft)
	c := newClient(t, s)
	c.post("/responses", `{"model":"m","input":"hi"}`)
	for i := len(ft.cleanups) - 1; i >= 0; i-- {
		ft.cleanups[i]()
	}
	require.Len(t, ft.errors, 1)
	assert.Contains(t, ft.errors[0], "request 1 (POST /responses) has no scripted turn")
}

type fakeTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(s string, a ...any) { f.errors = append(f.errors, fmt.Sprintf(s, a...)) }

func TestRequestAccessors(t *testing.T) {
	s := rt.New(t, rt.Output(rt.FunctionCall("call_1", "f", "{}"), rt.LocalShellCall("call_2", "ls")), rt.Output(rt.Text("ok")))
	c := newClient(t, s)
	c.post("/responses", `{"model":"m","input":"hi"}`).response(t)
	c.post("/responses", map[string]any{"model": "m", "previous_response_id": "resp_1", "input": []any{
		output("call_1", "one"),
		map[string]any{"type": "local_shell_call_output", "id": "call_2", "output": "two"},
		map[string]any{"role": "user", "content": "and then?"},
	}}).response(t)
	reqs := s.Requests()
	assert.Equal(t, []string{"message"}, reqs[0].InputTypes())
	assert.Equal(t, "hi", reqs[0].Input()[0].Text())
	assert.Equal(t, []string{"function_call_output", "local_shell_call_output", "message"}, reqs[1].InputTypes())
	assert.Equal(t, "and then?", reqs[1].InputText())
	out, ok := reqs[1].Output("call_2")
	require.True(t, ok)
	assert.Equal(t, "local_shell_call_output", out.Type)
	_, ok = reqs[1].Output("call_3")
	assert.False(t, ok)
	assert.Len(t, reqs[1].Outputs(), 2)
}

func TestDiscardRequests(t *testing.T) {
	s := rt.New(t, rt.Model(func(*responses.Request) rt.Reply { return rt.Output(rt.Text("ok")) }))
	c := newClient(t, s)
	c.post("/responses", `{"model":"m","input":"hi"}`).response(t)
	require.Len(t, s.Requests(), 1)
	s.DiscardRequests()
	assert.Nil(t, s.Requests())
	r := c.post("/responses", `{"model":"m","input":"hi"}`)
	assert.Equal(t, "resp_2", r.response(t).ID)
	assert.Equal(t, "req_2", r.header.Get("x-request-id"))
	assert.Nil(t, s.Requests())
}

func TestZeroItemIsReported(t *testing.T) {
	s := rt.NewServer(rt.Output(responses.Item{}))
	defer s.Close()
	c := newClient(t, s)
	assert.Equal(t, 500, c.post("/responses", `{"model":"m","input":"a"}`).status)
	assert.ErrorContains(t, s.Err(), "output item 0 of the turn's reply is the zero Item")
}

// A client that stops reading at response.completed and hangs up has still
// received the reply: the next request gets the next turn.
func TestHangUpAfterCompletedUsesTurn(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("first")), rt.Output(rt.Text("second")))
	c := newClient(t, s)
	req, err := http.NewRequest(http.MethodPost, s.URL+"/responses", strings.NewReader(`{"model":"m","input":"hi","stream":true}`))
	require.NoError(t, err)
	resp, err := c.hc.Do(req)
	require.NoError(t, err)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.Contains(sc.Text(), `"type":"response.completed"`) {
	}
	require.NoError(t, resp.Body.Close())
	require.Eventually(t, func() bool { return s.Requests()[0].StatusCode == 200 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, "second", c.post("/responses", `{"model":"m","input":"again"}`).response(t).OutputText())
}

func TestEncryptedContentOnlyWhenIncluded(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Reasoning("sum", "enc")), rt.Output(rt.Reasoning("sum", "enc")))
	c := newClient(t, s)
	without := c.post("/responses", `{"model":"m","input":"a"}`).response(t)
	with := c.post("/responses", `{"model":"m","input":"a","include":["reasoning.encrypted_content"]}`).response(t)
	assert.NotContains(t, string(without.Output[0].Raw()), "encrypted_content")
	assert.Contains(t, string(with.Output[0].Raw()), `"encrypted_content":"enc"`)
}

func TestNoHTMLEscaping(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("if a < b && c > d")), rt.Output(rt.Text("<tag>")))
	c := newClient(t, s)
	r := c.post("/responses", `{"model":"m","input":"hi"}`)
	assert.Contains(t, string(r.body), `"text":"if a < b && c > d"`)
	r = c.post("/responses", `{"model":"m","input":"hi","stream":true}`)
	assert.Contains(t, string(r.body), `"delta":"<tag>"`)
}

func TestStreamItemEvents(t *testing.T) {
	for _, tc := range []struct {
		name string
		item responses.Item
		want []string // between output_item.added and output_item.done
	}{
		{"custom tool call", rt.CustomToolCall("call_1", "sql", "SELECT 1"), []string{
			"response.custom_tool_call_input.delta", "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done"}},
		{"refusal", rt.Raw(`{"type":"message","role":"assistant","status":"completed","content":[{"type":"refusal","refusal":"No."}]}`), []string{
			"response.content_part.added", "response.refusal.delta", "response.refusal.done", "response.content_part.done"}},
		{"annotation", rt.Raw(`{"type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"See it.",` +
			`"annotations":[{"type":"url_citation","url":"https://example.test","title":"t","start_index":0,"end_index":3}]}]}`), []string{
			"response.content_part.added", "response.output_text.delta", "response.output_text.delta",
			"response.output_text.annotation.added", "response.output_text.done", "response.content_part.done"}},
		{"reasoning text", rt.Raw(`{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"hmm"}]}`), []string{
			"response.content_part.added", "response.reasoning_text.delta", "response.reasoning_text.done", "response.content_part.done"}},
		{"local shell", rt.LocalShellCall("call_1", "ls", "-l"), nil},
		{"approval request", rt.MCPApprovalRequest("", "docs", "fetch", "{}"), nil},
		{"unknown type", rt.Raw(`{"type":"tool_search_call","status":"completed","query":"go"}`), nil},
		{"web search", rt.Raw(`{"type":"web_search_call","status":"completed","action":{"type":"search","query":"go"}}`), []string{
			"response.web_search_call.in_progress", "response.web_search_call.searching", "response.web_search_call.completed"}},
		{"code interpreter", rt.Raw(`{"type":"code_interpreter_call","status":"completed","code":"print(1)","outputs":[]}`), []string{
			"response.code_interpreter_call.in_progress", "response.code_interpreter_call_code.delta",
			"response.code_interpreter_call_code.done", "response.code_interpreter_call.interpreting", "response.code_interpreter_call.completed"}},
		{"image generation", rt.Raw(`{"type":"image_generation_call","status":"completed","result":"aGk="}`), []string{
			"response.image_generation_call.in_progress", "response.image_generation_call.generating",
			"response.image_generation_call.partial_image", "response.image_generation_call.completed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rt.New(t, rt.Output(tc.item))
			c := newClient(t, s)
			evs := events(t, c.post("/responses", `{"model":"m","input":"hi","stream":true}`).body)
			ts := types(evs)
			require.GreaterOrEqual(t, len(ts), 5)
			assert.Equal(t, []string{"response.created", "response.in_progress", "response.output_item.added"}, ts[:3])
			assert.Equal(t, []string{"response.output_item.done", "response.completed"}, ts[len(ts)-2:])
			if len(tc.want) == 0 {
				assert.Len(t, ts, 5, "no events of its own: %v", ts)
			} else {
				assert.Equal(t, tc.want, ts[3:len(ts)-2])
			}
			id := evs[len(evs)-2].data["item"].(map[string]any)["id"].(string)
			assert.NotEmpty(t, id)
			for _, e := range evs[3 : len(evs)-2] {
				if itemID, ok := e.data["item_id"]; ok {
					assert.Equal(t, id, itemID)
				}
			}
		})
	}
}

func TestEchoParameters(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("ok")), rt.Output(rt.Text("ok")))
	c := newClient(t, s)
	r := c.post("/responses", `{"model":"m","input":"hi","temperature":0,"top_p":0.5,"truncation":"auto",`+
		`"reasoning":{"effort":"low"},"text":{"format":{"type":"json_object"}},"tool_choice":{"type":"function","name":"f"},`+
		`"max_output_tokens":100,"store":false}`)
	require.Equal(t, 200, r.status)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &raw))
	for k, want := range map[string]string{
		"temperature": `0`, "top_p": `0.5`, "truncation": `"auto"`, "reasoning": `{"effort":"low","summary":null}`,
		"text": `{"format":{"type":"json_object"},"verbosity":"medium"}`, "tool_choice": `{"type":"function","name":"f"}`,
		"max_output_tokens": `100`, "store": `false`, "instructions": `null`, "previous_response_id": `null`,
		"metadata": `{}`, "tools": `[]`, "parallel_tool_calls": `true`,
	} {
		assert.JSONEq(t, want, string(raw[k]), k)
	}
	r = c.post("/responses", `{"model":"m","input":"hi"}`)
	require.NoError(t, json.Unmarshal(r.body, &raw))
	for k, want := range map[string]string{
		"temperature": `1`, "top_p": `1`, "truncation": `"disabled"`, "reasoning": `{"effort":null,"summary":null}`,
		"text": `{"format":{"type":"text"},"verbosity":"medium"}`, "tool_choice": `"auto"`, "max_output_tokens": `null`, "store": `true`,
	} {
		assert.JSONEq(t, want, string(raw[k]), k)
	}
}

func TestItemIDs(t *testing.T) {
	s := rt.New(t, rt.Output(
		rt.Raw(`{"type":"function_call","id":"fc_mine","call_id":"call_mine","name":"f","arguments":"{}"}`),
		rt.Raw(`{"type":"message","id":"","role":"assistant","content":[]}`),
		rt.Raw(`{}`),
		rt.FunctionCall("", "f", "{}"),
		rt.ShellCall("", "ls"),
		rt.Text("x"),
	))
	c := newClient(t, s)
	resp := c.post("/responses", `{"model":"m","input":"hi"}`).response(t)
	require.Len(t, resp.Output, 6)
	assert.Equal(t, "fc_mine", resp.Output[0].ID)
	assert.Equal(t, "call_mine", resp.Output[0].CallID)
	assert.Equal(t, "", resp.Output[1].ID, "an explicit id is kept, even empty")
	assert.JSONEq(t, `{"id":"item_1_2"}`, string(resp.Output[2].Raw()))
	assert.Equal(t, "fc_1_3", resp.Output[3].ID)
	assert.Equal(t, "call_1_3", resp.Output[3].CallID)
	assert.Equal(t, "sh_1_4", resp.Output[4].ID)
	assert.Equal(t, "call_1_4", resp.Output[4].CallID)
	assert.Equal(t, "msg_1_5", resp.Output[5].ID)
	assert.Panics(t, func() { rt.Raw(`[1]`) })
	assert.Panics(t, func() { rt.Raw(`{"type":`) })
}
