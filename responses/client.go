package responses

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Default base URLs of the providers.
const (
	OpenAIBaseURL = "https://api.openai.com/v1"
	SGPBaseURL    = "https://api.egp.scale.com"
)

// Provider selects how a [Client] authenticates and which path it posts to.
type Provider int

const (
	// OpenAI posts to {base}/responses with "Authorization: Bearer <key>".
	// Its default base is [OpenAIBaseURL].
	OpenAI Provider = iota
	// SGP is the Scale GenAI Platform: {base}/v5/responses with
	// "x-api-key: <key>" and, when an account id is set,
	// "x-selected-account-id". Its default base is [SGPBaseURL]. Models are
	// named "vendor/model", e.g. "openai/gpt-4o".
	SGP
	// Compatible is any server that speaks the OpenAI wire format at
	// {base}/responses; it authenticates like OpenAI but has no default base.
	Compatible
)

// String returns "openai", "sgp" or "compatible".
func (p Provider) String() string {
	switch p {
	case OpenAI:
		return "openai"
	case SGP:
		return "sgp"
	case Compatible:
		return "compatible"
	}
	return fmt.Sprintf("Provider(%d)", int(p))
}

// ClientOptions configures a [Client]. The zero value talks to OpenAI
// without a key; zero fields take the defaults documented on each.
type ClientOptions struct {
	// Provider decides the auth header and the path; zero is OpenAI.
	Provider Provider
	// BaseURL is the API base, e.g. "https://api.openai.com/v1". Empty
	// means the provider's default; Compatible requires it.
	BaseURL string
	// APIKey is sent as a bearer token (OpenAI, Compatible) or as
	// x-api-key (SGP). Empty sends no auth header.
	APIKey string
	// AccountID is sent as x-selected-account-id (SGP only); empty omits it.
	AccountID string
	// Headers are added to every request and override default headers of
	// the same name.
	Headers http.Header
	// HTTPClient sends the requests. Nil uses a client without an overall
	// timeout whose transport waits at most 10 minutes for response headers.
	HTTPClient *http.Client
	// MaxRetries bounds the retries of one call (so at most MaxRetries+1
	// attempts). Zero means 2; a negative value disables retries.
	MaxRetries int
	// RetryBaseDelay is the first backoff delay, doubled for each further
	// retry up to RetryMaxDelay, then reduced by up to 25% of jitter. Zero
	// values mean 0.5s and 8s. A server's retry-after-ms or retry-after
	// header takes precedence; if it asks for more than MaxRetryAfter the
	// error is returned instead.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxRetryAfter is the longest server-requested wait honoured; zero
	// means 2 minutes.
	MaxRetryAfter time.Duration
	// StreamIdleTimeout ends a stream that sends no bytes for this long (a
	// broken stream, retried as such). Zero means 5 minutes, since reasoning
	// models may think for minutes before their first event; a negative
	// value disables it. Non-streaming calls are bounded only by ctx and
	// the HTTP client.
	StreamIdleTimeout time.Duration
	// Logger receives one debug record per attempt (with the x-request-id)
	// and a warning per retry. Nil discards logs.
	Logger *slog.Logger
}

// ErrNoAPIKey is returned by [OptionsFromEnv] when the environment names
// neither an API key nor a base URL.
var ErrNoAPIKey = errors.New("responses: no API key: set SGP_API_KEY or OPENAI_API_KEY")

// OptionsFromEnv builds client options from environment variables read
// through getenv (pass [os.Getenv]); the package itself never reads the
// environment.
//
// SGP_API_KEY selects the Scale GenAI Platform, with SGP_ACCOUNT_ID and
// SGP_CLIENT_BASE_URL. Otherwise OPENAI_API_KEY selects OpenAI, with
// OPENAI_BASE_URL; a base URL without a key selects a Compatible server
// that needs no key. With none of these set it returns [ErrNoAPIKey].
func OptionsFromEnv(getenv func(string) string) (*ClientOptions, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if key := env("SGP_API_KEY"); key != "" {
		o := &ClientOptions{Provider: SGP, APIKey: key, AccountID: env("SGP_ACCOUNT_ID"), BaseURL: env("SGP_CLIENT_BASE_URL")}
		if err := checkBaseURL(o.BaseURL); err != nil {
			return nil, fmt.Errorf("responses: SGP_CLIENT_BASE_URL: %w", err)
		}
		return o, nil
	}
	for _, k := range []string{"SGP_ACCOUNT_ID", "SGP_CLIENT_BASE_URL"} {
		if env(k) != "" {
			return nil, fmt.Errorf("responses: %s is set but SGP_API_KEY is empty", k)
		}
	}
	key, base := env("OPENAI_API_KEY"), env("OPENAI_BASE_URL")
	if err := checkBaseURL(base); err != nil {
		return nil, fmt.Errorf("responses: OPENAI_BASE_URL: %w", err)
	}
	switch {
	case key != "":
		return &ClientOptions{Provider: OpenAI, APIKey: key, BaseURL: base}, nil
	case base != "":
		return &ClientOptions{Provider: Compatible, BaseURL: base}, nil
	}
	return nil, ErrNoAPIKey
}

