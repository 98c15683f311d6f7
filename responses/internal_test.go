package responses

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeEventSlow is decodeEvent with encoding/json only, the reference the
// scanner must agree with.
func decodeEventSlow(raw []byte) (Event, bool, error) {
	var w eventWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return Event{}, false, err
	}
	return decodeWire(raw, &w)
}

// FuzzDecodeEvent checks that the reflection-free scanner decodes every
// input to the same event as encoding/json does.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}`,
		`{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","call_id":"c","arguments":"{\"a\":1}"}}`,
		`{"type":"response.completed","response":{"id":"r","status":"completed","output":[]}}`,
		`{"type":"error","code":null,"message":"m","param":null}`,
		`{"error":{"message":"x"}}`,
		`{"TYPE":"x","Delta":"y"}`,
		`{"type":"a","type":"b","delta":"\u00e9\n","output_index":1.5e0,"sequence_number":"3"}`,
		`{"type":null,"output_index":null,"delta":{"stdout":"x"},"text":5}`,
		`{"type":7}`,
		` { "type" : "x" , "part" : { "a" : [ ] } } `,
		`[]`,
		`{"type":"x"`,
		`{"typ\u0065":"x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast, fastErr, errFast := decodeEvent([]byte(in))
		slow, slowErr, errSlow := decodeEventSlow([]byte(in))
		require.Equal(t, errSlow == nil, errFast == nil, "errors: fast %v, slow %v", errFast, errSlow)
		if errSlow != nil {
			return
		}
		require.Equal(t, slowErr, fastErr)
		// Compare the decoded fields; Part may be "null" vs nil, both mean absent.
		require.Equal(t, slow.Type, fast.Type)
		require.Equal(t, slow.SequenceNumber, fast.SequenceNumber)
		require.Equal(t, slow.OutputIndex, fast.OutputIndex)
		require.Equal(t, slow.ContentIndex, fast.ContentIndex)
		require.Equal(t, slow.SummaryIndex, fast.SummaryIndex)
		require.Equal(t, slow.CommandIndex, fast.CommandIndex)
		require.Equal(t, slow.ItemID, fast.ItemID)
		require.Equal(t, slow.Delta, fast.Delta)
		require.Equal(t, slow.Text, fast.Text)
		require.Equal(t, slow.Item, fast.Item)
		require.Equal(t, slow.Response, fast.Response)
		require.Equal(t, string(slow.Part), string(fast.Part))
	})
}

func TestTryAgainIn(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want time.Duration
		ok   bool
	}{
		{"Rate limit reached for gpt-x. Please try again in 1.5s. Visit ...", 1500 * time.Millisecond, true},
		{"Please try again in 300ms.", 300 * time.Millisecond, true},
		{"Try Again In 2s", 2 * time.Second, true},
		{"try again in 5m", 0, false},
		{"try again in a moment", 0, false},
		{"slow down", 0, false},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			got, ok := tryAgainIn(tc.msg)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    map[string]string
		want time.Duration
		ok   bool
	}{
		{"ms", map[string]string{"retry-after-ms": "250.5"}, 250500 * time.Microsecond, true},
		{"ms wins", map[string]string{"retry-after-ms": "10", "retry-after": "5"}, 10 * time.Millisecond, true},
		{"seconds", map[string]string{"retry-after": "2"}, 2 * time.Second, true},
		{"fractional seconds", map[string]string{"retry-after": "0.25"}, 250 * time.Millisecond, true},
		{"http date", map[string]string{"retry-after": "Sun, 29 Nov 2026 10:00:03 GMT"}, 3 * time.Second, true},
		{"date in the past", map[string]string{"retry-after": "Sun, 29 Nov 2026 09:00:00 GMT"}, 0, true},
		{"negative ms falls back to seconds", map[string]string{"retry-after-ms": "-1", "retry-after": "1"}, time.Second, true},
		{"NaN", map[string]string{"retry-after": "NaN"}, 0, false},
		{"garbage", map[string]string{"retry-after": "soon"}, 0, false},
		{"none", nil, 0, false},
		{"huge saturates", map[string]string{"retry-after": "1e300"}, math.MaxInt64, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			got, ok := retryAfter(h, now)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBackoff(t *testing.T) {
	c := NewClient(&ClientOptions{})
	for n, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		for range 20 {
			d := c.backoff(n)
			assert.LessOrEqual(t, d, want, "retry %d", n)
			assert.GreaterOrEqual(t, d, want*3/4, "retry %d", n)
		}
	}
	assert.LessOrEqual(t, c.backoff(1000), 8*time.Second)
}

// FuzzSniff checks that peeking at a body a byte at a time decides what it
// is as looking at all of it does, and never consumes it.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{
		"", " ", "{}", " \n[1]", ": keep-alive\n\n", "data: {}\n\n", "event: x\ndata: y\n\n", "id\n", "retry: 5",
		"da", "dat", "identity", "<html>", "\uFEFFdata: x", "\uFEFF", "\xEF\xBB", "\r\n\t{", "404 page not found",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := sniff(b)
		br := bufio.NewReaderSize(bytes.NewReader(b), len(b)+16)
		require.Equal(t, want, sniffReader(br), "%q", b)
		rest, err := io.ReadAll(br)
		require.NoError(t, err)
		require.Equal(t, b, rest, "sniffing consumed nothing")
	})
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bodyKind
	}{
		{"", kindUnknown},
		{" \r\n", kindUnknown},
		{`{"id":1}`, kindJSON},
		{"\n  [1]", kindJSON},
		{": ping\n\n", kindEventStream},
		{"data: {}\n\n", kindEventStream},
		{"event:x\n", kindEventStream},
		{"id\n", kindEventStream},
		{"retry: 10\n", kindEventStream},
		{"data", kindEventStream},
		{"\uFEFFdata: x", kindEventStream},
		{"identity", kindOther},
		{"<!DOCTYPE html>", kindOther},
		{"Not Found", kindOther},
	} {
		assert.Equal(t, tc.want, sniff([]byte(tc.body)), "%q", tc.body)
	}
	for ct, want := range map[string]bodyKind{
		"": kindUnknown, "text/plain; charset=utf-8": kindUnknown, "application/octet-stream": kindUnknown,
		"application/json": kindJSON, "application/json; charset=utf-8": kindJSON, "Application/JSON": kindJSON,
		"application/problem+json": kindJSON, "text/json": kindJSON,
		"text/event-stream": kindEventStream, "text/event-stream;charset=UTF-8": kindEventStream,
		"text/html": kindOther, "application/xml": kindOther, "application/x-ndjson": kindOther,
	} {
		assert.Equal(t, want, kindOf(ct), "%q", ct)
	}
}

func TestFirstLine(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"", ""},
		{"\n\n  upstream connect error  \r\nreset reason: x", "upstream connect error"},
		{"<html><HEAD><Title lang=en>\n  Sign\n in  </TITLE></head>", "Sign in"},
		{"<html><title></title>\n<body>x</body>", "<html><title></title>"},
		{"<title>unclosed", "<title>unclosed"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "…"},
		{"a\xffb", "a\uFFFDb"},
	} {
		assert.Equal(t, tc.want, firstLine([]byte(tc.body)), "%q", tc.body)
	}
}

func TestClientDefaults(t *testing.T) {
	c := NewClient(nil)
	assert.Equal(t, 2, c.opts.MaxRetries)
	assert.Equal(t, 5*time.Minute, c.opts.StreamIdleTimeout, "long enough for a reasoning model's silent think")
	assert.Equal(t, 2, c.NewRetryBudget().Left())
	assert.Equal(t, 0, NewClient(&ClientOptions{MaxRetries: -1}).NewRetryBudget().Left())
	assert.Negative(t, NewClient(&ClientOptions{StreamIdleTimeout: -1}).opts.StreamIdleTimeout, "off")
}

func TestShouldRetryStatuses(t *testing.T) {
	for status, want := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 408: true, 409: true, 422: false, 429: true,
		500: true, 501: false, 502: true, 503: true, 504: true, 505: false, 520: true,
	} {
		assert.Equal(t, want, shouldRetry(&http.Response{StatusCode: status, Header: http.Header{}}, &APIError{StatusCode: status}), "%d", status)
	}
}

// FuzzValidValue checks the grammar of validValue against json.Valid.
func FuzzValidValue(f *testing.F) {
	for _, s := range []string{`{}`, `[1,-0.5e+3,"a\u00e9\n",true,false,null]`, `{"a":{"b":[]}}`, `01`, `1.`, `"\x"`, `"a`, ` 1 `, `-`, `[1,]`, `{"a":1,}`, "\"\x01\"", `1e`, `"\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		b := []byte(in)
		end := validValue(b, skipSpace(b, 0))
		ours := end >= 0 && skipSpace(b, end) == len(b)
		require.Equal(t, json.Valid(b), ours, "%q", in)
	})
}

// FuzzJSONString checks the fast unescaping of jsonString against
// encoding/json.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{`"a\nb"`, `"\"q\" \\ \/ \t\r\b\f"`, `"é\n"`, `"\u00e9"`, "\"\xff\\n\"", `"a\x"`, `"a`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want string
		if json.Unmarshal([]byte(in), &want) != nil || len(in) == 0 || in[0] != '"' {
			return
		}
		require.Equal(t, want, jsonString(json.RawMessage(in)), "%q", in)
	})
}

