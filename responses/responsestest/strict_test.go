package responsestest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// do sends a request with any method; body may be "".
func (c *client) do(method, path, body string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.url+path, rd)
	require.NoError(c.t, err)
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: data, err: err}
}

func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

// Finding 1: requests are validated like the real API, with its 400 body.
func TestStrictRequestValidation(t *testing.T) {
	for _, tc := range []struct {
		name, body, msg, param, code string
	}{
		{"unknown parameter", `{"model":"m","input":"hi","temprature":1}`,
			"Unknown parameter: 'temprature'.", "temprature", "unknown_parameter"},
		{"missing model", `{"input":"hi"}`, "Missing required parameter: 'model'.", "model", "missing_required_parameter"},
		{"missing input", `{"model":"m"}`, "Missing required parameter: 'input'.", "input", "missing_required_parameter"},
		{"temperature above max", `{"model":"m","input":"hi","temperature":5}`,
			"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5 instead.", "temperature", "decimal_above_max_value"},
		{"top_p above max", `{"model":"m","input":"hi","top_p":2}`,
			"Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 2 instead.", "top_p", "decimal_above_max_value"},
		{"max_output_tokens below min", `{"model":"m","input":"hi","max_output_tokens":5}`,
			"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 5 instead.", "max_output_tokens", "integer_below_min_value"},
		{"temperature wrong type", `{"model":"m","input":"hi","temperature":"hot"}`,
			"Invalid type for 'temperature': expected a decimal, but got a string instead.", "temperature", "invalid_type"},
		{"bad include", `{"model":"m","input":"hi","include":["reasoning.encrypted"]}`,
			"Invalid value: 'reasoning.encrypted'. Supported values are: 'file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'message.input_image.image_url', 'computer_call_output.output.image_url', 'code_interpreter_call.outputs', 'reasoning.encrypted_content', and 'message.output_text.logprobs'.",
			"include[0]", "invalid_value"},
		{"nameless function tool", `{"model":"m","input":"hi","tools":[{"type":"function","parameters":{}}]}`,
			"Missing required parameter: 'tools[0].name'.", "tools[0].name", "missing_required_parameter"},
		{"unknown tool type", `{"model":"m","input":"hi","tools":[{"type":"browser"}]}`,
			"", "tools[0].type", "invalid_value"},
		{"bad tool name", `{"model":"m","input":"hi","tools":[{"type":"function","name":"get weather","parameters":{}}]}`,
			"Invalid 'tools[0].name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", "tools[0].name", "invalid_value"},
		{"unknown item type", `{"model":"m","input":[{"type":"function_result","call_id":"c","output":"x"}]}`,
			"", "input[0].type", "invalid_value"},
		{"item missing call_id", `{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}`,
			"Missing required parameter: 'input[0].call_id'.", "input[0].call_id", "missing_required_parameter"},
		{"item not an object", `{"model":"m","input":["hi"]}`,
			"Invalid type for 'input[0]': expected an object, but got a string instead.", "input[0]", "invalid_type"},
		{"bad role", `{"model":"m","input":[{"role":"robot","content":"hi"}]}`,
			"Invalid value: 'robot'. Supported values are: 'user', 'assistant', 'system', and 'developer'.", "input[0].role", "invalid_value"},
		{"bad truncation", `{"model":"m","input":"hi","truncation":"middle"}`,
			"Invalid value: 'middle'. Supported values are: 'auto', and 'disabled'.", "truncation", "invalid_value"},
		{"json_schema without schema", `{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}`,
			"Missing required parameter: 'text.format.schema'.", "text.format.schema", "missing_required_parameter"},
		{"bad tool_choice", `{"model":"m","input":"hi","tool_choice":"always"}`,
			"Invalid value: 'always'. Supported values are: 'none', 'auto', and 'required'.", "tool_choice", "invalid_value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rt.New(t, rt.Output(rt.Text("ok")))
			c := newClient(t, s)
			r := c.post("/responses", tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			msg, typ, param, code := r.apiError(t)
			assert.Equal(t, "invalid_request_error", typ)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, msg)
			}
			if assert.NotNil(t, param) {
				assert.Equal(t, tc.param, *param)
			}
			if assert.NotNil(t, code) {
				assert.Equal(t, tc.code, *code)
			}
			assert.Equal(t, 1, s.Remaining(), "a rejected request does not use up a turn")
			assert.NoError(t, s.Err(), "an API error is not a script mismatch")

			if tc.name == "temperature wrong type" || tc.name == "item not an object" {
				return // responses.Request cannot hold these, even leniently
			}
			// Lenient lets a test send it anyway.
			s.Lenient()
			assert.Equal(t, http.StatusOK, c.post("/responses", tc.body).status)
		})
	}
}

