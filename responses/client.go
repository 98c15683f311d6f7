package responses

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/agentloop/agentloop/responses/internal/sse"
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
	// requests), counting every retry: of a failed connection, a retryable
	// status, a non-streaming reply cut in its body, a stream that broke
	// before its first output item. Zero means 2; a negative value disables
	// retries, for a caller that retries by itself (a workflow engine: it
	// finds the wait a reply asked for in [APIError.RetryAfter]). Calls run
	// under [WithRetryBudget] share one budget instead; see [RetryBudget].
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
	// StreamIdleTimeout ends a stream that sends no bytes for this long,
	// counted from the response headers and restarted by every byte (SSE
	// keep-alive comments count: they prove the server is there). Such a
	// stream is broken: it is retried as one, and otherwise ends with a
	// [*StreamError] wrapping [ErrStreamIdle]. Zero means 5 minutes: a
	// reasoning model may think for minutes without sending an event, and
	// the API is not documented to send keep-alives meanwhile, so a shorter
	// default would cut healthy long thinks (Codex uses 300 s too). A
	// negative value disables it. Non-streaming calls are bounded only by
	// ctx and the HTTP client.
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
	// A stream's events come in small writes; when they arrive faster than
	// they are read, one read takes many (the default is 4 KiB).
	t.ReadBufferSize = 64 << 10
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

	authKey, authValue string // the header that carries the API key, canonical, and its value
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
	if k := o.APIKey; k != "" {
		if o.Provider == SGP {
			c.authKey, c.authValue = "X-Api-Key", k
		} else {
			c.authKey, c.authValue = "Authorization", "Bearer "+k
		}
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
// the response. Connection failures, 408, 409, 429 and 5xx replies (but 501
// and 505), and a reply whose body breaks off before its end, are retried as
// [ClientOptions] describes, within the [RetryBudget] of ctx if it has one;
// other non-2xx replies return an [*APIError]. A 2xx reply that is neither
// JSON nor an event stream (a proxy's login page, a wrong base URL) returns
// a [*ContentTypeError] at once. A response whose status is failed or
// incomplete is returned without error: inspect its Status. A cancelled ctx
// returns promptly with an error wrapping ctx.Err().
func (c *Client) Create(ctx context.Context, req *Request) (*Response, error) {
	body, err := c.encode(req, false)
	if err != nil {
		return nil, err
	}
	resp, data, err := c.post(ctx, body)
	if err != nil {
		return nil, err
	}
	reqID := resp.Header.Get("x-request-id")
	kind := kindOf(resp.Header.Get("Content-Type"))
	if kind == kindUnknown {
		if kind = sniff(data); kind == kindOther {
			return nil, newContentTypeError(c.endpoint, resp, data)
		}
	}
	if kind == kindEventStream {
		// The server streamed although asked not to: read the whole stream.
		s := &Stream{ctx: ctx, resp: resp, dec: sse.NewDecoder(bytes.NewReader(data)), requestID: reqID}
		for s.Next() {
		}
		if err := s.Err(); err != nil {
			return nil, err
		}
		return s.Response(), nil
	}
	var r Response
	if err := decodeResponse(data, &r, false); err != nil {
		return nil, fmt.Errorf("responses: decode response (request %s): %w: %s", reqID, err, snippet(data))
	}
	return &r, nil
}

// post sends a non-streaming request and reads the whole reply. A reply
// whose body breaks off is retried like a failed connection: nothing of it
// has been used.
func (c *Client) post(ctx context.Context, body payload) (*http.Response, []byte, error) {
	b := c.budget(ctx)
	for {
		resp, err := c.send(ctx, body, false, b)
		if err != nil {
			return nil, nil, err
		}
		data, err := readBody(resp)
		resp.Body.Close()
		if err == nil {
			return resp, data, nil
		}
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("responses: read response: %w", ctx.Err())
		}
		err = fmt.Errorf("responses: read response of %s after %d bytes [request %s]: %w",
			c.endpoint, len(data), resp.Header.Get("x-request-id"), err)
		if !c.wait(ctx, b, c.backoff(b.Used()), err) {
			return nil, nil, c.ctxOr(ctx, err)
		}
	}
}

// readBody reads a whole reply, into a buffer of its announced length when
// it has one (io.ReadAll would grow its buffer by doubling).
func readBody(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n <= 0 || n > 64<<20 {
		return io.ReadAll(resp.Body)
	}
	data := make([]byte, n, n+1)
	if got, err := io.ReadFull(resp.Body, data); err != nil {
		return data[:got], err
	}
	// Read the end of the body too, so that its connection goes back to
	// the pool at once (net/http stops at the announced length).
	_, _ = resp.Body.Read(data[n : n+1])
	return data, nil
}

func (c *Client) encode(req *Request, stream bool) (payload, error) {
	if c.cfgErr != nil {
		return payload{}, c.cfgErr
	}
	if req == nil {
		return payload{}, errors.New("responses: nil request")
	}
	r := *req
	r.Stream = stream
	body, err := encodeParts(&r)
	if err != nil {
		return payload{}, fmt.Errorf("responses: encode request: %w", err)
	}
	return body, nil
}

