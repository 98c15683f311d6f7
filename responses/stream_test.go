package responses_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

// ev renders one SSE block whose data is the JSON object fields plus "type".
func ev(typ string, fields string) string {
	data := `{"type":"` + typ + `"`
	if fields != "" {
		data += "," + fields
	}
	data += "}"
	return "event: " + typ + "\ndata: " + data + "\n\n"
}

// writeSSE sends blocks as a 200 text/event-stream reply, flushing each.
func writeSSE(w http.ResponseWriter, blocks ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	for _, b := range blocks {
		io.WriteString(w, b)
		w.(http.Flusher).Flush()
	}
}

// cutSSE sends the blocks over a hijacked connection as a chunked reply and
// then drops the connection without the final chunk, like a network cut.
func cutSSE(w http.ResponseWriter, blocks ...string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	for _, b := range blocks {
		fmt.Fprintf(buf, "%x\r\n%s\r\n", len(b), b)
	}
	buf.Flush()
}

const (
	msgItem     = `{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi there","annotations":[]}]}`
	callItem    = `{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":"{\"k\":1}","status":"completed"}`
	respCreated = `"response":{"id":"resp_s","object":"response","created_at":1.5,"status":"in_progress","output":[]}`
)

func completed(output string) string {
	return `"response":{"id":"resp_s","object":"response","created_at":1.5,"status":"completed","output":[` + output + `],"usage":{"input_tokens":5,"output_tokens":2,"total_tokens":7}}`
}

// textStream is a complete stream of one message and one function call.
func textStream() []string {
	return []string{
		ev("response.created", `"sequence_number":0,`+respCreated),
		": keep-alive\n\n",
		ev("response.in_progress", `"sequence_number":1,`+respCreated),
		ev("response.output_item.added", `"sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","status":"in_progress","content":[]}`),
		ev("response.content_part.added", `"sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":""}`),
		ev("response.output_text.delta", `"sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","logprobs":[],"obfuscation":"xyz"`),
		ev("response.output_text.delta", `"sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":" there","logprobs":[]`),
		ev("response.output_text.done", `"sequence_number":6,"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hi there","logprobs":[]`),
		ev("response.content_part.done", `"sequence_number":7,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"Hi there"}`),
		ev("response.output_item.done", `"sequence_number":8,"output_index":0,"item":`+msgItem),
		ev("response.output_item.added", `"sequence_number":9,"output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","arguments":"","status":"in_progress"}`),
		ev("response.function_call_arguments.delta", `"sequence_number":10,"item_id":"fc_1","output_index":1,"delta":"{\"k\":1}"`),
		ev("response.function_call_arguments.done", `"sequence_number":11,"item_id":"fc_1","output_index":1,"arguments":"{\"k\":1}"`),
		ev("response.output_item.done", `"sequence_number":12,"output_index":1,"item":`+callItem),
		ev("response.future_thing.happened", `"sequence_number":13,"payload":{"a":[1,2]}`),
		ev("response.completed", `"sequence_number":14,`+completed(msgItem+","+callItem)),
	}
}

// collect reads a whole stream.
func collect(t *testing.T, s *responses.Stream) []responses.Event {
	t.Helper()
	var evs []responses.Event
	for s.Next() {
		evs = append(evs, s.Event())
	}
	return evs
}

func types(evs []responses.Event) []string {
	var ts []string
	for _, e := range evs {
		ts = append(ts, e.Type)
	}
	return ts
}