// FuzzDecodeResponse checks decodeResponse against json.Unmarshal.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{"id":"resp_1","object":"response","created_at":1.5,"status":"completed","model":"m","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]},null],"usage":{"input_tokens":1,"output_tokens":2},"store":true,"parallel_tool_calls":false,"metadata":{"a":"b"},"instructions":"x","conversation":null,"completed_at":2}`,
		`{"ID":"x"}`, `{"id":"a","id":"b"}`, `{"id":5}`, `{"output":[1]}`, `{"output":{}}`, `{"error":{"code":5,"message":"m"}}`, `{"error":"boom"}`,
		`{"created_at":"1"}`, `{"store":null,"usage":null,"output":null}`, `{"id":"a\nb\u00e9"}`, ` {"id" : "x" , "output" : [ {"type":"x"} ] } `, `{"incomplete_details":{"reason":"max_output_tokens"}}`,
		`{"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4,"cache_write_tokens":1},"output_tokens":-2,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":12,"extra":[1]}}`,
		`{"usage":{"input_tokens":1.5}}`, `{"usage":{"input_tokens":1e2}}`, `{"usage":{"Input_Tokens":1}}`, `{"usage":{"input_tokens":1,"input_tokens":2}}`,
		`{"usage":{"input_tokens":null,"input_tokens_details":null,"output_tokens_details":{"reasoning_tokens":null}}}`, `{"usage":{"total_tokens":"3"}}`,
		`{"usage":{"total_tokens":99999999999999999999}}`, `{"usage":{"output_tokens_details":{"REASONING_TOKENS":1}}}`, `{"usage":[]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want, got Response
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := decodeResponse([]byte(in), &got, false)
		require.Equal(t, wantErr == nil, gotErr == nil, "%q: %v vs %v", in, wantErr, gotErr)
		if wantErr != nil {
			return
		}
		require.Equal(t, want, got, "%q", in)
		if json.Valid([]byte(in)) {
			var again Response
			require.NoError(t, decodeResponse([]byte(in), &again, true))
			require.Equal(t, want, again, "%q", in)
		}
	})
}

// FuzzAppendRequest checks that the hand-written request encoding writes
// what json.Marshal writes for the struct, byte for byte.
func FuzzAppendRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","input":"hi","instructions":"be <brief> & kind","store":false,"stream":true,"max_output_tokens":-3,"parallel_tool_calls":true}`,
		`{"model":"openai/gpt-4o","previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"c","output":"5"}],"tools":[{"type":"function","name":"add","parameters":{"type":"object"},"strict":true,"description":"a < b"},{ "type" : "shell" }]}`,
		`{"reasoning":{"effort":"high"},"include":["reasoning.encrypted_content","x\u00e9"],"metadata":{"b":"2","a":"1"},"temperature":0,"top_p":1e-7,"truncation":"auto"}`,
		`{"text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"},"strict":true},"verbosity":"low"},"tool_choice":"auto","prompt":{"id":"p","variables":{"x":1}}}`,
		`{"tool_choice":{"type":"function","name":"f"},"conversation":{"id":"conv_1"},"context_management":[{"type":"compaction","compact_threshold":1000}]}`,
		`{"reasoning":{},"input":[],"tools":[null],"temperature":1.5e300,"model":"a\u2028b\"c"}`,
	} {
		f.Add(s)
	}
	type plain Request
	f.Fuzz(func(t *testing.T, in string) {
		var r Request
		if json.Unmarshal([]byte(in), &r) != nil {
			return
		}
		want, wantErr := json.Marshal(plain(r))
		got, gotErr := appendRequest(nil, &r)
		require.Equal(t, wantErr == nil, gotErr == nil, "%q: %v vs %v", in, wantErr, gotErr)
		if wantErr == nil {
			require.Equal(t, string(want), string(got), "%q", in)
		}
	})
}

// FuzzHandWrittenJSON checks UserMessage and MustJSON of a string against
// what json.Marshal writes.
func FuzzHandWrittenJSON(f *testing.F) {
	for _, s := range []string{"", "hi", "a\"b\\c", "<tag> & co", "line\nnext\t", "é\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(MustJSON(s)))
		old, err := NewItem(Message{Type: TypeMessage, Role: "user", Content: MustJSON([]ContentPart{InputText(s)})})
		require.NoError(t, err)
		got := UserMessage(s)
		require.Equal(t, string(old.Raw()), string(got.Raw()))
		require.Equal(t, old, got)
	})
}
