package responses

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestItemKeepsJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in           string
		typ, id, call, nam string
	}{
		{"function call", `{"type":"function_call","id":"fc_1","call_id":"call_1","name":"f","arguments":"{\"a\":[1,{\"b\":\"}\"}]}","status":"completed"}`, "function_call", "fc_1", "call_1", "f"},
		{"easy message", `{"role":"user","content":"hi"}`, "message", "", "", ""},
		{"unknown type kept", ` {"type":"program","id":"p_1","call_id":"c","fingerprint":"x\u00e9","code":"1 + 2"} `, "program", "p_1", "c", ""},
		{"escaped header value", `{"type":"function_call","call_id":"call_\u0031","name":"f"}`, "function_call", "", "call_1", "f"},
		{"odd header types", `{"type":"reasoning","id":7,"status":null,"summary":[]}`, "reasoning", "", "", ""},
		{"nested keys do not leak", `{"type":"mcp_call","output":{"id":"inner","name":"inner"},"name":"outer"}`, "mcp_call", "", "", "outer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var it Item
			require.NoError(t, json.Unmarshal([]byte(tc.in), &it))
			assert.Equal(t, tc.typ, it.Type)
			assert.Equal(t, tc.id, it.ID)
			assert.Equal(t, tc.call, it.CallID)
			assert.Equal(t, tc.nam, it.Name)
			out, err := json.Marshal([]Item{it})
			require.NoError(t, err)
			var back []json.RawMessage
			require.NoError(t, json.Unmarshal(out, &back))
			assert.JSONEq(t, tc.in, string(back[0]), "the item travels back unchanged")
		})
	}
	var it Item
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &it))
	require.NoError(t, json.Unmarshal([]byte(`null`), &it))
	assert.True(t, it.IsZero())
}

func TestRequestZeroValuesAreSent(t *testing.T) {
	b, err := json.Marshal(Request{
		Model: "m", Input: TextInput("hi"), Store: Ptr(false), ParallelToolCalls: Ptr(false),
		Temperature: Ptr(0.0), ToolChoice: ToolChoiceMode("none"), Extra: map[string]any{"service_tier": "flex"},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"m","input":"hi","store":false,"parallel_tool_calls":false,"temperature":0,"tool_choice":"none","service_tier":"flex"}`, string(b))
	b, err = json.Marshal(Request{Model: "m"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"model":"m"}`, string(b), "absent values are not sent")
}

// FuzzItemHeader checks the fast header scanner against encoding/json: it
// never panics, and whenever it succeeds on valid JSON it reads the same
// top-level string members.
func FuzzItemHeader(f *testing.F) {
	for _, s := range []string{
		`{"type":"function_call","call_id":"c","name":"n","arguments":"{}"}`,
		`{"role":"user","content":[{"type":"input_text","text":"hi"}]}`,
		`{"type":"x","a":[1,2,{"b":"\"}"}],"id":"i"}`,
		`{"type":"x\u0041"}`, `{}`, `{"id":-1.5e3,"status":true}`, `{"type":"a",}`, `{"type"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := scanHeader(b)
		if !ok || !json.Valid(b) {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			t.Fatalf("scanHeader accepted a non-object %q", b)
		}
		str := func(k string) string {
			var s string
			_ = json.Unmarshal(m[k], &s)
			return s
		}
		want := itemHeader{Type: str("type"), ID: str("id"), CallID: str("call_id"), Name: str("name"), Status: str("status"), Role: str("role")}
		if h != want {
			t.Fatalf("scanHeader(%q) = %+v, want %+v", b, h, want)
		}
	})
}

func TestResponseErrorLenient(t *testing.T) {
	for in, want := range map[string]ResponseError{
		`{"code":"server_error","message":"boom","param":null}`: {Code: "server_error", Message: "boom"},
		`{"code":500,"message":"boom"}`:                         {Code: "500", Message: "boom"},
		`"upstream failed"`:                                     {Message: "upstream failed"},
	} {
		var r Response
		require.NoError(t, json.Unmarshal([]byte(`{"id":"r","status":"failed","error":`+in+`}`), &r), in)
		require.NotNil(t, r.Error)
		assert.Equal(t, want, *r.Error, in)
	}
}

func TestOutputItemMatchesMustItem(t *testing.T) {
	for _, tc := range []struct {
		name, typ, callID string
		output, caller    json.RawMessage
	}{
		{"text", TypeFunctionCallOutput, "call_1", MustJSON("hi <b> & \"q\"\n"), nil},
		{"parts", TypeFunctionCallOutput, "call_2", json.RawMessage(`[{"type":"input_text","text":"x"}]`), nil},
		{"caller", TypeCustomToolCallOutput, "call_3", MustJSON("ok"), json.RawMessage(`{"type":"agent","id":"a"}`)},
		{"null caller", TypeFunctionCallOutput, "call_4", MustJSON(""), json.RawMessage(`null`)},
		{"escaped id", TypeFunctionCallOutput, "call_\"é<", MustJSON("x"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := MustItem(FunctionCallOutput{Type: tc.typ, CallID: tc.callID, Output: tc.output, Caller: tc.caller})
			if string(tc.caller) == "null" {
				want = MustItem(FunctionCallOutput{Type: tc.typ, CallID: tc.callID, Output: tc.output})
			}
			got := OutputItem(tc.typ, tc.callID, tc.output, tc.caller)
			assert.Equal(t, string(want.Raw()), string(got.Raw()))
			assert.Equal(t, want, got)
			raw, err := RawItem(got.Raw())
			require.NoError(t, err)
			assert.Equal(t, want, raw)
		})
	}
	_, err := RawItem(json.RawMessage(`[]`))
	assert.Error(t, err)
}

func TestItemField(t *testing.T) {
	it := MustItem(json.RawMessage(`{"type":"function_call","call_id":"c","arguments":"{\"caller\":1}","caller":{"type":"program"},"x":1,"x":[2]}`))
	assert.JSONEq(t, `{"type":"program"}`, string(it.Field("caller")))
	assert.Equal(t, `[2]`, string(it.Field("x")), "the last of a repeated name, as encoding/json")
	assert.Nil(t, it.Field("Caller"), "names match exactly")
	assert.Nil(t, it.Field("missing"))
	assert.Nil(t, Item{}.Field("type"))
}