func TestStreamEvents(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("x-request-id", "req_s")
		writeSSE(w, textStream()...)
	})
	c := responses.NewClient(srv.options(responses.OpenAI))
	s, err := c.Stream(t.Context(), &responses.Request{Model: "m", Input: responses.TextInput("hi")})
	require.NoError(t, err)
	defer s.Close()
	evs := collect(t, s)
	require.NoError(t, s.Err())
	require.Len(t, evs, 15)
	assert.Equal(t, []string{
		"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
		"response.output_item.done", "response.output_item.added", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.output_item.done", "response.future_thing.happened", "response.completed",
	}, types(evs))

	for i, e := range evs {
		assert.Equal(t, int64(i), e.SequenceNumber, e.Type)
		assert.True(t, json.Valid(e.Raw), e.Type)
	}
	assert.Equal(t, "resp_s", evs[0].Response.ID)
	assert.Equal(t, responses.StatusInProgress, evs[0].Response.Status)
	assert.JSONEq(t, `{"type":"output_text","text":""}`, string(evs[3].Part))
	assert.Equal(t, "Hi", evs[4].Delta)
	assert.Equal(t, "msg_1", evs[4].ItemID)
	assert.Equal(t, "Hi there", evs[6].Text)
	assert.Equal(t, responses.TypeMessage, evs[8].Item.Type)
	assert.Equal(t, 1, evs[10].OutputIndex)
	assert.Equal(t, `{"k":1}`, evs[11].Text)
	assert.Equal(t, "call_1", evs[12].Item.CallID)
	assert.JSONEq(t, callItem, string(evs[12].Item.Raw()))
	assert.JSONEq(t, `{"type":"response.future_thing.happened","sequence_number":13,"payload":{"a":[1,2]}}`, string(evs[13].Raw))
	assert.True(t, evs[14].IsTerminal())

	resp := s.Response()
	require.NotNil(t, resp)
	assert.Equal(t, "resp_s", resp.ID)
	assert.Equal(t, "Hi there", resp.OutputText())
	require.Len(t, resp.Output, 2)
	assert.Equal(t, int64(7), resp.Usage.TotalTokens)
	assert.False(t, s.Next(), "no event after the terminal one")

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.JSONEq(t, `{"model":"m","input":"hi","stream":true}`, string(reqs[0].Body))
	assert.Equal(t, "text/event-stream", reqs[0].Header.Get("Accept"))
}

func TestStreamEventFields(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block string
		check func(t *testing.T, e responses.Event)
	}{
		{"reasoning summary delta", ev("response.reasoning_summary_text.delta", `"item_id":"rs_1","output_index":0,"summary_index":2,"delta":"thinking"`),
			func(t *testing.T, e responses.Event) {
				assert.Equal(t, 2, e.SummaryIndex)
				assert.Equal(t, "thinking", e.Delta)
			}},
		{"reasoning summary part", ev("response.reasoning_summary_part.added", `"item_id":"rs_1","output_index":0,"summary_index":1,"part":{"type":"summary_text","text":""}`),
			func(t *testing.T, e responses.Event) {
				assert.JSONEq(t, `{"type":"summary_text","text":""}`, string(e.Part))
			}},
		{"refusal done", ev("response.refusal.done", `"item_id":"m","output_index":0,"content_index":0,"refusal":"no"`),
			func(t *testing.T, e responses.Event) { assert.Equal(t, "no", e.Text) }},
		{"custom tool input done", ev("response.custom_tool_call_input.done", `"item_id":"ct","output_index":0,"input":"SELECT 1"`),
			func(t *testing.T, e responses.Event) { assert.Equal(t, "SELECT 1", e.Text) }},
		{"shell command added", ev("response.shell_call_command.added", `"output_index":3,"command_index":1,"command":"ls -la"`),
			func(t *testing.T, e responses.Event) {
				assert.Equal(t, 3, e.OutputIndex)
				assert.Equal(t, 1, e.CommandIndex)
				assert.Equal(t, "ls -la", e.Text)
				assert.Empty(t, e.ItemID)
			}},
		{"shell output object delta", ev("response.shell_call_output_content.delta", `"item_id":"sh","output_index":0,"command_index":0,"delta":{"stdout":"a"}`),
			func(t *testing.T, e responses.Event) {
				assert.Empty(t, e.Delta)
				assert.Contains(t, string(e.Raw), `"stdout":"a"`)
			}},
		{"code interpreter code", ev("response.code_interpreter_call_code.done", `"item_id":"ci","output_index":0,"code":"print(1)"`),
			func(t *testing.T, e responses.Event) { assert.Equal(t, "print(1)", e.Text) }},
		{"mcp progress", ev("response.mcp_call.in_progress", `"item_id":"mcp_1","output_index":4`),
			func(t *testing.T, e responses.Event) {
				assert.Equal(t, "mcp_1", e.ItemID)
				assert.Equal(t, 4, e.OutputIndex)
			}},
		{"partial image", ev("response.image_generation_call.partial_image", `"item_id":"ig","output_index":0,"partial_image_b64":"aGVsbG8=","partial_image_index":0`),
			func(t *testing.T, e responses.Event) { assert.Contains(t, string(e.Raw), "aGVsbG8=") }},
		{"fractional and string numbers", ev("response.output_text.delta", `"sequence_number":"7","output_index":1.0,"content_index":null,"delta":"x"`),
			func(t *testing.T, e responses.Event) {
				assert.Equal(t, int64(7), e.SequenceNumber)
				assert.Equal(t, 1, e.OutputIndex)
				assert.Equal(t, 0, e.ContentIndex)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeSSE(w, tc.block, ev("response.completed", completed("")))
			})
			s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
			require.NoError(t, err)
			defer s.Close()
			require.True(t, s.Next(), "err: %v", s.Err())
			tc.check(t, s.Event())
			require.True(t, s.Next())
			assert.False(t, s.Next())
			assert.NoError(t, s.Err())
		})
	}
}

