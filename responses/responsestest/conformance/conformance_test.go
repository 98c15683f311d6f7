package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/conversations"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func client(s *rt.Server) openai.Client {
	return openai.NewClient(option.WithBaseURL(s.URL+"/v1/"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
}

// unknownFields walks a value decoded by the SDK and returns, for every
// struct whose JSON metadata kept fields the SDK does not declare
// (JSON.ExtraFields), their path and names; and every required field
// (tag api:"required") that was absent. The SDK decodes leniently, so this
// is how a field of ours that no official type knows becomes visible.
func unknownFields(v any) []string {
	var out []string
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(fmt.Sprintf("%s[%v]", path, k), v.MapIndex(k))
			}
		case reflect.Struct:
			meta := v.FieldByName("JSON")
			if meta.IsValid() && meta.Kind() == reflect.Struct {
				if extra := meta.FieldByName("ExtraFields"); extra.IsValid() && extra.Len() > 0 {
					var keys []string
					for _, k := range extra.MapKeys() {
						if k.String() == "store" && v.Type() == reflect.TypeFor[responses.Response]() {
							// Known deviation, kept on purpose: the response echoes
							// store (our client and the wire doc read it), which
							// openai-go v3.102.0's Response does not declare.
							continue
						}
						keys = append(keys, k.String())
					}
					sort.Strings(keys)
					if len(keys) > 0 {
						out = append(out, fmt.Sprintf("%s: unknown %s", path, strings.Join(keys, ",")))
					}
				}
			}
			t := v.Type()
			isUnion := strings.HasSuffix(t.Name(), "Union")
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() || f.Name == "JSON" {
					continue
				}
				raw := "?" // no metadata: walk it
				if meta.IsValid() {
					if m := meta.FieldByName(f.Name); m.IsValid() {
						raw = m.MethodByName("Raw").Call(nil)[0].String()
					}
				}
				if !isUnion && raw == "" && strings.Contains(f.Tag.Get("api"), "required") {
					out = append(out, fmt.Sprintf("%s.%s: required, absent", path, f.Tag.Get("json")))
				}
				if raw == "" || raw == "null" {
					continue // absent or null: nothing decoded below it
				}
				walk(path+"."+f.Name, v.Field(i))
			}
		}
	}
	walk("", reflect.ValueOf(v))
	return out
}

func checkClean(t *testing.T, what string, v any) {
	t.Helper()
	if bad := unknownFields(v); len(bad) > 0 {
		t.Errorf("%s does not map to the SDK's types:\n  %s", what, strings.Join(bad, "\n  "))
	}
}

// checkOutput asserts each output item is a variant the SDK knows.
func checkOutput(t *testing.T, r *responses.Response) {
	t.Helper()
	checkClean(t, "response "+r.ID, r)
	for i, it := range r.Output {
		if it.AsAny() == nil {
			t.Errorf("response %s: output item %d of type %q is no SDK variant", r.ID, i, it.Type)
		}
	}
}

// drain reads a stream, asserting each event is a known variant with no
// unknown fields, and returns the event types and the final response.
func drain(t *testing.T, st *ssestream.Stream[responses.ResponseStreamEventUnion]) ([]string, *responses.Response, error) {
	t.Helper()
	var types []string
	var final *responses.Response
	var seq int64 = -1
	for st.Next() {
		ev := st.Current()
		types = append(types, ev.Type)
		if ev.AsAny() == nil {
			t.Errorf("event %q is no SDK variant", ev.Type)
		}
		checkClean(t, "event "+ev.Type, ev.AsAny())
		if ev.SequenceNumber != seq+1 && seq >= 0 {
			t.Errorf("event %q: sequence_number %d after %d", ev.Type, ev.SequenceNumber, seq)
		}
		seq = ev.SequenceNumber
		switch e := ev.AsAny().(type) {
		case responses.ResponseCompletedEvent:
			final = &e.Response
		case responses.ResponseOutputItemDoneEvent:
			if e.Item.AsAny() == nil {
				t.Errorf("output_item.done: item type %q is no SDK variant", e.Item.Type)
			}
		}
	}
	return types, final, st.Err()
}

func userInput(text string) responses.ResponseNewParamsInputUnion {
	return responses.ResponseNewParamsInputUnion{OfString: openai.String(text)}
}

func items(it ...responses.ResponseInputItemUnionParam) responses.ResponseNewParamsInputUnion {
	return responses.ResponseNewParamsInputUnion{OfInputItemList: it}
}

var weather = responses.ToolParamOfFunction("get_weather",
	map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, false)

