package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// closedPort returns a 127.0.0.1 address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// A collector that is down costs one warning: the run completes and exits
// 0, without waiting for the exporter's retries.
func TestCollectorDownIsOneWarning(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(strings.ReplaceAll(protocol, "/", "_"), func(t *testing.T) {
			h := newHarness(t, nil,
				rt.Output(rt.ShellCall("call_1", "echo hi"), rt.ShellCall("call_2", "echo there")),
				rt.Output(rt.Text("done")))
			h.extraEnv = []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + closedPort(t),
				"OTEL_EXPORTER_OTLP_PROTOCOL=" + protocol,
				"OTEL_METRICS_EXPORTER=otlp",
			}
			start := time.Now()
			res := h.run("say hi")
			took := time.Since(start)
			require.Equal(t, 0, res.code, "stderr:\n%s", res.stderr)
			assert.Equal(t, "done\n", res.stdout)
			assert.Equal(t, 1, strings.Count(res.stderr, "warning: telemetry"), "stderr:\n%s", res.stderr)
			assert.Less(t, took, 2*exportTimeout, "the flush at exit is bounded")
		})
	}
}

// Unknown exporter settings are a warning too, never a failed run.
func TestBadTelemetrySettingsWarn(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("done")))
	h.extraEnv = []string{"OTEL_TRACES_EXPORTER=zipkin"}
	res := h.run("hi")
	require.Equal(t, 0, res.code, "stderr:\n%s", res.stderr)
	assert.Contains(t, res.stderr, `OTEL_TRACES_EXPORTER "zipkin" is not supported`)
}

// --timeline writes a self-contained page with a bar per request and per
// call, the calls that ran together on lanes of their own.
func TestTimelineFile(t *testing.T) {
	h := newHarness(t, map[string]string{"a.txt": "a\n"},
		rt.Output(rt.ShellCall("call_1", "cat a.txt"), rt.ApplyPatchCall("call_2", "create_file", "b.txt", "+b\n")),
		rt.Output(rt.ShellCall("call_3", "exit 3")),
		rt.Output(rt.Text("done")))
	page := filepath.Join(t.TempDir(), "run.html")
	res := h.run("--timeline", page, "work")
	require.Equal(t, 0, res.code, "stderr:\n%s", res.stderr)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	html := string(b)
	assert.Equal(t, 3, strings.Count(html, `data-kind="chat"`), "a bar per request")
	assert.Equal(t, 3, strings.Count(html, `data-kind="tool"`), "a bar per call")
	assert.Contains(t, html, "invoke_agent")
	assert.Contains(t, html, "exit code 3")
	for _, external := range []string{"<script", "src=", "href=", "@import", "url("} {
		assert.NotContains(t, html, external, "the page is self-contained")
	}
}

// jaeger is a Jaeger v2 process on free 127.0.0.1 ports.
type jaeger struct {
	otlpHTTP, otlpGRPC, query string
}