func TestStreamAssemblesOutputFromItems(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w,
			ev("response.created", respCreated),
			ev("response.output_item.done", `"output_index":1,"item":`+callItem),
			ev("response.output_item.done", `"output_index":0,"item":`+msgItem),
			ev("response.completed", `"response":{"id":"resp_s","status":"completed","output":null}`),
		)
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	collect(t, s)
	require.NoError(t, s.Err())
	resp := s.Response()
	require.Len(t, resp.Output, 2)
	assert.Equal(t, "msg_1", resp.Output[0].ID, "ordered by output_index")
	assert.Equal(t, "fc_1", resp.Output[1].ID)
}

func TestStreamTerminalWithoutResponse(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w, ev("response.created", respCreated), ev("response.output_item.done", `"output_index":0,"item":`+msgItem), ev("response.incomplete", ""))
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	collect(t, s)
	require.NoError(t, s.Err())
	resp := s.Response()
	require.NotNil(t, resp)
	assert.Equal(t, "resp_s", resp.ID)
	assert.Equal(t, responses.StatusIncomplete, resp.Status)
	assert.Len(t, resp.Output, 1)
}

func TestStreamFailedResponseIsNotAnError(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w, ev("response.created", respCreated),
			ev("response.failed", `"response":{"id":"resp_s","status":"failed","error":{"code":"server_error","message":"oops"},"output":[]}`))
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, []string{"response.created", "response.failed"}, types(collect(t, s)))
	require.NoError(t, s.Err())
	require.NotNil(t, s.Response().Error)
	assert.Equal(t, "server_error", s.Response().Error.Code)
	assert.Len(t, srv.requests(), 1, "a failed response is not retried by the client")
}

func TestStreamHugeEvent(t *testing.T) {
	secret := strings.Repeat("A", 5<<20)
	reasoning := `{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"` + secret + `"}`
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w,
			ev("response.created", respCreated),
			ev("response.output_item.done", `"output_index":0,"item":`+reasoning),
			ev("response.completed", completed(reasoning)),
		)
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	evs := collect(t, s)
	require.NoError(t, s.Err())
	require.Len(t, evs, 3)
	var got struct {
		EncryptedContent string `json:"encrypted_content"`
	}
	require.NoError(t, evs[1].Item.Decode(&got))
	assert.Equal(t, len(secret), len(got.EncryptedContent))
	require.Len(t, s.Response().Output, 1)
	assert.Equal(t, reasoning, string(s.Response().Output[0].Raw()), "byte-for-byte")
}

