package responses

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// shouldRetry applies the retry policy to a non-2xx reply: 408, 409, 429 and
// 5xx are retried, other statuses are not, and an "x-should-retry: true" or
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
