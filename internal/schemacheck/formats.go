package schemacheck

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// format is a string format this package asserts.
type format struct {
	valid func(string) bool
	hint  string // an example for the message, or ""
}

// formats are the formats asserted: those of the structured-output subset,
// and uri.
var formats = map[string]format{
	"date-time": {validDateTime, "RFC 3339, e.g. 2026-01-02T15:04:05Z"},
	"date":      {func(s string) bool { _, err := time.Parse(time.DateOnly, s); return err == nil }, "e.g. 2026-01-02"},
	"time":      {validTime, "e.g. 15:04:05Z"},
	"duration":  {validDuration, "ISO 8601, e.g. P1DT2H"},
	"email":     {validEmail, ""},
	"hostname":  {validHostname, ""},
	"ipv4":      {func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is4() }, ""},
	"ipv6":      {func(s string) bool { a, err := netip.ParseAddr(s); return err == nil && a.Is6() && a.Zone() == "" }, ""},
	"uuid":      {func(s string) bool { return uuidRE().MatchString(s) }, ""},
	"uri":       {validURI, ""},
}

// validDateTime accepts RFC 3339 date-times, as time.Time's JSON decoding
// does (with a lower-case t or z as well).
func validDateTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	return err == nil
}

// validTime accepts an RFC 3339 full-time: 15:04:05, optional fraction, and
// a Z or numeric offset.
func validTime(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, "2000-01-01T"+strings.ToUpper(s))
	return err == nil
}

// The regular expressions are compiled on first use, keeping them out of
// the start-up of every process that links this package.
var (
	uuidRE     = lazyRE(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	durationRE = lazyRE(`^P(?:(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:[.,]\d+)?S)?)?|\d+W)$`)
	labelRE    = lazyRE(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
)

func lazyRE(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// validDuration accepts ISO 8601 durations with at least one component and
// no empty time part (P1D, PT2H30M, P1W; not P or P1DT).
func validDuration(s string) bool {
	return durationRE().MatchString(s) && s != "P" && !strings.HasSuffix(s, "T")
}

// validEmail accepts a bare address (no display name or angle brackets).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// validHostname accepts RFC 1123 host names of at most 253 characters.
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !labelRE().MatchString(l) {
			return false
		}
	}
	return true
}

// validURI accepts an absolute URI (one with a scheme).
func validURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && !strings.ContainsAny(s, " \t\n\\")
}