func TestStreamErrorEvent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		block     string
		want      responses.APIError
		wantCalls int
	}{
		{"flat", ev("error", `"sequence_number":3,"code":"rate_limit_exceeded","message":"Rate limit reached","param":null`),
			responses.APIError{Code: "rate_limit_exceeded", Message: "Rate limit reached", RequestID: "req_x"}, 3},
		{"nested", ev("error", `"status":429,"error":{"type":"tokens","code":"rate_limit_exceeded","message":"slow","param":"model"}`),
			responses.APIError{StatusCode: 429, Type: "tokens", Code: "rate_limit_exceeded", Message: "slow", Param: "model", RequestID: "req_x"}, 3},
		{"nested 500 without code", ev("error", `"status":500,"error":{"message":"internal"}`),
			responses.APIError{StatusCode: 500, Message: "internal", RequestID: "req_x"}, 3},
		{"no type, top-level error", "data: {\"error\":{\"message\":\"proxy says no\",\"code\":\"bad\"}}\n\n",
			responses.APIError{Code: "bad", Message: "proxy says no", RequestID: "req_x"}, 1},
		{"insufficient_quota", ev("error", `"status":429,"error":{"code":"insufficient_quota","message":"no quota"}`),
			responses.APIError{StatusCode: 429, Code: "insufficient_quota", Message: "no quota", RequestID: "req_x"}, 1},
		{"wait beyond the cap", ev("error", `"code":"rate_limit_exceeded","message":"Please try again in 3600s."`),
			responses.APIError{Code: "rate_limit_exceeded", Message: "Please try again in 3600s.", RequestID: "req_x", RetryAfter: time.Hour}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("x-request-id", "req_x")
				writeSSE(w, ev("response.created", respCreated), tc.block, ev("response.completed", completed("")))
			})
			s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
			require.NoError(t, err)
			defer s.Close()
			evs := collect(t, s)
			assert.Len(t, evs, tc.wantCalls, "one response.created per attempt")
			var apiErr *responses.APIError
			require.ErrorAs(t, s.Err(), &apiErr)
			assert.Equal(t, tc.want, *apiErr)
			assert.Nil(t, s.Response())
			assert.Len(t, srv.requests(), tc.wantCalls)
		})
	}
}

func TestStreamTransientErrorEventRetried(t *testing.T) {
	var first time.Time
	var gap time.Duration
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			first = time.Now()
			writeSSE(w, ev("response.created", respCreated),
				ev("error", `"code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 150ms.","param":null`))
			return
		}
		gap = time.Since(first)
		writeSSE(w, textStream()...)
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	evs := collect(t, s)
	require.NoError(t, s.Err())
	assert.Len(t, evs, 1+15)
	assert.Equal(t, "resp_s", s.Response().ID)
	assert.GreaterOrEqual(t, gap, 150*time.Millisecond, "the wait from the message was honoured")
}

func TestStreamErrorEventAfterOutputNotRetried(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w, ev("response.created", respCreated),
			ev("response.output_item.done", `"output_index":0,"item":`+callItem),
			ev("error", `"code":"server_error","message":"oops"`))
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	collect(t, s)
	var apiErr *responses.APIError
	require.ErrorAs(t, s.Err(), &apiErr)
	assert.Equal(t, "server_error", apiErr.Code)
	assert.Len(t, srv.requests(), 1)
}

func TestStreamMissingTerminalEvent(t *testing.T) {
	for _, tc := range []struct {
		name          string
		reply         func(w http.ResponseWriter)
		wantDelivered bool
	}{
		{"clean EOF before output", func(w http.ResponseWriter) {
			writeSSE(w, ev("response.created", respCreated), ev("response.output_text.delta", `"delta":"x"`))
		}, false},
		{"cut before output", func(w http.ResponseWriter) { cutSSE(w, ev("response.created", respCreated)) }, false},
		{"DONE before terminal", func(w http.ResponseWriter) {
			writeSSE(w, ev("response.created", respCreated), "data: [DONE]\n\n")
		}, false},
		{"clean EOF after output item", func(w http.ResponseWriter) {
			writeSSE(w, ev("response.created", respCreated), ev("response.output_item.done", `"output_index":0,"item":`+callItem))
		}, true},
		{"cut after output item", func(w http.ResponseWriter) {
			cutSSE(w, ev("response.created", respCreated), ev("response.output_item.done", `"output_index":0,"item":`+callItem))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("x-request-id", "req_m")
				tc.reply(w)
			})
			o := srv.options(responses.OpenAI)
			o.MaxRetries = 3
			s, err := responses.NewClient(o).Stream(t.Context(), &responses.Request{Model: "m"})
			require.NoError(t, err)
			defer s.Close()
			collect(t, s)
			var serr *responses.StreamError
			require.ErrorAs(t, s.Err(), &serr)
			assert.ErrorIs(t, s.Err(), responses.ErrStreamClosed)
			assert.Contains(t, s.Err().Error(), "stream closed before response.completed")
			assert.Equal(t, tc.wantDelivered, serr.OutputDelivered)
			assert.Equal(t, "resp_s", serr.ResponseID)
			assert.Nil(t, s.Response())
			if tc.wantDelivered {
				assert.Len(t, srv.requests(), 1, "not retried once an output item was delivered")
			} else {
				assert.Len(t, srv.requests(), 4, "retried up to MaxRetries")
			}
		})
	}
}

