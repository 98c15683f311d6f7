package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logRecords is a slog handler that keeps the records logged through it.
type logRecords struct {
	mu      sync.Mutex
	records []logRecord
	attrs   []slog.Attr
}

type logRecord struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) WithGroup(string) slog.Handler            { return h }
func (h *logRecords) WithAttrs(as []slog.Attr) slog.Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	return &logChild{h, append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}
func (h *logRecords) Handle(_ context.Context, r slog.Record) error { return h.add(nil, r) }

func (h *logRecords) add(base []slog.Attr, r slog.Record) error {
	rec := logRecord{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range base {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { rec.Attrs[a.Key] = a.Value.String(); return true })
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

// find returns the records from server for which keep is true.
func (h *logRecords) find(keep func(logRecord) bool) []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logRecord
	for _, r := range h.records {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

type logChild struct {
	root  *logRecords
	attrs []slog.Attr
}

func (c *logChild) Enabled(context.Context, slog.Level) bool { return true }
func (c *logChild) WithGroup(string) slog.Handler            { return c }
func (c *logChild) WithAttrs(as []slog.Attr) slog.Handler {
	return &logChild{c.root, append(c.attrs[:len(c.attrs):len(c.attrs)], as...)}
}
func (c *logChild) Handle(_ context.Context, r slog.Record) error { return c.root.add(c.attrs, r) }

func TestServerLogLevels(t *testing.T) {
	for _, tc := range []struct {
		fields map[string]any
		level  slog.Level
		msg    string
		attrs  map[string]string
	}{
		{map[string]any{"level": "debug", "data": "d"}, slog.LevelDebug, "d", map[string]string{"mcp_level": "debug"}},
		{map[string]any{"level": "info", "data": "i", "logger": "db"}, slog.LevelInfo, "i", map[string]string{"mcp_level": "info", "mcp_logger": "db"}},
		{map[string]any{"level": "notice", "data": "n"}, slog.LevelInfo, "n", nil},
		{map[string]any{"level": "warning", "data": "w"}, slog.LevelWarn, "w", nil},
		{map[string]any{"level": "error", "data": "e"}, slog.LevelError, "e", nil},
		{map[string]any{"level": "critical", "data": "c"}, slog.LevelError, "c", nil},
		{map[string]any{"level": "alert", "data": "a"}, slog.LevelError, "a", nil},
		{map[string]any{"level": "emergency", "data": "x"}, slog.LevelError, "x", nil},
		{map[string]any{"level": "info", "data": map[string]any{"rows": 3}}, slog.LevelInfo, "mcp server log", map[string]string{"data": `{"rows":3}`}},
		{map[string]any{"level": "bogus"}, slog.LevelInfo, "mcp server log", nil},
	} {
		h := &logRecords{}
		logServerMessage(slog.New(h), tc.fields)
		require.Len(t, h.records, 1)
		r := h.records[0]
		assert.Equal(t, tc.level, r.Level, "%v", tc.fields)
		assert.Equal(t, tc.msg, r.Msg)
		for k, v := range tc.attrs {
			assert.Equal(t, v, r.Attrs[k], k)
		}
	}
}

// simulatedLog matches the messages of the everything server's
// toggle-simulated-logging tool, whose level is random.
var simulatedLog = regexp.MustCompile(`^(Debug|Info|Notice|Warning|Error|Critical|Emergency)-level message|^Alert level-message`)

// waitServerLog waits for a simulated log message from server e and checks
// its level.
func waitServerLog(t *testing.T, h *logRecords) {
	t.Helper()
	var got []logRecord
	require.Eventually(t, func() bool {
		got = h.find(func(r logRecord) bool { return r.Attrs["mcp_server"] == "e" && simulatedLog.MatchString(r.Msg) })
		return len(got) > 0
	}, 15*time.Second, 20*time.Millisecond, "a notifications/message reaches the logger")
	r := got[0]
	assert.Equal(t, slogLevel(r.Attrs["mcp_level"]), r.Level, "%+v", r)
	assert.NotEmpty(t, r.Attrs["mcp_level"])
}

func TestEverythingLogsStdio(t *testing.T) {
	checkLeaks(t)
	srv := requireNPMServers(t)
	h := &logRecords{}
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"e": {Command: srv.node, Args: []string{srv.everything, "stdio"}, Env: everythingEnv(srv.node)}}},
		&Options{Logger: slog.New(h)})
	_, err := callText(t.Context(), t, toolByName(t, set, "e__toggle-simulated-logging"), `{}`)
	require.NoError(t, err)
	waitServerLog(t, h)
	require.NoError(t, set.Close())
}

