package responses_test

// Wire faults of issue 13: replies that are not the API's, bodies cut in
// the middle, retries that stacked, silence.

import (
	"context"
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

// loginPage is a proxy's sign-in page, long enough that an error quoting
// all of it would be useless.
var loginPage = "<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <title>\n    Sign in - Corp Proxy\n  </title>\n</head>\n<body>\n" +
	strings.Repeat("<p>Please sign in to continue.</p>\n", 3000) + "</body>\n</html>\n"

func writeRaw(w http.ResponseWriter, status int, contentType, body string) {
	if contentType == "" {
		w.Header()["Content-Type"] = nil // net/http must not sniff one either
	} else {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// call runs req through Create or Stream (reading the whole stream) and
// returns the response or the error.
func call(t *testing.T, c *responses.Client, stream bool) (*responses.Response, error) {
	t.Helper()
	req := &responses.Request{Model: "m", Input: responses.TextInput("hi")}
	if !stream {
		return c.Create(t.Context(), req)
	}
	s, err := c.Stream(t.Context(), req)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	for s.Next() {
	}
	return s.Response(), s.Err()
}

// A base URL that answers 200 with a web page (a proxy's login page, a
// wrong path) was read as an event stream: 9 requests and 4 s later it
// ended in "stream closed before response.completed".
func TestReplyThatIsNotTheAPIFailsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body, wantBody string
	}{
		{"html page", "text/html; charset=utf-8", loginPage, "Sign in - Corp Proxy"},
		{"html without charset", "TEXT/HTML", "<html><body>Moved</body></html>", "<html><body>Moved</body></html>"},
		{"xml", "application/xml", "<?xml version=\"1.0\"?>\n<error>no</error>", `<?xml version="1.0"?>`},
		{"plain text that is neither", "text/plain; charset=utf-8", "\n  404 page not found  \nmore", "404 page not found"},
		{"no content type, html body", "", "<html><head><title>Login</title></head></html>", "Login"},
		{"long first line is cut", "text/html", strings.Repeat("x", 5000), strings.Repeat("x", 200) + "…"},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s stream=%v", tc.name, stream), func(t *testing.T) {
				srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("x-request-id", "req_h")
					writeRaw(w, 200, tc.contentType, tc.body)
				})
				o := srv.options(responses.Compatible)
				o.RetryBaseDelay, o.RetryMaxDelay = 4*time.Second, 4*time.Second // a retry would wait >= 3s
				start := time.Now()
				_, err := call(t, responses.NewClient(o), stream)
				assert.Less(t, time.Since(start), 2*time.Second, "immediate, no backoff")
				assert.Len(t, srv.requests(), 1, "not retried")
				var ctErr *responses.ContentTypeError
				require.ErrorAs(t, err, &ctErr)
				assert.Equal(t, responses.ContentTypeError{URL: srv.URL + "/responses", StatusCode: 200,
					ContentType: tc.contentType, Body: tc.wantBody, RequestID: "req_h"}, *ctErr)
				msg := err.Error()
				assert.Contains(t, msg, srv.URL+"/responses")
				assert.Contains(t, msg, "200 OK")
				assert.Contains(t, msg, fmt.Sprintf("%q", tc.contentType))
				assert.Contains(t, msg, "check the base URL")
				assert.Less(t, len(msg), 600)
				assert.NotErrorIs(t, err, responses.ErrStreamClosed)
			})
		}
	}
}

