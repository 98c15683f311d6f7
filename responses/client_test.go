package responses_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/responses"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorded is one request the test server saw.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// server is an httptest server on 127.0.0.1 that records requests and
// answers the n-th one (0-based) with reply(n, w, r).
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newServer(t *testing.T, reply func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.Path, r.Header.Clone(), body})
		s.mu.Unlock()
		reply(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// options returns client options for the server with tiny retry delays.
func (s *server) options(p responses.Provider) *responses.ClientOptions {
	return &responses.ClientOptions{
		Provider:       p,
		BaseURL:        s.URL,
		HTTPClient:     s.Client(),
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  2 * time.Millisecond,
	}
}

const completedJSON = `{"id":"resp_1","object":"response","created_at":1767000000.25,"status":"completed","model":"gpt-test",
"output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"hello","annotations":[]}]}],
"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":13}}`

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestCreateDecodesResponse(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("x-request-id", "req_1")
		writeJSON(w, 200, completedJSON)
	})
	c := responses.NewClient(srv.options(responses.OpenAI))
	resp, err := c.Create(t.Context(), &responses.Request{Model: "gpt-test", Input: responses.TextInput("hi"), Stream: true})
	require.NoError(t, err)
	assert.Equal(t, "resp_1", resp.ID)
	assert.Equal(t, 1767000000.25, resp.CreatedAt)
	assert.Equal(t, "hello", resp.OutputText())
	require.NotNil(t, resp.Usage)
	assert.Equal(t, int64(4), resp.Usage.InputTokensDetails.CachedTokens)
	assert.Equal(t, int64(1), resp.Usage.OutputTokensDetails.ReasoningTokens)

	reqs := srv.requests()
	require.Len(t, reqs, 1)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	_, hasStream := body["stream"]
	assert.False(t, hasStream, "Create must not stream: %s", reqs[0].Body)
	assert.Equal(t, "application/json", reqs[0].Header.Get("Accept"))
}