// payload is a request body held in three pieces written one after the
// other: the head of the request up to the input array, the input items'
// own JSON (separated by commas), and the tail. The items' JSON is never
// copied into one buffer, nor listed anew: a stateless request resends the
// whole transcript, and copying it (or building a list of its parts) for
// every request made the client's cost per turn grow with the transcript.
type payload struct {
	head  []byte // read-only
	items []Item // read-only
	tail  []byte // read-only
	n     int64  // the total length
}

func bytesPayload(b []byte) payload { return payload{head: b, n: int64(len(b))} }

// reader returns a fresh reader of the body.
func (p payload) reader() io.ReadCloser { return &payloadReader{p: &p} }

// payloadReader reads a payload: piece 0 is the head, then the items
// with a comma between each two, then the tail.
type payloadReader struct {
	p   *payload
	v   int    // the next piece
	cur []byte // the unread rest of the current piece
}

// next moves to the next piece; it reports false after the tail.
func (r *payloadReader) next() bool {
	p := r.p
	last := 2 * len(p.items) // the tail
	if len(p.items) == 0 {
		last = 1
	}
	switch v := r.v; {
	case v > last:
		return false
	case v == 0:
		r.cur = p.head
	case v == last:
		r.cur = p.tail
	case (v-1)%2 == 1:
		r.cur = comma
	default:
		if r.cur = p.items[(v-1)/2].Raw(); r.cur == nil {
			r.cur = null
		}
	}
	r.v++
	return true
}

func (r *payloadReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if len(r.cur) == 0 && !r.next() {
			if n == 0 {
				return 0, io.EOF
			}
			break
		}
		c := copy(b[n:], r.cur)
		r.cur = r.cur[c:]
		n += c
	}
	return n, nil
}

// WriteTo writes the rest of the body to w piece by piece, with no buffer
// in between.
func (r *payloadReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(r.cur) > 0 || r.next() {
		n, err := w.Write(r.cur)
		total += int64(n)
		r.cur = r.cur[n:]
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (r *payloadReader) Close() error { return nil }

// encodeParts marshals r without copying the input items: the payload's
// head is the request up to its input array, whose items are written from
// their own JSON. The items are spliced in as they are: each Item holds
// JSON that was validated when it was decoded or built, and running it
// through encoding/json again (which compacts and re-validates every
// Marshaler's output) would cost more than the rest of the request. This
// also keeps each item's bytes exactly.
func encodeParts(r *Request) (payload, error) {
	items := r.Input.Items
	// MarshalJSON directly: json.Marshal would compact and check its
	// (already compact) output once more.
	if _, ok := r.Extra["input"]; ok || len(items) == 0 {
		b, err := r.MarshalJSON()
		return bytesPayload(b), err
	}
	rest := *r
	rest.Input = Input{}
	head, err := rest.MarshalJSON()
	if err != nil {
		return payload{}, err
	}
	if len(head) < 2 || head[0] != '{' || head[len(head)-1] != '}' {
		return payload{}, fmt.Errorf("request encodes as %.20q, not an object", head)
	}
	open := head[: len(head)-1 : len(head)-1]
	if len(head) > 2 {
		open = append(open, ',')
	}
	open = append(open, `"input":[`...)
	p := payload{head: open, items: items, tail: closing}
	p.n = int64(len(open)+len(closing)) + int64(len(items)-1)*int64(len(comma))
	for _, it := range items {
		if raw := it.Raw(); raw != nil {
			p.n += int64(len(raw))
		} else {
			p.n += int64(len(null))
		}
	}
	return p, nil
}

var (
	comma   = []byte(",")
	null    = []byte("null")
	closing = []byte("]}")
)

// send posts body and returns the first 2xx reply, retrying what the policy
// allows within b. A 2xx reply whose content type is neither JSON nor an
// event stream is a *ContentTypeError, not retried.
func (c *Client) send(ctx context.Context, body payload, stream bool, b *RetryBudget) (*http.Response, error) {
	for {
		attempt := b.Used() + 1
		resp, err := c.attempt(ctx, body, stream)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("responses: post %s: %w", c.endpoint, ctx.Err())
			}
			err = fmt.Errorf("responses: post %s: %w", c.endpoint, err)
			c.log.LogAttrs(ctx, slog.LevelDebug, "responses: attempt failed", slog.Int("attempt", attempt), slog.Any("error", err))
			if !c.wait(ctx, b, c.backoff(b.Used()), err) {
				return nil, c.ctxOr(ctx, err)
			}
			continue
		}
		reqID := resp.Header.Get("x-request-id")
		c.log.LogAttrs(ctx, slog.LevelDebug, "responses: attempt",
			slog.Int("attempt", attempt), slog.Int("status", resp.StatusCode), slog.String("request_id", reqID))
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			if kindOf(resp.Header.Get("Content-Type")) == kindOther {
				return nil, c.contentTypeError(resp)
			}
			return resp, nil
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		apiErr := parseAPIError(resp.StatusCode, reqID, data)
		delay, asked := retryAfter(resp.Header, time.Now())
		if asked {
			apiErr.RetryAfter = delay
		}
		if !shouldRetry(resp, apiErr) {
			return nil, apiErr
		}
		if !asked {
			delay = c.backoff(b.Used())
		} else if delay > c.opts.MaxRetryAfter {
			return nil, apiErr
		}
		if !c.wait(ctx, b, delay, apiErr) {
			return nil, c.ctxOr(ctx, apiErr)
		}
	}
}