func TestOpenAIGo(t *testing.T) {
	ctx := context.Background()
	s := rt.New(t,
		// 1 create: a function call
		rt.Output(rt.Reasoning("Look it up.", ""), rt.FunctionCall("call_w", "get_weather", `{"city":"Paris"}`)),
		// 2 streamed, chained with the function output: every client-run call kind
		rt.Output(rt.Text("Checking."), rt.CustomToolCall("call_c", "patch", "*** Begin Patch\n*** End Patch"),
			rt.ShellCall("call_s", "ls -l"), rt.LocalShellCall("call_l", "ls"),
			rt.ApplyPatchCall("call_a", "create_file", "a.txt", "+hi"),
			rt.MCPListTools("docs", "fetch"), rt.MCPApprovalRequest("mcpr_1", "docs", "fetch", `{"url":"x"}`)),
		// 3 streamed, chained with every output kind
		rt.Output(rt.MCPCall("docs", "fetch", `{"url":"x"}`, "page"), rt.Text("All done.")),
		// 4 background
		rt.Output(rt.Text("Slow answer.")),
		// 5 background, cancelled
		rt.Output(rt.Text("Never.")),
		// 6 conversation (object form)
		rt.Output(rt.Text("In a conversation.")),
		// 7 error event mid-stream, then the retry's answer
		rt.Reply{Faults: []rt.Fault{rt.ErrorEvent("server_error", "The model crashed.")}},
	)
	s.Enforce(rt.RuleConversationExists)
	c := client(s)

	// 1. Create.
	r1, err := c.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-test", Input: userInput("Weather in Paris?"), Tools: []responses.ToolUnionParam{weather},
		Include: []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	checkOutput(t, r1)
	fc := r1.Output[1].AsFunctionCall()
	if fc.CallID != "call_w" || fc.Name != "get_weather" {
		t.Fatalf("function call: %+v", fc)
	}
	t.Logf("create: %s %s, %d output items, usage %d tokens", r1.ID, r1.Status, len(r1.Output), r1.Usage.TotalTokens)

	// 2. Stream, chained, with the function's output.
	out := responses.ResponseInputItemParamOfFunctionCallOutput(`{"temp_c":21}`)
	out.OfFunctionCallOutput.CallID = openai.String("call_w")
	types, r2, err := drain(t, c.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "gpt-test", PreviousResponseID: openai.String(r1.ID), Input: items(out),
		Tools: []responses.ToolUnionParam{weather, responses.ToolParamOfCustom("patch"),
			{OfShell: &responses.FunctionShellToolParam{}}, {OfLocalShell: &responses.ToolLocalShellParam{}},
			{OfApplyPatch: &responses.ApplyPatchToolParam{}}, responses.ToolParamOfMcp("docs")},
	}))
	if err != nil || r2 == nil {
		t.Fatalf("stream: %v (final %v)", err, r2)
	}
	checkOutput(t, r2)
	t.Logf("stream: %d events, %s ... %s", len(types), types[0], types[len(types)-1])

	// 3. Every kind of tool output.
	shellOut := responses.ResponseInputItemParamOfShellCallOutput("call_s", []responses.ResponseFunctionShellCallOutputContentParam{{
		Stdout: "a.txt\n", Stderr: "",
		Outcome: responses.ResponseFunctionShellCallOutputContentOutcomeUnionParam{
			OfExit: &responses.ResponseFunctionShellCallOutputContentOutcomeExitParam{ExitCode: 0}},
	}})
	types, r3, err := drain(t, c.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "gpt-test", PreviousResponseID: openai.String(r2.ID),
		Input: items(
			responses.ResponseInputItemParamOfCustomToolCallOutput("call_c", "applied"),
			shellOut,
			responses.ResponseInputItemParamOfLocalShellCallOutput("call_l", `{"output":"a.txt"}`),
			responses.ResponseInputItemParamOfApplyPatchCallOutput("call_a", "completed"),
			responses.ResponseInputItemParamOfMcpApprovalResponse("mcpr_1", true),
		),
	}))
	if err != nil || r3 == nil {
		t.Fatalf("tool outputs: %v", err)
	}
	checkOutput(t, r3)
	t.Logf("tool outputs: %d events, output %q", len(types), r3.OutputText())

	// Retrieval, plain and streamed.
	got, err := c.Responses.Get(ctx, r3.ID, responses.ResponseGetParams{})
	if err != nil || got.ID != r3.ID || got.Status != responses.ResponseStatusCompleted {
		t.Fatalf("retrieve: %v %+v", err, got)
	}
	checkOutput(t, got)
	replayed, rr, err := drain(t, c.Responses.GetStreaming(ctx, r3.ID, responses.ResponseGetParams{StartingAfter: openai.Int(1)}))
	if err != nil || rr == nil || len(replayed) != len(types)-2 {
		t.Fatalf("streamed retrieval: %v, %d events of %d", err, len(replayed), len(types))
	}

	// Input items.
	page, err := c.Responses.InputItems.List(ctx, r3.ID, responses.InputItemListParams{Order: responses.InputItemListParamsOrderAsc})
	if err != nil {
		t.Fatalf("input items: %v", err)
	}
	// The page wrapper's object, first_id and last_id (API reference) are
	// not fields of the SDK's generic CursorPage; the items are checked.
	var kinds []string
	for _, it := range page.Data {
		if it.AsAny() == nil {
			t.Errorf("input item %q is no SDK variant", it.Type)
		}
		checkClean(t, "input item "+it.ID, it)
		kinds = append(kinds, it.Type)
	}
	t.Logf("input items: %v", kinds)
	if len(kinds) != 5 {
		t.Errorf("input items: got %d, want 5", len(kinds))
	}

	// Background, polled.
	bg, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("slow"), Background: openai.Bool(true)})
	if err != nil || bg.Status != responses.ResponseStatusQueued || !bg.Background {
		t.Fatalf("background: %v %+v", err, bg)
	}
	checkOutput(t, bg)
	statuses := []string{string(bg.Status)}
	for bg.Status == responses.ResponseStatusQueued || bg.Status == responses.ResponseStatusInProgress {
		if bg, err = c.Responses.Get(ctx, bg.ID, responses.ResponseGetParams{}); err != nil {
			t.Fatalf("poll: %v", err)
		}
		checkOutput(t, bg)
		statuses = append(statuses, string(bg.Status))
	}
	t.Logf("background: %v, %q", statuses, bg.OutputText())

	// Cancel.
	bg2, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("slow"), Background: openai.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := c.Responses.Cancel(ctx, bg2.ID)
	if err != nil || cancelled.Status != responses.ResponseStatusCancelled {
		t.Fatalf("cancel: %v %+v", err, cancelled)
	}
	checkOutput(t, cancelled)
	_, err = c.Responses.Cancel(ctx, r1.ID)
	expectAPIError(t, "cancel synchronous", err, http.StatusBadRequest, "", "")

	// Conversation, object form.
	conv, err := c.Conversations.New(ctx, conversations.ConversationNewParams{})
	if err != nil {
		t.Fatalf("conversation: %v", err)
	}
	checkClean(t, "conversation", conv)
	rc, err := c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("hi"),
		Conversation: responses.ResponseNewParamsConversationUnion{OfConversationObject: &responses.ResponseConversationParam{ID: conv.ID}}})
	if err != nil || rc.Conversation.ID != conv.ID {
		t.Fatalf("create in conversation: %v %+v", err, rc)
	}
	checkOutput(t, rc)
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("hi"),
		Conversation: responses.ResponseNewParamsConversationUnion{OfString: openai.String("conv_unknown")}})
	expectAPIError(t, "unknown conversation", err, http.StatusNotFound, "conversation", "")

	// Delete.
	if err := c.Responses.Delete(ctx, r1.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.Responses.Get(ctx, r1.ID, responses.ResponseGetParams{})
	expectAPIError(t, "retrieve deleted", err, http.StatusNotFound, "", "")

	// Error paths.
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("x")}, option.WithJSONSet("temprature", 1))
	expectAPIError(t, "unknown parameter", err, http.StatusBadRequest, "temprature", "unknown_parameter")
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("x"), Temperature: openai.Float(5)})
	expectAPIError(t, "temperature", err, http.StatusBadRequest, "temperature", "decimal_above_max_value")
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{Input: userInput("x")})
	expectAPIError(t, "missing model", err, http.StatusBadRequest, "model", "missing_required_parameter")
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("x"), PreviousResponseID: openai.String("resp_nope")})
	expectAPIError(t, "unknown previous response", err, http.StatusBadRequest, "previous_response_id", "previous_response_not_found")
	_, err = c.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-test", PreviousResponseID: openai.String(r2.ID), Input: userInput("skip the tools")})
	expectAPIError(t, "unanswered calls", err, http.StatusBadRequest, "input", "")

	// The mid-stream error event ends openai-go's stream with an error.
	types, _, err = drain(t, c.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-test", Input: userInput("x")}))
	var se *ssestream.StreamError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "The model crashed.") {
		t.Fatalf("error event: want a *ssestream.StreamError, got %v (events %v)", err, types)
	}
	t.Logf("error event: %v after %v", err, types)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}

func expectAPIError(t *testing.T, what string, err error, status int, param, code string) {
	t.Helper()
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: want *openai.Error, got %v", what, err)
		return
	}
	if apiErr.StatusCode != status || apiErr.Type != "invalid_request_error" || apiErr.Param != param || apiErr.Code != code {
		t.Errorf("%s: got %d type=%q param=%q code=%q (%s), want %d invalid_request_error param=%q code=%q",
			what, apiErr.StatusCode, apiErr.Type, apiErr.Param, apiErr.Code, apiErr.Message, status, param, code)
		return
	}
	t.Logf("%s: %d %s", what, apiErr.StatusCode, apiErr.Message)
}