func TestRequestEncoding(t *testing.T) {
	fn := responses.MustToolDefinition(responses.FunctionTool{Type: "function", Name: "f", Parameters: json.RawMessage(`{"type":"object","properties":{},"required":[],"additionalProperties":false}`), Strict: false})
	for _, tc := range []struct {
		name string
		req  responses.Request
		want string // the exact JSON Create sends
	}{
		{"minimal", responses.Request{Model: "m", Input: responses.TextInput("hi")},
			`{"model":"m","input":"hi"}`},
		{"explicit false and zero are sent",
			responses.Request{Model: "m", Store: responses.Ptr(false), ParallelToolCalls: responses.Ptr(false), Temperature: responses.Ptr(0.0), TopP: responses.Ptr(0.0), MaxOutputTokens: responses.Ptr(int64(0))},
			`{"model":"m","max_output_tokens":0,"parallel_tool_calls":false,"store":false,"temperature":0,"top_p":0}`},
		{"every create parameter",
			responses.Request{
				Model:              "m",
				Input:              responses.ItemsInput(responses.UserMessage("hi")),
				Include:            []string{"reasoning.encrypted_content"},
				Instructions:       "be brief",
				MaxOutputTokens:    responses.Ptr(int64(100)),
				Metadata:           map[string]string{"k": "v"},
				ParallelToolCalls:  responses.Ptr(true),
				PreviousResponseID: "resp_0",
				Reasoning:          &responses.Reasoning{Effort: "low", Summary: "auto"},
				Store:              responses.Ptr(true),
				Temperature:        responses.Ptr(0.5),
				Text:               &responses.TextConfig{Verbosity: "low", Format: &responses.TextFormat{Type: "json_schema", Name: "x", Schema: json.RawMessage(`{"type":"object"}`), Strict: responses.Ptr(false)}},
				ToolChoice:         responses.ToolChoiceMode("required"),
				Tools:              []responses.ToolDefinition{fn},
				TopP:               responses.Ptr(0.9),
				Truncation:         "auto",
			},
			`{"model":"m","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}],"include":["reasoning.encrypted_content"],"instructions":"be brief","max_output_tokens":100,"metadata":{"k":"v"},"parallel_tool_calls":true,"previous_response_id":"resp_0","reasoning":{"effort":"low","summary":"auto"},"store":true,"temperature":0.5,"text":{"format":{"type":"json_schema","name":"x","schema":{"type":"object"},"strict":false},"verbosity":"low"},"tool_choice":"required","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{},"required":[],"additionalProperties":false},"strict":false}],"top_p":0.9,"truncation":"auto"}`},
		{"tool_choice function", responses.Request{Model: "m", ToolChoice: responses.ToolChoiceFunction("f")},
			`{"model":"m","tool_choice":{"name":"f","type":"function"}}`},
		{"tool_choice type", responses.Request{Model: "m", ToolChoice: responses.ToolChoiceType("apply_patch")},
			`{"model":"m","tool_choice":{"type":"apply_patch"}}`},
		{"tool_choice none", responses.Request{Model: "m", ToolChoice: responses.ToolChoiceMode("none")},
			`{"model":"m","tool_choice":"none"}`},
		{"tool_choice allowed_tools", responses.Request{Model: "m", ToolChoice: &responses.ToolChoice{Object: json.RawMessage(`{"type":"allowed_tools","mode":"auto","tools":[{"type":"mcp","server_label":"docs"}]}`)}},
			`{"model":"m","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"mcp","server_label":"docs"}]}}`},
		{"extra input wins over items", responses.Request{Model: "m", Input: responses.ItemsInput(responses.UserMessage("a")), Extra: map[string]any{"input": "b"}},
			`{"model":"m","input":"b"}`},
		{"items sent as they are", responses.Request{Input: responses.ItemsInput(mustDecodeItem(t, "{ \"type\": \"x\",\n \"a\": \"<&>\" }"))},
			"{\"input\":[{ \"type\": \"x\",\n \"a\": \"<&>\" }]}"},
		{"extra merged and wins", responses.Request{Model: "m", Extra: map[string]any{"service_tier": "flex", "model": "other"}},
			`{"model":"other","service_tier":"flex"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, completedJSON) })
			_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &tc.req)
			require.NoError(t, err)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			assert.JSONEq(t, tc.want, string(reqs[0].Body))
			if strings.Contains(tc.want, "\n") {
				assert.Equal(t, tc.want, string(reqs[0].Body))
			}
			assert.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
		})
	}
}

func mustDecodeItem(t *testing.T, s string) responses.Item {
	t.Helper()
	var it responses.Item
	require.NoError(t, json.Unmarshal([]byte(s), &it))
	return it
}

func TestProviders(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       responses.ClientOptions
		wantPath   string
		wantHeader map[string]string // "" means absent
	}{
		{"openai", responses.ClientOptions{Provider: responses.OpenAI, APIKey: "sk-1"}, "/responses",
			map[string]string{"Authorization": "Bearer sk-1", "X-Api-Key": "", "X-Selected-Account-Id": ""}},
		{"openai without key", responses.ClientOptions{}, "/responses",
			map[string]string{"Authorization": ""}},
		{"sgp", responses.ClientOptions{Provider: responses.SGP, APIKey: "sgp-1", AccountID: "acct"}, "/v5/responses",
			map[string]string{"Authorization": "", "X-Api-Key": "sgp-1", "X-Selected-Account-Id": "acct"}},
		{"sgp without account", responses.ClientOptions{Provider: responses.SGP, APIKey: "sgp-1"}, "/v5/responses",
			map[string]string{"X-Api-Key": "sgp-1", "X-Selected-Account-Id": ""}},
		{"compatible with extra headers", responses.ClientOptions{Provider: responses.Compatible, APIKey: "k",
			Headers: http.Header{"OpenAI-Project": {"proj"}, "user-agent": {"mine"}}}, "/responses",
			map[string]string{"Authorization": "Bearer k", "Openai-Project": "proj", "User-Agent": "mine"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, completedJSON) })
			o := tc.opts
			o.BaseURL, o.HTTPClient = srv.URL+"/", srv.Client()
			_, err := responses.NewClient(&o).Create(t.Context(), &responses.Request{Model: "m", Input: responses.TextInput("x")})
			require.NoError(t, err)
			reqs := srv.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, "POST", reqs[0].Method)
			assert.Equal(t, tc.wantPath, reqs[0].Path)
			for k, v := range tc.wantHeader {
				assert.Equal(t, v, reqs[0].Header.Get(k), "header %s", k)
			}
		})
	}
}

func TestEndpointDefaults(t *testing.T) {
	assert.Equal(t, "https://api.openai.com/v1/responses", responses.NewClient(nil).Endpoint())
	assert.Equal(t, "https://api.egp.scale.com/v5/responses", responses.NewClient(&responses.ClientOptions{Provider: responses.SGP}).Endpoint())
	assert.Equal(t, "http://127.0.0.1:9/x/responses", responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: "http://127.0.0.1:9/x/"}).Endpoint())
}

func TestInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    responses.ClientOptions
		wantErr string
	}{
		{"compatible without base", responses.ClientOptions{Provider: responses.Compatible}, "needs a BaseURL"},
		{"relative base", responses.ClientOptions{BaseURL: "api.example/v1"}, "not an absolute http or https URL"},
		{"unknown provider", responses.ClientOptions{Provider: responses.Provider(9)}, "unknown provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := responses.NewClient(&tc.opts)
			_, err := c.Create(t.Context(), &responses.Request{Model: "m"})
			assert.ErrorContains(t, err, tc.wantErr)
			_, err = c.Stream(t.Context(), &responses.Request{Model: "m"})
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
	_, err := responses.NewClient(nil).Create(t.Context(), nil)
	assert.ErrorContains(t, err, "nil request")
}

func TestOptionsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    *responses.ClientOptions
		wantErr string
	}{
		{"sgp wins", map[string]string{"SGP_API_KEY": "s", "SGP_ACCOUNT_ID": "a", "SGP_CLIENT_BASE_URL": "http://127.0.0.1:5003/public", "OPENAI_API_KEY": "o"},
			&responses.ClientOptions{Provider: responses.SGP, APIKey: "s", AccountID: "a", BaseURL: "http://127.0.0.1:5003/public"}, ""},
		{"sgp key only", map[string]string{"SGP_API_KEY": "s"},
			&responses.ClientOptions{Provider: responses.SGP, APIKey: "s"}, ""},
		{"openai", map[string]string{"OPENAI_API_KEY": " o "},
			&responses.ClientOptions{Provider: responses.OpenAI, APIKey: "o"}, ""},
		{"openai with base", map[string]string{"OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"},
			&responses.ClientOptions{Provider: responses.OpenAI, APIKey: "o", BaseURL: "http://127.0.0.1:8080/v1"}, ""},
		{"compatible without key", map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"},
			&responses.ClientOptions{Provider: responses.Compatible, BaseURL: "http://127.0.0.1:8080/v1"}, ""},
		{"nothing", map[string]string{}, nil, "no API key"},
		{"sgp account without key", map[string]string{"SGP_ACCOUNT_ID": "a", "OPENAI_API_KEY": "o"}, nil, "SGP_ACCOUNT_ID is set but SGP_API_KEY is empty"},
		{"bad openai base", map[string]string{"OPENAI_API_KEY": "o", "OPENAI_BASE_URL": "localhost:8080"}, nil, "OPENAI_BASE_URL"},
		{"bad sgp base", map[string]string{"SGP_API_KEY": "s", "SGP_CLIENT_BASE_URL": "ftp://x"}, nil, "SGP_CLIENT_BASE_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := responses.OptionsFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := responses.OptionsFromEnv(func(string) string { return "" })
	assert.ErrorIs(t, err, responses.ErrNoAPIKey)
}

func TestAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   responses.APIError
	}{
		{"json error", 400, `{"error":{"message":"No tool output found for function call call_k3.","type":"invalid_request_error","param":"input","code":null}}`,
			responses.APIError{StatusCode: 400, Type: "invalid_request_error", Param: "input", Message: "No tool output found for function call call_k3.", RequestID: "req_e"}},
		{"code", 401, `{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key","param":null}}`,
			responses.APIError{StatusCode: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "bad key", RequestID: "req_e"}},
		{"not json", 404, `<html>not found</html>`,
			responses.APIError{StatusCode: 404, Message: "<html>not found</html>", RequestID: "req_e"}},
		{"string error", 403, `{"error":"forbidden region"}`,
			responses.APIError{StatusCode: 403, Message: "forbidden region", RequestID: "req_e"}},
		{"numeric code", 422, `{"error":{"message":"invalid","code":422}}`,
			responses.APIError{StatusCode: 422, Code: "422", Message: "invalid", RequestID: "req_e"}},
		{"empty body", 400, ``,
			responses.APIError{StatusCode: 400, RequestID: "req_e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("x-request-id", "req_e")
				writeJSON(w, tc.status, tc.body)
			})
			_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
			var apiErr *responses.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.want, *apiErr)
			assert.Len(t, srv.requests(), 1, "not retried")
			assert.Contains(t, err.Error(), "req_e")
		})
	}
}