// Compatible servers label their replies loosely; all of these are the API.
func TestReplyContentTypesAccepted(t *testing.T) {
	sse := strings.Join(textStream(), "")
	for _, tc := range []struct{ name, contentType, body string }{
		{"json", "application/json", completedJSON},
		{"json with charset", "application/json; charset=utf-8", completedJSON},
		{"json upper case with spaces", " Application/JSON ;charset=UTF-8", completedJSON},
		{"vendor json", "application/vnd.api+json", completedJSON},
		{"json as text/plain (net/http's sniffed default)", "text/plain; charset=utf-8", completedJSON},
		{"json without content type", "", "\n" + completedJSON},
		{"event stream", "text/event-stream", sse},
		{"event stream with params", "text/event-stream; charset=utf-8", sse},
		{"event stream as text/plain", "text/plain", sse},
		{"event stream without content type", "", sse},
		{"event stream starting with a comment, octet-stream", "application/octet-stream", ": hi\n\n" + sse},
		{"event stream with a byte order mark", "", "\uFEFF" + sse},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s stream=%v", tc.name, stream), func(t *testing.T) {
				srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeRaw(w, 200, tc.contentType, tc.body) })
				resp, err := call(t, responses.NewClient(srv.options(responses.Compatible)), stream)
				require.NoError(t, err)
				require.NotNil(t, resp)
				assert.NotEmpty(t, resp.Output)
				assert.Len(t, srv.requests(), 1)
			})
		}
	}
}

// A stream without a Content-Type whose first line is short and then
// pauses is delivered as it comes: telling it from JSON does not wait for
// more bytes than that.
func TestStreamWithoutContentTypeIsNotHeldUp(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		w.WriteHeader(200)
		io.WriteString(w, ev("response.created", respCreated)[len("event: response.created\n"):])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, ev("response.completed", completed("")))
	})
	s, err := responses.NewClient(srv.options(responses.Compatible)).Stream(t.Context(), &responses.Request{Model: "m"})
	require.NoError(t, err)
	defer s.Close()
	require.True(t, s.Next(), "the first event arrives before the server goes on")
	assert.Equal(t, "response.created", s.Event().Type)
	close(release)
	require.True(t, s.Next())
	assert.Equal(t, "response.completed", s.Event().Type)
}

// A 501 (the endpoint does not exist there) is not worth a retry, and its
// error names the page, not all of it. A 502 page from a gateway is
// transient: retried, with the same short message.
func TestErrorPageStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		wantCalls int
	}{
		{501, 1},
		{505, 1},
		{502, 3},
		{503, 3},
	} {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d stream=%v", tc.status, stream), func(t *testing.T) {
				srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeRaw(w, tc.status, "text/html", loginPage) })
				_, err := call(t, responses.NewClient(srv.options(responses.Compatible)), stream)
				assert.Len(t, srv.requests(), tc.wantCalls)
				var apiErr *responses.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.status, apiErr.StatusCode)
				assert.Equal(t, "Sign in - Corp Proxy", apiErr.Message)
				assert.Less(t, len(err.Error()), 300)
			})
		}
	}
	t.Run("x-should-retry true still retries a 501", func(t *testing.T) {
		srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				w.Header().Set("x-should-retry", "true")
				writeRaw(w, 501, "text/html", loginPage)
				return
			}
			writeJSON(w, 200, completedJSON)
		})
		_, err := call(t, responses.NewClient(srv.options(responses.Compatible)), false)
		require.NoError(t, err)
		assert.Len(t, srv.requests(), 2)
	})
}

// cutBody answers with the headers and the first half of body, then drops
// the connection: with a Content-Length, or chunked.
func cutBody(w http.ResponseWriter, body string, chunked bool) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	half := body[:len(body)/2]
	if chunked {
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_cut\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(half), half)
	} else {
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: req_cut\r\nContent-Length: %d\r\n\r\n%s", len(body), half)
	}
	buf.Flush()
}

