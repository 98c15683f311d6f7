package main

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/telemetry"
	"github.com/agentloop/agentloop/tools"
)

// slowTool sleeps, fails the call "call_bad", and asks for approval of
// "call_ask".
type slowTool struct{}

func (slowTool) Definition() responses.ToolDefinition {
	return responses.MustToolDefinition(responses.FunctionTool{Type: "function", Name: "work",
		Parameters: json.RawMessage(`{"type":"object","properties":{"ms":{"type":"integer"}},"required":["ms"],"additionalProperties":false}`), Strict: true})
}

func (slowTool) Call(ctx context.Context, call tools.Call) (responses.Item, error) {
	var c struct {
		Arguments string `json:"arguments"`
	}
	var args struct{ MS int }
	if err := call.Item.Decode(&c); err != nil {
		return responses.Item{}, err
	}
	if err := json.Unmarshal([]byte(c.Arguments), &args); err != nil {
		return responses.Item{}, err
	}
	select {
	case <-time.After(time.Duration(args.MS) * time.Millisecond):
	case <-ctx.Done():
		return responses.Item{}, ctx.Err()
	}
	if call.CallID == "call_bad" {
		return responses.Item{}, errors.New("it broke")
	}
	return tools.TextOutput(call, "done", false), nil
}

func (slowTool) Review(_ context.Context, call tools.Call) (tools.Review, error) {
	if call.CallID != "call_ask" {
		return tools.Review{Decision: tools.Allow}, nil
	}
	return tools.Review{Decision: tools.Ask, Request: tools.ApprovalRequest{Kind: "function", Tool: "work", CallID: call.CallID, Summary: "work"}}, nil
}

// tracedRun runs an agent with three parallel calls (one failing), a call
// that waits for its approval, and two turns, and returns its spans.
func tracedRun(t *testing.T) []sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ins := telemetry.New(&telemetry.Options{TracerProvider: tp})
	srv := rt.New(t,
		rt.Reply{Output: []responses.Item{
			rt.FunctionCall("call_a", "work", `{"ms":150}`), rt.FunctionCall("call_bad", "work", `{"ms":120}`), rt.FunctionCall("call_c", "work", `{"ms":150}`),
		}, EventDelay: 5 * time.Millisecond},
		rt.Reply{Output: []responses.Item{rt.FunctionCall("call_ask", "work", `{"ms":40}`)}, Delay: 20 * time.Millisecond},
		rt.Reply{Output: []responses.Item{rt.Text("all done, one failed")}, EventDelay: 5 * time.Millisecond})
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	approve := agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) {
		time.Sleep(50 * time.Millisecond)
		return agent.Approve, nil
	})
	a := agent.New(client, "gpt-test", &agent.Options{Name: "coder", Tools: []tools.Tool{slowTool{}},
		Middleware: []agent.Middleware{ins.Middleware()}, Approver: ins.Approver(approve, nil)})
	_, err := a.Run(t.Context(), "work")
	require.NoError(t, err)
	return rec.Ended()
}

// chromium returns the browser of AGENTLOOP_CHROMIUM, skipping the test
// when it is unset (failing in CI).
func chromium(t *testing.T) string {
	p := os.Getenv("AGENTLOOP_CHROMIUM")
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AGENTLOOP_CHROMIUM is not set: CI must run this test in Chromium (test.sh installs it)")
		}
		t.Skip("AGENTLOOP_CHROMIUM is not set: set it to a Chromium binary to run this test")
	}
	return p
}

// browse opens the page in headless Chromium and returns the tab's
// context; the browser ends with the test.
func browse(t *testing.T, page string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.WindowSize(1280, 720))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+page)))
	return bctx
}

// drawnBar is a bar as the browser laid it out, in pixels of its track.
type drawnBar struct {
	ID, Kind, Lane string
	Left, Width    float64
	Track          float64
	TTFT           float64 // width of the first-chunk part, 0 if none
	Failed         bool
}

const measureBars = `[...document.querySelectorAll('.bar')].map(b => {
  const r = b.getBoundingClientRect(), tr = b.parentElement.getBoundingClientRect();
  const ttft = b.querySelector('.ttft');
  return {ID: b.dataset.spanId, Kind: b.dataset.kind, Lane: b.closest('.lane').querySelector('.name').textContent,
    Left: r.left - tr.left, Width: r.width, Track: tr.width, TTFT: ttft ? ttft.getBoundingClientRect().width : 0,
    Failed: b.classList.contains('failed')};
})`