func TestAPIErrorLongBodyIsCut(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 400, strings.Repeat("x", 10000))
	})
	_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
	var apiErr *responses.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Less(t, len(apiErr.Message), 600)
	assert.True(t, strings.HasSuffix(apiErr.Message, "…"))
}

func TestRetries(t *testing.T) {
	const rateLimited = `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`
	type reply struct {
		status int
		header map[string]string
		body   string
	}
	ok := reply{200, nil, completedJSON}
	for _, tc := range []struct {
		name       string
		maxRetries int
		replies    []reply // the last one repeats
		wantCalls  int
		wantStatus int // 0: success
	}{
		{"500 then success", 0, []reply{{500, nil, `{"error":{"message":"boom","type":"server_error"}}`}, ok}, 2, 0},
		{"502 non-json then success", 0, []reply{{502, nil, `bad gateway`}, ok}, 2, 0},
		{"408 and 409 retried", 0, []reply{{408, nil, `{}`}, {409, nil, `{}`}, ok}, 3, 0},
		{"429 then success", 0, []reply{{429, map[string]string{"retry-after-ms": "1"}, rateLimited}, ok}, 2, 0},
		{"attempts bounded by default", 0, []reply{{503, nil, `{}`}}, 3, 503},
		{"attempts bounded by option", 4, []reply{{500, nil, `{}`}}, 5, 500},
		{"no retries", -1, []reply{{500, nil, `{}`}}, 1, 500},
		{"insufficient_quota not retried", 0, []reply{{429, map[string]string{"x-should-retry": "true"}, `{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}`}}, 1, 429},
		{"400 not retried", 0, []reply{{400, nil, `{}`}}, 1, 400},
		{"401 not retried", 0, []reply{{401, nil, `{}`}}, 1, 401},
		{"403 not retried", 0, []reply{{403, nil, `{}`}}, 1, 403},
		{"404 not retried", 0, []reply{{404, nil, `{}`}}, 1, 404},
		{"422 not retried", 0, []reply{{422, nil, `{}`}}, 1, 422},
		{"x-should-retry false", 0, []reply{{500, map[string]string{"x-should-retry": "false"}, `{}`}}, 1, 500},
		{"x-should-retry true", 0, []reply{{400, map[string]string{"x-should-retry": "true"}, `{}`}, ok}, 2, 0},
		{"retry-after beyond the cap stops", 0, []reply{{429, map[string]string{"retry-after": "3600"}, rateLimited}}, 1, 429},
		{"retry-after seconds", 0, []reply{{429, map[string]string{"retry-after": "0.001"}, rateLimited}, ok}, 2, 0},
		{"retry-after http date", 0, []reply{{429, map[string]string{"retry-after": "Mon, 02 Jan 2006 15:04:05 GMT"}, rateLimited}, ok}, 2, 0},
		{"malformed retry-after falls back to backoff", 0, []reply{{429, map[string]string{"retry-after": "soon", "retry-after-ms": "-5"}, rateLimited}, ok}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				r := tc.replies[min(n, len(tc.replies)-1)]
				for k, v := range r.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, r.status, r.body)
			})
			o := srv.options(responses.OpenAI)
			o.MaxRetries = tc.maxRetries
			resp, err := responses.NewClient(o).Create(t.Context(), &responses.Request{Model: "m"})
			assert.Len(t, srv.requests(), tc.wantCalls)
			if tc.wantStatus == 0 {
				require.NoError(t, err)
				assert.Equal(t, "resp_1", resp.ID)
				return
			}
			var apiErr *responses.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.wantStatus, apiErr.StatusCode)
		})
	}
}