// checkBaseURL accepts "" or an absolute http(s) URL.
func checkBaseURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	return nil
}

var defaultHTTPClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 10 * time.Minute
	return &http.Client{Transport: t}
}()

// Client sends create-response requests to one endpoint. It is safe for
// concurrent use by multiple goroutines.
type Client struct {
	opts     ClientOptions
	endpoint string
	cfgErr   error // reported by every call when the options are invalid
	http     *http.Client
	log      *slog.Logger
}

// NewClient returns a client configured by opts; a nil opts talks to OpenAI
// with no key. The options are copied. Invalid options (a malformed base URL,
// Compatible without one) are reported by every call, not here.
func NewClient(opts *ClientOptions) *Client {
	c := &Client{}
	if opts != nil {
		c.opts = *opts
		c.opts.Headers = opts.Headers.Clone()
	}
	o := &c.opts
	if o.MaxRetries == 0 {
		o.MaxRetries = 2
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = 500 * time.Millisecond
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = 8 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 2 * time.Minute
	}
	if o.StreamIdleTimeout == 0 {
		o.StreamIdleTimeout = 5 * time.Minute
	}
	c.http = o.HTTPClient
	if c.http == nil {
		c.http = defaultHTTPClient
	}
	c.log = o.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}

	base, path := o.BaseURL, "/responses"
	switch o.Provider {
	case OpenAI:
		if base == "" {
			base = OpenAIBaseURL
		}
	case SGP:
		if base == "" {
			base = SGPBaseURL
		}
		path = "/v5/responses"
	case Compatible:
		if base == "" {
			c.cfgErr = errors.New("responses: the Compatible provider needs a BaseURL")
		}
	default:
		c.cfgErr = fmt.Errorf("responses: unknown provider %v", o.Provider)
	}
	if err := checkBaseURL(base); err != nil && c.cfgErr == nil {
		c.cfgErr = fmt.Errorf("responses: base URL: %w", err)
	}
	c.endpoint = strings.TrimRight(base, "/") + path
	return c
}

// Endpoint returns the URL the client posts to, e.g.
// "https://api.openai.com/v1/responses".
func (c *Client) Endpoint() string { return c.endpoint }

// Create sends req without streaming (whatever req.Stream says) and returns
// the response. Connection failures, 408, 409, 429 and 5xx replies are
// retried as [ClientOptions] describes; other non-2xx replies return an
// [*APIError]. A response whose status is failed or incomplete is returned
// without error: inspect its Status. A cancelled ctx returns promptly with
// an error wrapping ctx.Err().
func (c *Client) Create(ctx context.Context, req *Request) (*Response, error) {
	body, err := c.encode(req, false)
	if err != nil {
		return nil, err
	}
	var retries int
	resp, err := c.send(ctx, body, false, &retries)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("responses: read response: %w", ctx.Err())
		}
		return nil, fmt.Errorf("responses: read response: %w", err)
	}
	var r Response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("responses: decode response (request %s): %w: %s", resp.Header.Get("x-request-id"), err, snippet(data))
	}
	return &r, nil
}

func (c *Client) encode(req *Request, stream bool) ([]byte, error) {
	if c.cfgErr != nil {
		return nil, c.cfgErr
	}
	if req == nil {
		return nil, errors.New("responses: nil request")
	}
	r := *req
	r.Stream = stream
	body, err := encodeRequest(&r)
	if err != nil {
		return nil, fmt.Errorf("responses: encode request: %w", err)
	}
	return body, nil
}