func TestStreamCutBeforeOutputIsRetried(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			cutSSE(w,
				ev("response.created", `"response":{"id":"resp_cut","status":"in_progress","output":[]}`),
				ev("response.output_item.added", `"output_index":0,"item":{"type":"message","id":"msg_0","role":"assistant","content":[]}`),
				ev("response.output_text.delta", `"item_id":"msg_0","output_index":0,"delta":"Hel"`))
			return
		}
		writeSSE(w, textStream()...)
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	evs := collect(t, s)
	require.NoError(t, s.Err())
	require.Len(t, evs, 3+15)
	assert.Equal(t, "response.created", evs[3].Type, "the retry starts with a new response.created")
	assert.Equal(t, "resp_s", s.Response().ID)
	assert.Len(t, s.Response().Output, 2)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].Body, reqs[1].Body, "the same request is sent again")
}

func TestStreamCutAfterOutputItemDone(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		cutSSE(w, textStream()[:10]...) // through the message's output_item.done
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	evs := collect(t, s)
	assert.Equal(t, "response.output_item.done", evs[len(evs)-1].Type)
	var serr *responses.StreamError
	require.ErrorAs(t, s.Err(), &serr)
	assert.True(t, serr.OutputDelivered)
	assert.Len(t, srv.requests(), 1)
}

func TestStreamHTTPErrors(t *testing.T) {
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 0:
			w.Header().Set("retry-after-ms", "1")
			writeJSON(w, 429, `{"error":{"message":"slow","code":"rate_limit_exceeded"}}`)
		case 1:
			writeJSON(w, 500, `{"error":{"message":"boom","type":"server_error"}}`)
		default:
			writeSSE(w, textStream()...)
		}
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	collect(t, s)
	require.NoError(t, s.Err())
	assert.Len(t, srv.requests(), 3)

	bad := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 400, `{"error":{"message":"Unsupported parameter: 'temperature'","type":"invalid_request_error","param":"temperature"}}`)
	})
	_, err = responses.NewClient(bad.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	var apiErr *responses.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "temperature", apiErr.Param)
	assert.Len(t, bad.requests(), 1)
}

func TestStreamMalformedEvent(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w, ev("response.created", respCreated), "event: response.output_text.delta\ndata: {not json\n\n")
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	collect(t, s)
	assert.ErrorContains(t, s.Err(), `decode stream event "response.output_text.delta"`)
	assert.Len(t, srv.requests(), 1)
}

func TestStreamContextCancelled(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		writeSSE(w, ev("response.created", respCreated))
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(ctx, &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.Next())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	assert.False(t, s.Next())
	assert.ErrorIs(t, s.Err(), context.Canceled)
	var serr *responses.StreamError
	assert.False(t, errors.As(s.Err(), &serr), "a cancelled stream is not a broken one")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Len(t, srv.requests(), 1)
}

func TestStreamAll(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeSSE(w, textStream()...) })
	c := responses.NewClient(srv.options(responses.OpenAI))

	s, err := c.Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	var n int
	for e, err := range s.All() {
		require.NoError(t, err)
		require.NotEmpty(t, e.Type)
		n++
	}
	assert.Equal(t, 15, n)
	assert.Equal(t, "resp_s", s.Response().ID)

	// Breaking early closes the stream; Next then reports the end.
	s, err = c.Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	for range s.All() {
		break
	}
	assert.False(t, s.Next())
	assert.NoError(t, s.Err())
	assert.Nil(t, s.Response())
	assert.NoError(t, s.Close(), "Close twice")

	// An error is the last pair.
	bad := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w, ev("response.created", respCreated), ev("error", `"message":"nope"`))
	})
	s, err = responses.NewClient(bad.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	var last error
	for _, err := range s.All() {
		last = err
	}
	var apiErr *responses.APIError
	assert.ErrorAs(t, last, &apiErr)
}