// startJaeger starts the binary of AGENTLOOP_JAEGER with in-memory storage;
// it skips the test when the variable is unset, except in CI.
func startJaeger(t *testing.T) *jaeger {
	bin := os.Getenv("AGENTLOOP_JAEGER")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AGENTLOOP_JAEGER is not set: CI must run this test against Jaeger v2 (test.sh builds it)")
		}
		t.Skip("AGENTLOOP_JAEGER is not set: set it to a Jaeger v2 binary (./test.sh builds one) to run this test")
	}
	config := os.Getenv("AGENTLOOP_JAEGER_CONFIG")
	if config == "" {
		config = filepath.Join("..", "..", ".ci", "components", "jaeger.yaml") // the repository's
	}
	config, err := filepath.Abs(config)
	require.NoError(t, err)
	j := &jaeger{otlpHTTP: freeAddr(t), otlpGRPC: freeAddr(t), query: freeAddr(t)}
	health := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config", "file:"+config)
	cmd.Env = append(os.Environ(),
		"AGENTLOOP_JAEGER_OTLP_HTTP="+j.otlpHTTP, "AGENTLOOP_JAEGER_OTLP_GRPC="+j.otlpGRPC,
		"AGENTLOOP_JAEGER_QUERY_HTTP="+j.query, "AGENTLOOP_JAEGER_QUERY_GRPC="+freeAddr(t),
		"AGENTLOOP_JAEGER_HEALTH="+health)
	logs, err := os.Create(filepath.Join(t.TempDir(), "jaeger.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		logs.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + health + "/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logs.Name())
			t.Fatalf("jaeger not ready after 30 s: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return j
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// jaegerSpan is a span as Jaeger's HTTP query API returns it.
type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64 `json:"startTime"`
	Duration  int64 `json:"duration"`
	Tags      []struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value any    `json:"value"`
	} `json:"tags"`
	Logs []struct {
		Fields []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"fields"`
	} `json:"logs"`
}

func (s jaegerSpan) tag(key string) any {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return nil
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// traces asks Jaeger for the traces of service until one has want spans.
func (j *jaeger) traces(t *testing.T, service string, want int) ([]jaegerSpan, []byte) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + j.query + "/api/traces?service=" + service)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		var out struct {
			Data []struct {
				Spans []jaegerSpan `json:"spans"`
			} `json:"data"`
		}
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &out), "%s", body)
			if len(out.Data) == 1 && len(out.Data[0].Spans) >= want {
				return out.Data[0].Spans, body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger has no trace of %d spans for %s: %d %s", want, service, resp.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The CLI's run, exported over OTLP to a real Jaeger and read back through
// its query API: the run span at the root, one chat span per turn and the
// tool spans with their call ids, all children of the run.
func TestTraceInJaeger(t *testing.T) {
	j := startJaeger(t)
	for _, tc := range []struct{ protocol, endpoint string }{
		{"http/protobuf", "http://" + j.otlpHTTP},
		{"grpc", "http://" + j.otlpGRPC},
	} {
		t.Run(strings.ReplaceAll(tc.protocol, "/", "_"), func(t *testing.T) {
			h := newHarness(t, map[string]string{"a.txt": "a\n"},
				rt.Output(rt.ShellCall("call_sh1", "cat a.txt"), rt.ApplyPatchCall("call_ap", "create_file", "b.txt", "+b\n")),
				rt.Output(rt.ShellCall("call_sh2", "exit 3")),
				rt.Output(rt.Text("done")))
			service := fmt.Sprintf("agent-e2e-%x", rand.Uint64())
			h.extraEnv = []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=" + tc.endpoint,
				"OTEL_EXPORTER_OTLP_PROTOCOL=" + tc.protocol,
				"OTEL_SERVICE_NAME=" + service,
				"OTEL_METRICS_EXPORTER=none", // Jaeger takes traces only
			}
			res := h.run("work")
			require.Equal(t, 0, res.code, "stderr:\n%s", res.stderr)
			assert.NotContains(t, res.stderr, "warning: telemetry")

			spans, body := j.traces(t, service, 7)
			if testing.Verbose() {
				t.Logf("GET /api/traces?service=%s:\n%s", service, body)
			}
			var run jaegerSpan
			var chats, calls []jaegerSpan
			for _, s := range spans {
				switch op := s.OperationName; {
				case strings.HasPrefix(op, "invoke_agent"):
					run = s
				case strings.HasPrefix(op, "chat "):
					chats = append(chats, s)
				case strings.HasPrefix(op, "execute_tool "):
					calls = append(calls, s)
				}
			}
			require.NotEmpty(t, run.SpanID, "the run span")
			assert.Empty(t, run.parent(), "the run is the root")
			assert.Equal(t, "invoke_agent", run.tag("gen_ai.operation.name"))
			assert.EqualValues(t, 3, run.tag("agentloop.run.turns"))
			require.Len(t, chats, 3, "one chat span per turn")
			turns := []float64{}
			for _, c := range chats {
				assert.Equal(t, run.SpanID, c.parent())
				assert.Equal(t, "client", c.tag("span.kind"))
				assert.Equal(t, "chat", c.tag("gen_ai.operation.name"))
				assert.NotEmpty(t, c.tag("gen_ai.response.id"))
				turns = append(turns, c.tag("agentloop.turn").(float64))
			}
			slices.Sort(turns)
			assert.Equal(t, []float64{1, 2, 3}, turns)
			require.Len(t, calls, 3)
			ids := map[string]jaegerSpan{}
			for _, c := range calls {
				assert.Equal(t, run.SpanID, c.parent())
				ids[fmt.Sprint(c.tag("gen_ai.tool.call.id"))] = c
			}
			require.Contains(t, ids, "call_sh1")
			require.Contains(t, ids, "call_ap")
			require.Contains(t, ids, "call_sh2")
			assert.Equal(t, "execute_tool shell", ids["call_sh1"].OperationName)
			assert.EqualValues(t, 3, ids["call_sh2"].tag("process.exit.code"))
			assert.Equal(t, "execute_tool apply_patch", ids["call_ap"].OperationName)
			// The server saw each chat span as the requests' traceparent.
			for n, req := range h.server.Requests() {
				tp := req.Header.Get("traceparent")
				require.NotEmpty(t, tp, "request %d", n+1)
				assert.Contains(t, tp, run.TraceID, "request %d joins the trace", n+1)
			}
		})
	}
}

// Ctrl-C in the middle of a request: the command exits 130 and the spans
// of the cancelled run still reach the trace store.
func TestTraceFlushedOnInterrupt(t *testing.T) {
	j := startJaeger(t)
	h := newHarness(t, nil, rt.Reply{Output: []responses.Item{rt.Text("never")}, Delay: time.Hour})
	service := fmt.Sprintf("agent-e2e-%x", rand.Uint64())
	h.extraEnv = []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + j.otlpHTTP, "OTEL_SERVICE_NAME=" + service, "OTEL_METRICS_EXPORTER=none"}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := h.command(ctx, "wait forever")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	for len(h.server.Requests()) == 0 {
		require.NoError(t, ctx.Err(), "no request arrived")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr:\n%s", stderr.String())
	assert.Equal(t, exitInterrupted, ee.ExitCode())

	spans, _ := j.traces(t, service, 2)
	ops := map[string]jaegerSpan{}
	for _, s := range spans {
		ops[strings.Fields(s.OperationName)[0]] = s
	}
	require.Contains(t, ops, "invoke_agent")
	require.Contains(t, ops, "chat")
	assert.Equal(t, "canceled", ops["chat"].tag("error.type"))
	assert.Equal(t, "canceled", ops["invoke_agent"].tag("error.type"))
}

func TestTelemetryResourceAndDisable(t *testing.T) {
	vars := map[string]string{
		"OTEL_SERVICE_NAME":        "coder",
		"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=dev, team=agents%20core,broken,service.name=ignored",
	}
	tr := &tracing{getenv: func(k string) string { return vars[k] }}
	got := map[string]string{}
	for _, kv := range tr.resource().Attributes() {
		got[string(kv.Key)] = kv.Value.AsString()
	}
	assert.Equal(t, "coder", got["service.name"])
	assert.Equal(t, "dev", got["deployment.environment"])
	assert.Equal(t, "agents core", got["team"])
	assert.NotContains(t, got, "broken")

	var stderr strings.Builder
	e := &env{stderr: &stderr, getenv: func(k string) string {
		return map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}[k]
	}}
	assert.Nil(t, startTracing(e, ""), "OTEL_SDK_DISABLED=true turns export off")
	assert.Empty(t, stderr.String())
}
