package responses

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RetryBudget is a number of retries that several calls share, so that a
// caller that asks again by itself does not multiply the client's retries.
// An agent loop that re-asks a turn whose stream broke after some output
// takes one budget per turn from [Client.NewRetryBudget], runs the turn's
// calls under [WithRetryBudget], and spends its own re-asks with
// [RetryBudget.Wait]: the turn then sends at most MaxRetries+1 requests
// in all, not (MaxRetries+1) times its own attempts.
//
// Without a budget in the context every Create, Stream and Compact call has
// a budget of its own of [ClientOptions.MaxRetries] retries. The zero
// RetryBudget allows no retry. A RetryBudget is safe for concurrent use.
type RetryBudget struct {
	c    *Client // whose backoff Wait uses
	mu   sync.Mutex
	max  int
	used int
}

// NewRetryBudget returns a budget of the client's MaxRetries retries (2 by
// default, none when MaxRetries is negative), whose [RetryBudget.Wait] waits
// as the client does between its own retries.
func (c *Client) NewRetryBudget() *RetryBudget {
	return &RetryBudget{c: c, max: c.opts.MaxRetries}
}

// budget returns the budget of ctx, or a new one for a single call.
func (c *Client) budget(ctx context.Context) *RetryBudget {
	if b, ok := ctx.Value(budgetKey{}).(*RetryBudget); ok && b != nil {
		return b
	}
	return c.NewRetryBudget()
}

type budgetKey struct{}

// WithRetryBudget returns a copy of ctx under which the calls of any
// [Client] (Create, Stream and its reconnections, Compact) draw their
// retries from b instead of each having MaxRetries of its own. A nil b
// removes nothing: the calls then use their own budgets.
func WithRetryBudget(ctx context.Context, b *RetryBudget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// Used returns the number of retries spent so far.
func (b *RetryBudget) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Left returns the number of retries still allowed.
func (b *RetryBudget) Left() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(b.max-b.used, 0)
}

// take spends one retry if one is left and returns its number (1-based).
func (b *RetryBudget) take() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used >= b.max {
		return 0, false
	}
	b.used++
	return b.used, true
}

// Wait spends one retry on the caller's own new attempt after cause and
// sleeps before it: for the wait cause asks for (an [*APIError]'s
// RetryAfter), else for the client's exponential backoff with jitter. It
// returns false at once, spending nothing, when the budget is spent or
// cause asks for more than [ClientOptions.MaxRetryAfter]; and false when
// ctx ends during the wait. Wait does not judge whether cause is worth a
// retry: that is the caller's decision.
func (b *RetryBudget) Wait(ctx context.Context, cause error) bool {
	if b.Left() == 0 {
		return false
	}
	delay := b.c.backoff(b.Used())
	var apiErr *APIError
	if errors.As(cause, &apiErr) && apiErr.RetryAfter > 0 {
		if apiErr.RetryAfter > b.c.opts.MaxRetryAfter {
			return false
		}
		delay = apiErr.RetryAfter
	}
	return b.c.wait(ctx, b, delay, cause)
}

// wait sleeps for delay before a retry if b allows one and ctx is not done;
// it spends the retry and reports whether to go on.
func (c *Client) wait(ctx context.Context, b *RetryBudget, delay time.Duration, cause error) bool {
	n, ok := b.take()
	if !ok {
		return false
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "responses: retrying",
		slog.Int("retry", n), slog.Duration("delay", delay), slog.Any("error", cause))
	if t := ContextClientTrace(ctx); t != nil && t.Retry != nil {
		t.Retry(RetryInfo{Retry: n, Delay: delay, Err: cause})
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// shouldRetry applies the retry policy to a non-2xx reply: 408, 409, 429 and
// 5xx are retried, except 501 Not Implemented and 505 HTTP Version Not
// Supported, which say the endpoint cannot serve the request at all; other
// statuses are not retried, and an "x-should-retry: true" or
// "false" header overrides the status. A 429 whose code is
// insufficient_quota is never retried: waiting cannot restore a quota.
func shouldRetry(resp *http.Response, e *APIError) bool {
	if e.Code == "insufficient_quota" || e.Type == "insufficient_quota" {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("x-should-retry"))) {
	case "true":
		return true
	case "false":
		return false
	}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusConflict, s == http.StatusTooManyRequests:
		return true
	case s == http.StatusNotImplemented, s == http.StatusHTTPVersionNotSupported:
		return false
	case s >= 500:
		return true
	}
	return false
}

// retryAfter returns the wait a reply asks for: retry-after-ms in (possibly
// fractional) milliseconds, else retry-after in seconds or as an HTTP date.
// Missing, negative and malformed values report false.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) {
			return durationOf(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("retry-after"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s >= 0 && !math.IsInf(s, 0) {
			return durationOf(s * float64(time.Second)), true
		}
		return 0, false
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// durationOf converts nanoseconds, saturating instead of overflowing.
func durationOf(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// backoff returns the delay before retry number n+1: the base delay doubled
// n times, capped, minus up to 25% of jitter.
func (c *Client) backoff(n int) time.Duration {
	d := c.opts.RetryMaxDelay
	if n < 32 {
		d = min(c.opts.RetryBaseDelay<<n, c.opts.RetryMaxDelay)
		if d <= 0 {
			d = c.opts.RetryMaxDelay
		}
	}
	return d - time.Duration(rand.Float64()*0.25*float64(d))
}