// TestStreamSlowReader checks that a stream is read as it arrives: the first
// event is available before the server has finished.
func TestStreamIncremental(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeSSE(w, ev("response.created", respCreated))
		<-release
		bw := bufio.NewWriter(w)
		bw.WriteString(ev("response.completed", completed("")))
		bw.Flush()
	})
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.Next())
	assert.Equal(t, "response.created", s.Event().Type)
	close(release)
	require.True(t, s.Next())
	assert.Equal(t, "response.completed", s.Event().Type)
}

func TestStreamIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hang := func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, ev("response.created", respCreated))
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	t.Run("retried before output", func(t *testing.T) {
		srv := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 0 {
				hang(w, r)
				return
			}
			writeSSE(w, textStream()...)
		})
		o := srv.options(responses.OpenAI)
		o.StreamIdleTimeout = 100 * time.Millisecond
		s, err := responses.NewClient(o).Stream(t.Context(), &responses.Request{Model: "m"})
		require.NoError(t, err)
		defer s.Close()
		evs := collect(t, s)
		require.NoError(t, s.Err())
		assert.Len(t, evs, 1+15)
		assert.Len(t, srv.requests(), 2)
	})
	t.Run("reported without retries", func(t *testing.T) {
		srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) { hang(w, r) })
		o := srv.options(responses.OpenAI)
		o.StreamIdleTimeout = 100 * time.Millisecond
		o.MaxRetries = -1
		s, err := responses.NewClient(o).Stream(t.Context(), &responses.Request{Model: "m"})
		require.NoError(t, err)
		defer s.Close()
		start := time.Now()
		collect(t, s)
		var serr *responses.StreamError
		require.ErrorAs(t, s.Err(), &serr)
		assert.ErrorIs(t, s.Err(), responses.ErrStreamClosed)
		assert.ErrorContains(t, s.Err(), "no data for 100ms")
		assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("slow but steady stream is not idle", func(t *testing.T) {
		srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 6 {
				io.WriteString(w, ": ping "+fmt.Sprint(i)+"\n\n")
				w.(http.Flusher).Flush()
				time.Sleep(40 * time.Millisecond)
			}
			io.WriteString(w, ev("response.completed", completed("")))
		})
		o := srv.options(responses.OpenAI)
		o.StreamIdleTimeout = 500 * time.Millisecond
		o.MaxRetries = -1
		s, err := responses.NewClient(o).Stream(t.Context(), &responses.Request{Model: "m"})
		require.NoError(t, err)
		defer s.Close()
		collect(t, s)
		require.NoError(t, s.Err())
		assert.NotNil(t, s.Response())
	})
}

func TestStreamServerIgnoresStreamFlag(t *testing.T) {
	pretty := "{\n  \"id\": \"resp_j\",\n  \"status\": \"incomplete\",\n  \"incomplete_details\": {\"reason\": \"max_output_tokens\"},\n  \"output\": [\n    " +
		msgItem + ",\n    " + callItem + "\n  ]\n}"
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, pretty) })
	s, err := responses.NewClient(srv.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	evs := collect(t, s)
	require.NoError(t, s.Err())
	assert.Equal(t, []string{"response.output_item.done", "response.output_item.done", "response.incomplete"}, types(evs))
	assert.Equal(t, 1, evs[1].OutputIndex)
	assert.Equal(t, "call_1", evs[1].Item.CallID)
	resp := s.Response()
	require.NotNil(t, resp)
	assert.Equal(t, "resp_j", resp.ID)
	assert.Equal(t, responses.StatusIncomplete, resp.Status)
	assert.Len(t, resp.Output, 2)

	bad := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"error":{"message":"streaming unsupported","code":"bad_request"}}`)
	})
	_, err = responses.NewClient(bad.options(responses.OpenAI)).Stream(t.Context(), &responses.Request{Model: "m"})
	var apiErr *responses.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "streaming unsupported", apiErr.Message)
}