// With streaming off, a reply cut in the middle of its body was returned
// as an error although nothing of it could have run.
func TestCreateBodyCutIsRetried(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 0 {
					cutBody(w, completedJSON, chunked)
					return
				}
				writeJSON(w, 200, completedJSON)
			})
			resp, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
			require.NoError(t, err)
			assert.Equal(t, "resp_1", resp.ID)
			reqs := srv.requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, reqs[0].Body, reqs[1].Body)
		})
	}
	t.Run("bounded", func(t *testing.T) {
		srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			cutBody(w, completedJSON, false)
		})
		_, err := responses.NewClient(srv.options(responses.OpenAI)).Create(t.Context(), &responses.Request{Model: "m"})
		assert.Len(t, srv.requests(), 3)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.ErrorContains(t, err, "read response of "+srv.URL+"/responses")
		assert.ErrorContains(t, err, "[request req_cut]")
	})
	t.Run("a JSON reply to a streaming request", func(t *testing.T) {
		srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				cutBody(w, completedJSON, false)
				return
			}
			writeJSON(w, 200, completedJSON)
		})
		resp, err := call(t, responses.NewClient(srv.options(responses.OpenAI)), true)
		require.NoError(t, err)
		assert.Equal(t, "resp_1", resp.ID)
		assert.Len(t, srv.requests(), 2)
	})
	t.Run("compact too", func(t *testing.T) {
		srv := newServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			body := `{"id":"cmp_1","object":"response.compaction","output":[]}`
			if n == 0 {
				cutBody(w, body, true)
				return
			}
			writeJSON(w, 200, body)
		})
		r, err := responses.NewClient(srv.options(responses.OpenAI)).Compact(t.Context(), &responses.CompactRequest{Model: "m"})
		require.NoError(t, err)
		assert.Equal(t, "cmp_1", r.ID)
		assert.Len(t, srv.requests(), 2)
	})
}

// The client's retries times the loop's own re-asks gave 9 requests in
// the worst case. Under one RetryBudget the calls of a turn and the
// caller's re-asks share MaxRetries retries.
func TestRetryBudgetIsShared(t *testing.T) {
	cutAfterOutput := func(_ int, w http.ResponseWriter, _ *http.Request) {
		cutSSE(w, textStream()[:10]...) // through the message's output_item.done
	}
	unavailable := func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 503, `{}`) }
	cutBeforeOutput := func(_ int, w http.ResponseWriter, _ *http.Request) { cutSSE(w, textStream()[:3]...) }
	for _, tc := range []struct {
		name  string
		reply func(int, http.ResponseWriter, *http.Request)
	}{
		{"stream cut after output, re-asked by the caller", cutAfterOutput},
		{"503 retried by the client", unavailable},
		{"stream cut before output, retried by the client", cutBeforeOutput},
		{"mixed", func(n int, w http.ResponseWriter, r *http.Request) {
			[]func(int, http.ResponseWriter, *http.Request){unavailable, cutAfterOutput, cutBeforeOutput}[n%3](n, w, r)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.reply)
			c := responses.NewClient(srv.options(responses.OpenAI)) // MaxRetries: 2 by default
			budget := c.NewRetryBudget()
			assert.Equal(t, 2, budget.Left())
			ctx := responses.WithRetryBudget(t.Context(), budget)
			asks := 0
			for {
				asks++
				require.LessOrEqual(t, asks, 9, "runaway")
				s, err := c.Stream(ctx, &responses.Request{Model: "m"})
				if err == nil {
					for s.Next() {
					}
					err = s.Err()
					s.Close()
				}
				require.Error(t, err)
				if !budget.Wait(ctx, err) { // the loop's own re-ask
					break
				}
			}
			assert.Len(t, srv.requests(), 3, "MaxRetries+1 requests in all")
			assert.Equal(t, 2, budget.Used())
			assert.Equal(t, 0, budget.Left())
		})
	}
	t.Run("without a budget each call has its own", func(t *testing.T) {
		srv := newServer(t, unavailable)
		c := responses.NewClient(srv.options(responses.OpenAI))
		for range 2 {
			_, err := c.Create(t.Context(), &responses.Request{Model: "m"})
			require.Error(t, err)
		}
		assert.Len(t, srv.requests(), 6)
	})
	t.Run("retries off", func(t *testing.T) {
		srv := newServer(t, unavailable)
		o := srv.options(responses.OpenAI)
		o.MaxRetries = -1
		c := responses.NewClient(o)
		b := c.NewRetryBudget()
		_, err := c.Create(responses.WithRetryBudget(t.Context(), b), &responses.Request{Model: "m"})
		require.Error(t, err)
		assert.False(t, b.Wait(t.Context(), err))
		assert.Len(t, srv.requests(), 1)
	})
}