func TestRetryAfterMSHonoured(t *testing.T) {
	var first time.Time
	var gap time.Duration
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			first = time.Now()
			w.Header().Set("retry-after-ms", "150")
			writeJSON(w, 429, `{"error":{"message":"slow down","code":"rate_limit_exceeded"}}`)
			return
		}
		gap = time.Since(first)
		writeJSON(w, 200, completedJSON)
	})
	_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, gap, 150*time.Millisecond, "the client waited as asked, not its 1ms backoff")
}

func TestConnectionFailureRetried(t *testing.T) {
	// A server that hangs up on the first request before answering.
	srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeJSON(w, 200, completedJSON)
	})
	resp, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	assert.Equal(t, "resp_1", resp.ID)
	assert.Len(t, srv.requests(), 2)
}

func TestConnectionRefusedBounded(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there now
	c := responses.NewClient(&responses.ClientOptions{BaseURL: base, MaxRetries: 1, RetryBaseDelay: time.Millisecond})
	_, err := c.Create(t.Context(), &responses.Request{Model: "m"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "post "+base+"/responses")
}

func TestCreateContextCancelled(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(ctx, &responses.Request{Model: "m"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestCreateCancelledDuringBackoff(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("retry-after", "60")
		writeJSON(w, 503, `{}`)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(ctx, &responses.Request{Model: "m"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Len(t, srv.requests(), 1)
}

func TestCreateBadResponseBody(t *testing.T) {
	srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"id": 5`) })
	_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
	assert.ErrorContains(t, err, "decode response")
	var apiErr *responses.APIError
	assert.False(t, errors.As(err, &apiErr))
}