func TestStrictAcceptsEveryKnownParameter(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("ok")))
	c := newClient(t, s)
	r := c.post("/responses", `{"model":"m","input":[{"role":"user","content":"hi"},{"type":"message","role":"developer","content":[{"type":"input_text","text":"x"}]}],`+
		`"include":["reasoning.encrypted_content"],"instructions":"be brief","max_output_tokens":16,"metadata":{"k":"v"},`+
		`"parallel_tool_calls":false,"store":true,"temperature":2,"top_p":0,"truncation":"auto","service_tier":"flex",`+
		`"prompt_cache_key":"pk","safety_identifier":"u1","reasoning":{"effort":"xhigh","summary":"auto"},`+
		`"text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"},"strict":true},"verbosity":"low"},`+
		`"tool_choice":{"type":"function","name":"f"},"tools":[{"type":"function","name":"f","parameters":{}},{"type":"custom","name":"g"},`+
		`{"type":"mcp","server_label":"docs","server_url":"http://127.0.0.1:1"},{"type":"shell"},{"type":"apply_patch"}],"top_logprobs":3}`)
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

// Finding 2: the mid-stream error event nests its error object, as the
// live API sends it.
func TestErrorEventShape(t *testing.T) {
	s := rt.New(t, rt.Reply{Output: nil, Faults: []rt.Fault{rt.ErrorEvent("too_many_requests", "Too Many Requests")}}, rt.Output())
	c := newClient(t, s)
	evs := events(t, c.post("/responses", `{"model":"m","input":"hi","stream":true}`).body)
	require.Len(t, evs, 3)
	last := evs[2].data
	assert.Equal(t, "error", last["type"])
	assert.Equal(t, float64(2), last["sequence_number"])
	assert.Equal(t, map[string]any{"type": "server_error", "code": "too_many_requests", "message": "Too Many Requests", "param": nil}, last["error"])
	assert.NotContains(t, last, "message")
	assert.Equal(t, http.StatusOK, c.post("/responses", `{"model":"m","input":"hi"}`).status)
}

// Finding 3: the object form of conversation, created ids only, and the
// echo.
func TestConversationObjectFormAndEcho(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("one")), rt.Output(rt.Text("two")))
	s.Enforce(rt.RuleConversationExists)
	c := newClient(t, s)

	r := c.post("/conversations", `{}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	conv := jsonMap(t, r.body)
	assert.Equal(t, "conversation", conv["object"])
	id := conv["id"].(string)

	r = c.post("/responses", `{"model":"m","input":"hi","conversation":{"id":"`+id+`"}}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, map[string]any{"id": id}, jsonMap(t, r.body)["conversation"])
	r = c.post("/responses", `{"model":"m","input":"again","conversation":"`+id+`"}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Len(t, s.Conversation(id), 2) // string inputs are not kept as items (see Server.Conversation)

	r = c.post("/responses", `{"model":"m","input":"hi","conversation":"conv_never"}`)
	require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
	msg, typ, param, _ := r.apiError(t)
	assert.Equal(t, "Conversation with id 'conv_never' not found.", msg)
	assert.Equal(t, "invalid_request_error", typ)
	assert.Equal(t, "conversation", *param)

	r = c.post("/responses", `{"model":"m","input":"hi","conversation":"chat_1"}`)
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	assert.NoError(t, s.Err())

	// Without a conversation the echo is null.
	s2 := rt.New(t, rt.Output(rt.Text("x")))
	raw := map[string]json.RawMessage{}
	require.NoError(t, json.Unmarshal(newClient(t, s2).post("/responses", `{"model":"m","input":"hi"}`).body, &raw))
	assert.JSONEq(t, `null`, string(raw["conversation"]))
	assert.Equal(t, "conv_1", s2.CreateConversation())
	assert.Equal(t, "conv_2", s2.CreateConversation())
}

// Finding 4: delete, cancel, input items, streamed retrieval, background.
func TestResponseEndpoints(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("hello world")), rt.Output(rt.Text("later")), rt.Output(rt.Text("gone")))
	c := newClient(t, s)

	r := c.post("/responses", `{"model":"m","input":[{"role":"user","content":"hi"},{"type":"message","role":"user","content":[{"type":"input_text","text":"there"}]}]}`)
	require.Equal(t, http.StatusOK, r.status)

	// input items: newest first by default, each with an id
	r = c.do(http.MethodGet, "/v1/responses/resp_1/input_items", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	page := jsonMap(t, r.body)
	assert.Equal(t, "list", page["object"])
	data := page["data"].([]any)
	require.Len(t, data, 2)
	first := data[0].(map[string]any)
	assert.Equal(t, "msg_in_1_1", first["id"])
	assert.Equal(t, "completed", first["status"])
	assert.Equal(t, false, page["has_more"])
	r = c.do(http.MethodGet, "/responses/resp_1/input_items?order=asc&limit=1", "")
	page = jsonMap(t, r.body)
	assert.Equal(t, []any{map[string]any{"type": "input_text", "text": "hi"}}, page["data"].([]any)[0].(map[string]any)["content"])
	assert.Equal(t, true, page["has_more"])

	// streamed retrieval replays the events, from starting_after on
	r = c.do(http.MethodGet, "/responses/resp_1?stream=true", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.header.Get("Content-Type"), "text/event-stream")
	evs := events(t, r.body)
	assert.Equal(t, "response.created", evs[0].name)
	assert.Equal(t, "response.completed", evs[len(evs)-1].name)
	r = c.do(http.MethodGet, "/responses/resp_1?stream=true&starting_after=3", "")
	assert.Equal(t, float64(4), events(t, r.body)[0].data["sequence_number"])

	// cancel: only background responses
	r = c.do(http.MethodPost, "/responses/resp_1/cancel", "")
	require.Equal(t, http.StatusBadRequest, r.status)
	msg, _, _, _ := r.apiError(t)
	assert.Equal(t, "Cannot cancel a synchronous response.", msg)

	// background: queued, polled to completion
	r = c.post("/responses", `{"model":"m","input":"slow","background":true}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	resp := jsonMap(t, r.body)
	assert.Equal(t, "queued", resp["status"])
	assert.Equal(t, true, resp["background"])
	var seen []string
	for range 5 {
		st := jsonMap(t, c.do(http.MethodGet, "/responses/resp_2", "").body)["status"].(string)
		seen = append(seen, st)
		if st == "completed" {
			break
		}
	}
	assert.Equal(t, []string{"in_progress", "completed"}, seen)

	// background cancelled while queued
	r = c.post("/responses", `{"model":"m","input":"slow","background":true}`)
	require.Equal(t, http.StatusOK, r.status)
	r = c.do(http.MethodPost, "/responses/resp_3/cancel", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "cancelled", jsonMap(t, r.body)["status"])
	assert.Equal(t, "cancelled", jsonMap(t, c.do(http.MethodGet, "/responses/resp_3", "").body)["status"])

	// delete
	r = c.do(http.MethodDelete, "/responses/resp_1", "")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, true, jsonMap(t, r.body)["deleted"])
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodGet, "/responses/resp_1", "").status)
	assert.Equal(t, http.StatusNotFound, c.do(http.MethodDelete, "/responses/resp_1", "").status)
	r = c.post("/responses", `{"model":"m","input":"x","previous_response_id":"resp_1"}`)
	assert.Equal(t, http.StatusBadRequest, r.status)
}