// contentTypeError reads the start of a reply that is neither JSON nor an
// event stream, closes it and describes it.
func (c *Client) contentTypeError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	resp.Body.Close()
	return newContentTypeError(c.endpoint, resp, data)
}

func newContentTypeError(url string, resp *http.Response, body []byte) *ContentTypeError {
	return &ContentTypeError{
		URL:         url,
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Body:        firstLine(body),
		RequestID:   resp.Header.Get("x-request-id"),
	}
}

// bodyKind is what a reply's body is, by its Content-Type or its first
// bytes.
type bodyKind int

const (
	kindUnknown     bodyKind = iota // no telling Content-Type: look at the body
	kindJSON                        // application/json, */*+json, text/json
	kindEventStream                 // text/event-stream
	kindOther                       // anything else: HTML, XML, ...
)

// kindOf classifies a Content-Type by its media type alone: parameters
// (charset, or none) and case do not matter. No Content-Type, text/plain
// and application/octet-stream tell nothing (Go's net/http labels JSON
// written without a Content-Type text/plain): the body decides.
func kindOf(contentType string) bodyKind {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "", mt == "text/plain", mt == "application/octet-stream":
		return kindUnknown
	case mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"):
		return kindJSON
	case mt == "text/event-stream":
		return kindEventStream
	}
	return kindOther
}

// sniff classifies a whole body, or its start, by its first bytes (after
// white space and a byte order mark): a JSON object or array, or an SSE
// field or comment. An empty b is kindUnknown.
func sniff(b []byte) bodyKind {
	k, _ := sniffPrefix(b, true)
	return k
}

// sniffReader peeks at r until its first bytes tell what the body is, and
// returns that without consuming anything. It peeks no further than it
// must, so a stream that pauses after a short first line is not held up.
func sniffReader(r *bufio.Reader) bodyKind {
	for n := 1; n <= r.Size(); n++ {
		b, err := r.Peek(n)
		if k, ok := sniffPrefix(b, err != nil); ok {
			return k
		}
	}
	return kindOther // a buffer of white space
}

// sniffPrefix classifies b as sniff does; when more may follow (!final)
// it reports false while the bytes so far cannot decide.
func sniffPrefix(b []byte, final bool) (bodyKind, bool) {
	const bom = "\uFEFF"
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) < len(bom) && strings.HasPrefix(bom, string(t)) && !final && len(t) > 0 {
		return 0, false
	}
	t = bytes.TrimLeft(bytes.TrimPrefix(t, []byte(bom)), " \t\r\n")
	switch {
	case len(t) == 0:
		return kindUnknown, final
	case t[0] == '{' || t[0] == '[':
		return kindJSON, true
	case t[0] == ':':
		return kindEventStream, true
	}
	for _, field := range []string{"data", "event", "id", "retry"} {
		if rest, ok := bytes.CutPrefix(t, []byte(field)); ok {
			if len(rest) == 0 {
				return kindEventStream, final
			}
			if rest[0] == ':' || rest[0] == '\n' || rest[0] == '\r' {
				return kindEventStream, true
			}
		} else if !final && strings.HasPrefix(field, string(t)) {
			return 0, false
		}
	}
	return kindOther, true
}

// ctxOr returns err, or the context's error when ctx is done.
func (c *Client) ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("responses: post %s: %w", c.endpoint, ctx.Err())
	}
	return err
}

func (c *Client) attempt(ctx context.Context, body payload, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, body.reader())
	if err != nil {
		return nil, err
	}
	req.ContentLength = body.n
	req.GetBody = func() (io.ReadCloser, error) { return body.reader(), nil }
	// The values share one array, made per request (net/http does not
	// change them, but whoever wraps the transport may).
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	vals := append(make([]string, 0, 5), "application/json", accept, "agentloop", c.authValue, c.opts.AccountID)
	h := req.Header
	h["Content-Type"] = vals[0:1:1]
	h["Accept"] = vals[1:2:2]
	h["User-Agent"] = vals[2:3:3]
	if c.authKey != "" {
		h[c.authKey] = vals[3:4:4]
	}
	if c.opts.Provider == SGP && c.opts.AccountID != "" {
		h["X-Selected-Account-Id"] = vals[4:5:5]
	}
	// The span of ctx, as W3C traceparent (and whatever else the
	// application's propagator carries); nothing until one is installed.
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(h))
	for k, vs := range c.opts.Headers {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	return c.http.Do(req)
}