func TestRetryBudgetWait(t *testing.T) {
	o := &responses.ClientOptions{RetryBaseDelay: time.Millisecond, RetryMaxDelay: 2 * time.Millisecond, MaxRetries: 5, MaxRetryAfter: time.Second}
	c := responses.NewClient(o)

	b := c.NewRetryBudget()
	start := time.Now()
	require.True(t, b.Wait(t.Context(), &responses.APIError{StatusCode: 429, RetryAfter: 150 * time.Millisecond}))
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond, "the server's wait, not the 1ms backoff")

	start = time.Now()
	require.True(t, b.Wait(t.Context(), fmt.Errorf("wrapped: %w", &responses.StreamError{Err: responses.ErrStreamClosed})))
	assert.Less(t, time.Since(start), time.Second, "the 1ms backoff")
	assert.Equal(t, 2, b.Used())

	assert.False(t, b.Wait(t.Context(), &responses.APIError{StatusCode: 429, RetryAfter: time.Hour}), "beyond MaxRetryAfter")
	assert.Equal(t, 2, b.Used(), "a refused wait spends nothing")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.False(t, b.Wait(ctx, errors.New("x")))

	var zero responses.RetryBudget
	assert.False(t, zero.Wait(t.Context(), errors.New("x")), "the zero budget allows no retry")
}

// With its retries off, a workflow engine retries by itself and takes the
// wait the server asked for from the error.
func TestAPIErrorRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"retry-after-ms", map[string]string{"retry-after-ms": "1500"}, 1500 * time.Millisecond},
		{"retry-after seconds", map[string]string{"retry-after": "7"}, 7 * time.Second},
		{"ms wins", map[string]string{"retry-after-ms": "20", "retry-after": "7"}, 20 * time.Millisecond},
		{"beyond the client's cap is still reported", map[string]string{"retry-after": "3600"}, time.Hour},
		{"none", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				writeJSON(w, 429, `{"error":{"message":"slow down","code":"rate_limit_exceeded"}}`)
			})
			o := srv.options(responses.OpenAI)
			o.MaxRetries = -1
			start := time.Now()
			_, err := responses.NewClient(o).Create(t.Context(), &responses.Request{Model: "m"})
			assert.Less(t, time.Since(start), time.Second, "no wait with retries off")
			var apiErr *responses.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.want, apiErr.RetryAfter)
			assert.Len(t, srv.requests(), 1)
		})
	}
	t.Run("stream error event", func(t *testing.T) {
		srv := newServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			writeSSE(w, ev("response.created", respCreated), ev("error", `"code":"rate_limit_exceeded","message":"Please try again in 1.5s."`))
		})
		o := srv.options(responses.OpenAI)
		o.MaxRetries = -1
		_, err := call(t, responses.NewClient(o), true)
		var apiErr *responses.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 1500*time.Millisecond, apiErr.RetryAfter)
	})
}

// A silent stream is cut after StreamIdleTimeout, and the error says which
// limit it hit and how to change it.
func TestStreamIdleErrorNamesTheTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		writeSSE(w, ev("response.created", respCreated))
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	o := srv.options(responses.OpenAI)
	o.StreamIdleTimeout = 150 * time.Millisecond
	start := time.Now()
	_, err := call(t, responses.NewClient(o), true)
	elapsed := time.Since(start)
	assert.Len(t, srv.requests(), 3, "a silent stream is a broken one: retried")
	assert.GreaterOrEqual(t, elapsed, 3*150*time.Millisecond)
	assert.Less(t, elapsed, 5*time.Second)
	assert.ErrorIs(t, err, responses.ErrStreamIdle)
	assert.ErrorIs(t, err, responses.ErrStreamClosed)
	assert.ErrorContains(t, err, "no data for 150ms")
	assert.ErrorContains(t, err, "ClientOptions.StreamIdleTimeout")
}