// Finding 5: an unanswered mcp_approval_request is not an error.
func TestUnansweredMCPApproval(t *testing.T) {
	s := rt.New(t, rt.Output(rt.MCPApprovalRequest("mcpr_1", "docs", "fetch", `{}`)), rt.Output(rt.Text("ok")))
	c := newClient(t, s)
	require.Equal(t, http.StatusOK, c.post("/responses", `{"model":"m","input":"go"}`).status)
	r := c.post("/responses", `{"model":"m","input":"never mind","previous_response_id":"resp_1"}`)
	assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
}

// Finding 6: the response carries the fields the SDKs declare and the
// echoes the real API returns.
func TestResponseFields(t *testing.T) {
	s := rt.New(t, rt.Output(rt.Text("ok")))
	c := newClient(t, s)
	r := c.post("/responses", `{"model":"m","input":"hi","service_tier":"flex","prompt_cache_key":"k1","text":{"verbosity":"low"}}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &raw))
	for k, want := range map[string]string{
		"service_tier": `"flex"`, "prompt_cache_key": `"k1"`, "background": `false`, "conversation": `null`,
		"text":            `{"format":{"type":"text"},"verbosity":"low"}`,
		"access_programs": `{"cyber":"standard"}`,
	} {
		assert.JSONEq(t, want, string(raw[k]), k)
	}
	var usage struct {
		InputTokensDetails map[string]json.RawMessage `json:"input_tokens_details"`
	}
	require.NoError(t, json.Unmarshal(raw["usage"], &usage))
	assert.Contains(t, usage.InputTokensDetails, "cache_write_tokens")
	assert.Contains(t, usage.InputTokensDetails, "cached_tokens")
}

// Finding 7: custom_tool_call items carry no status.
func TestCustomToolCallHasNoStatus(t *testing.T) {
	s := rt.New(t, rt.Output(rt.CustomToolCall("call_1", "apply", "*** Begin Patch")))
	c := newClient(t, s)
	resp := jsonMap(t, c.post("/responses", `{"model":"m","input":"hi"}`).body)
	it := resp["output"].([]any)[0].(map[string]any)
	assert.Equal(t, "custom_tool_call", it["type"])
	assert.NotContains(t, it, "status")
}