// proxyRequest is one request seen by the logging proxy.
type proxyRequest struct {
	Method, RPC, ProtocolVersion, Session string
}

// TestStreamableHTTPProtocolHeader puts a logging reverse proxy in front of
// the everything server over streamable HTTP: the GET stream opens only
// after notifications/initialized and carries Mcp-Protocol-Version, as does
// every request after initialize; server log messages sent outside any call
// arrive on that stream and reach the logger.
func TestStreamableHTTPProtocolHeader(t *testing.T) {
	checkLeaks(t)
	srv := requireNPMServers(t)
	target, err := url.Parse(startEverythingHTTP(t, srv, "streamableHttp"))
	require.NoError(t, err)
	var (
		mu   sync.Mutex
		seen []proxyRequest
	)
	rp := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host}) },
		FlushInterval: -1,
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr := proxyRequest{Method: r.Method, ProtocolVersion: r.Header.Get("Mcp-Protocol-Version"), Session: r.Header.Get("Mcp-Session-Id")}
		if r.Body != nil && r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			var m struct {
				Method string `json:"method"`
			}
			_ = json.Unmarshal(b, &m)
			pr.RPC = m.Method
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		mu.Lock()
		seen = append(seen, pr)
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close) // after the set's Close (cleanups run last first)
	requests := func() []proxyRequest { mu.Lock(); defer mu.Unlock(); return append([]proxyRequest(nil), seen...) }

	h := &logRecords{}
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"e": {URL: proxy.URL + target.Path}}}, &Options{Logger: slog.New(h)})
	require.Eventually(t, func() bool {
		for _, r := range requests() {
			if r.Method == http.MethodGet {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the GET stream opens")

	_, err = callText(t.Context(), t, toolByName(t, set, "e__toggle-simulated-logging"), `{}`)
	require.NoError(t, err)
	waitServerLog(t, h)
	require.NoError(t, set.Close())

	got := requests()
	initialized := -1
	for i, r := range got {
		switch {
		case r.RPC == string(mcpgo.MethodInitialize):
			assert.Empty(t, r.Session, "initialize opens the session")
		case r.RPC == string(mcpgo.MethodNotificationInitialized):
			initialized = i
			fallthrough
		default:
			assert.Equal(t, mcpgo.LATEST_LEGACY_PROTOCOL_VERSION, r.ProtocolVersion, "request %d %+v carries the negotiated version", i, r)
			assert.NotEmpty(t, r.Session, "request %d %+v", i, r)
		}
		if r.RPC == string(mcpgo.MethodToolsList) {
			assert.True(t, slices.ContainsFunc(got[:i], func(r proxyRequest) bool { return r.Method == http.MethodGet }),
				"the GET stream is open before the session's first request: %+v", got)
		}
		if r.Method == http.MethodGet {
			assert.Greater(t, i, initialized, "the GET comes after notifications/initialized: %+v", got)
			assert.GreaterOrEqual(t, initialized, 0, "notifications/initialized was sent before the GET: %+v", got)
		}
	}
	assert.Equal(t, http.MethodDelete, got[len(got)-1].Method, "Close ends the session: %+v", got)
}