// encodeRequest marshals r. The input items are spliced in as they are:
// each Item holds JSON that was validated when it was decoded or built, and
// running it through encoding/json again (which compacts and re-validates
// every Marshaler's output, once per nesting level) would cost more than the
// rest of the request. This also keeps each item's bytes exactly.
func encodeRequest(r *Request) ([]byte, error) {
	items := r.Input.Items
	if _, ok := r.Extra["input"]; ok || len(items) == 0 {
		return json.Marshal(r)
	}
	size := 0
	for _, it := range items {
		size += len(it.Raw()) + 1
	}
	rest := *r
	rest.Input = Input{}
	head, err := json.Marshal(&rest)
	if err != nil {
		return nil, err
	}
	if len(head) < 2 || head[0] != '{' || head[len(head)-1] != '}' {
		return nil, fmt.Errorf("request encodes as %.20q, not an object", head)
	}
	buf := make([]byte, 0, len(head)+size+16)
	buf = append(buf, head[:len(head)-1]...)
	if len(head) > 2 {
		buf = append(buf, ',')
	}
	buf = append(buf, `"input":[`...)
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		if raw := it.Raw(); raw != nil {
			buf = append(buf, raw...)
		} else {
			buf = append(buf, "null"...)
		}
	}
	return append(buf, "]}"...), nil
}

// send posts body and returns the first 2xx reply, retrying what the policy
// allows. *retries counts the retries spent so far and is shared with a
// stream's reconnections.
func (c *Client) send(ctx context.Context, body []byte, stream bool, retries *int) (*http.Response, error) {
	for {
		attempt := *retries + 1
		resp, err := c.attempt(ctx, body, stream)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("responses: post %s: %w", c.endpoint, ctx.Err())
			}
			err = fmt.Errorf("responses: post %s: %w", c.endpoint, err)
			c.log.LogAttrs(ctx, slog.LevelDebug, "responses: attempt failed", slog.Int("attempt", attempt), slog.Any("error", err))
			if !c.wait(ctx, retries, c.backoff(*retries), err) {
				return nil, c.ctxOr(ctx, err)
			}
			continue
		}
		reqID := resp.Header.Get("x-request-id")
		c.log.LogAttrs(ctx, slog.LevelDebug, "responses: attempt",
			slog.Int("attempt", attempt), slog.Int("status", resp.StatusCode), slog.String("request_id", reqID))
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		apiErr := parseAPIError(resp.StatusCode, reqID, data)
		if !shouldRetry(resp, apiErr) {
			return nil, apiErr
		}
		delay, ok := retryAfter(resp.Header, time.Now())
		if !ok {
			delay = c.backoff(*retries)
		} else if delay > c.opts.MaxRetryAfter {
			return nil, apiErr
		}
		if !c.wait(ctx, retries, delay, apiErr) {
			return nil, c.ctxOr(ctx, apiErr)
		}
	}
}

// ctxOr returns err, or the context's error when ctx is done.
func (c *Client) ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("responses: post %s: %w", c.endpoint, ctx.Err())
	}
	return err
}

// wait sleeps for delay before a retry if the budget allows one and ctx is
// not done; it counts the retry and reports whether to go on.
func (c *Client) wait(ctx context.Context, retries *int, delay time.Duration, cause error) bool {
	if *retries >= c.opts.MaxRetries {
		return false
	}
	*retries++
	c.log.LogAttrs(ctx, slog.LevelWarn, "responses: retrying",
		slog.Int("retry", *retries), slog.Duration("delay", delay), slog.Any("error", cause))
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *Client) attempt(ctx context.Context, body []byte, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	if stream {
		h.Set("Accept", "text/event-stream")
	} else {
		h.Set("Accept", "application/json")
	}
	h.Set("User-Agent", "agentloop")
	if k := c.opts.APIKey; k != "" {
		if c.opts.Provider == SGP {
			h.Set("x-api-key", k)
		} else {
			h.Set("Authorization", "Bearer "+k)
		}
	}
	if c.opts.Provider == SGP && c.opts.AccountID != "" {
		h.Set("x-selected-account-id", c.opts.AccountID)
	}
	for k, vs := range c.opts.Headers {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	return c.http.Do(req)
}