// The timeline, drawn by Chromium, puts every span where its times say:
// each bar's left edge and width against the run's start and length, the
// parallel calls on lanes of their own, the first chunk of each request,
// the approval wait before its call, the failed call marked.
func TestTimelineInBrowser(t *testing.T) {
	chromium(t)
	spans := tracedRun(t)
	page := filepath.Join(t.TempDir(), "timeline.html")
	require.NoError(t, writeTimelineFile(page, spans))
	bars, err := chromedp.Run(browse(t, page), chromedp.Evaluate[[]drawnBar](measureBars))
	require.NoError(t, err)

	// The run's extent, as the spans give it.
	var run sdktrace.ReadOnlySpan
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID().String()] = s
		if strings.HasPrefix(s.Name(), "invoke_agent") {
			run = s
		}
	}
	require.NotNil(t, run)
	start, end := run.StartTime(), run.EndTime()
	for _, s := range spans {
		if t0, ok := eventTime(s, "agentloop.approval.requested"); ok && t0.Before(start) {
			start = t0
		}
	}
	total := end.Sub(start)
	at := func(tm time.Time, track float64) float64 { return float64(tm.Sub(start)) / float64(total) * track }

	kinds := map[string]int{}
	lanes := map[string]string{}
	const tolerance = 1.5 // pixels
	for _, b := range bars {
		kinds[b.Kind]++
		s := byID[b.ID]
		require.NotNil(t, s, "bar %+v has a span", b)
		from, to := s.StartTime(), s.EndTime()
		if b.Kind == "wait" {
			from, _ = eventTime(s, "agentloop.approval.requested")
			to, _ = eventTime(s, "agentloop.approval.decided")
		}
		assert.InDelta(t, at(from, b.Track), b.Left, tolerance, "left edge of %s %s", b.Kind, s.Name())
		assert.InDelta(t, math.Max(2, at(to, b.Track)-at(from, b.Track)), b.Width, tolerance, "width of %s %s", b.Kind, s.Name())
		id := attrOf(s, "gen_ai.tool.call.id").AsString()
		switch b.Kind {
		case "chat":
			assert.Equal(t, "model", b.Lane)
			ttft := attrOf(s, "gen_ai.response.time_to_first_chunk").AsFloat64()
			require.Positive(t, ttft)
			want := ttft * float64(time.Second) / float64(to.Sub(from)) * b.Width
			assert.InDelta(t, want, b.TTFT, tolerance, "first chunk of %s", s.Name())
		case "tool":
			lanes[id] = b.Lane
			assert.Equal(t, id == "call_bad", b.Failed, "%s marked failed", id)
		}
	}
	assert.Equal(t, map[string]int{"chat": 3, "tool": 4, "wait": 1}, kinds)
	// Calls that ran at the same time are on lanes of their own; a lane
	// never holds two calls at once.
	calls := []string{"call_a", "call_bad", "call_c", "call_ask"}
	span := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if id := attrOf(s, "gen_ai.tool.call.id").AsString(); id != "" {
			span[id] = s
		}
	}
	overlapping := 0
	for i, x := range calls {
		for _, y := range calls[i+1:] {
			a, b := span[x], span[y]
			overlap := callStart(a).Before(b.EndTime()) && callStart(b).Before(a.EndTime())
			if overlap {
				overlapping++
				assert.NotEqual(t, lanes[x], lanes[y], "%s and %s ran together (lanes %v)", x, y, lanes)
			}
		}
	}
	assert.Positive(t, overlapping, "the three calls of the first turn ran in parallel")
}

// TestTimelineScreenshot writes the picture of a real multi-turn run of
// the command for the README when AGENTLOOP_TIMELINE_SCREENSHOT names the
// PNG file to write (docs/timeline.png).
func TestTimelineScreenshot(t *testing.T) {
	out := os.Getenv("AGENTLOOP_TIMELINE_SCREENSHOT")
	if out == "" {
		// Without a file asked for, the picture is drawn into a temporary
		// one and checked, wherever a browser is there (CI has one).
		chromium(t)
		out = filepath.Join(t.TempDir(), "timeline.png")
	}
	h := newHarness(t, map[string]string{"main.go": "package main\n\nfunc main() {}\n", "README.md": "# demo\n"},
		rt.Reply{Output: []responses.Item{rt.Text("Let me look around."), rt.ShellCall("call_ls", "ls -la && sleep 0.1"), rt.ShellCall("call_cat", "cat README.md")}, EventDelay: 15 * time.Millisecond},
		rt.Reply{Output: []responses.Item{rt.ApplyPatchCall("call_patch", "update_file", "README.md", "@@\n # demo\n+\n+Run it with go run .\n")}, Delay: 120 * time.Millisecond, EventDelay: 10 * time.Millisecond},
		rt.Reply{Output: []responses.Item{rt.ShellCall("call_test", "sleep 0.25 && test -f main.go")}, Delay: 80 * time.Millisecond, EventDelay: 10 * time.Millisecond},
		rt.Reply{Output: []responses.Item{rt.ShellCall("call_rm", "rm -rf build"), rt.ShellCall("call_fail", "grep -q TODO main.go")}, Delay: 60 * time.Millisecond},
		rt.Reply{Output: []responses.Item{rt.Text("The README now says how to run the program, and go vet is clean.")}, Delay: 90 * time.Millisecond, EventDelay: 20 * time.Millisecond})
	page := filepath.Join(t.TempDir(), "timeline.html")
	// Unsandboxed, a command not known to be safe needs approval, and
	// without a terminal it is declined: the picture shows a declined call.
	res := h.run("--timeline", page, "-s", "danger-full-access", "document how to run it")
	require.Equal(t, 0, res.code, "stderr:\n%s", res.stderr)
	abs, err := filepath.Abs(out)
	require.NoError(t, err)
	png, err := chromedp.Run(browse(t, page), chromedp.FullScreenshot(100)) // quality 100: a PNG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(abs, png, 0o644))
	require.Greater(t, len(png), 8)
	assert.Equal(t, "\x89PNG\r\n\x1a\n", string(png[:8]), "a PNG picture")
}
