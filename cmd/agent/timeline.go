package main

// --timeline FILE: a picture of a run for people without a trace backend,
// drawn from the same spans that OTLP exports. One HTML file, readable
// offline: no script, no font or style sheet from elsewhere.

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// timelineRun is one run (an invoke_agent span) as the page draws it.
type timelineRun struct {
	Title    string
	Started  string
	Duration string
	Error    string // error.type of a failed run
	Ticks    []timelineTick
	Lanes    []timelineLane
	Turns    []timelineTurn
	In, Out  int64
	SpanID   string
}

type timelineTick struct {
	Style template.CSS
	Label string
}

type timelineLane struct {
	Label string
	Bars  []timelineBar
}

// timelineBar is one span (or an approval wait) on a lane. Its position is
// in percent of the run's duration; the data-* attributes give the exact
// times, for tests and for people reading the source.
type timelineBar struct {
	Kind      string // chat, tool, wait, declined
	Label     string
	Title     string // the tooltip: every detail
	Style     template.CSS
	TTFTStyle template.CSS // chat: the part before the first chunk
	Failed    bool
	SpanID    string
	StartMS   string // from the run's start
	DurMS     string
}

type timelineTurn struct {
	Turn                       int64
	In, Out, Cached, Reasoning int64
	Duration, TTFT             string
	Status                     string
	Failed                     bool
}

// writeTimeline draws every run among spans.
func writeTimeline(w io.Writer, spans []sdktrace.ReadOnlySpan) error {
	var runs []timelineRun
	for _, s := range spans {
		if attrOf(s, "gen_ai.operation.name").AsString() == "invoke_agent" {
			runs = append(runs, layoutRun(s, spans))
		}
	}
	slices.SortFunc(runs, func(a, b timelineRun) int { return strings.Compare(a.Started, b.Started) })
	return timelinePage.Execute(w, struct{ Runs []timelineRun }{runs})
}

func attrOf(s sdktrace.ReadOnlySpan, key string) attribute.Value {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func eventTime(s sdktrace.ReadOnlySpan, name string) (time.Time, bool) {
	for _, ev := range s.Events() {
		if ev.Name == name {
			return ev.Time, true
		}
	}
	return time.Time{}, false
}

func layoutRun(run sdktrace.ReadOnlySpan, spans []sdktrace.ReadOnlySpan) timelineRun {
	start, end := run.StartTime(), run.EndTime()
	var chats, calls []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Parent().SpanID() != run.SpanContext().SpanID() || s.SpanContext().TraceID() != run.SpanContext().TraceID() {
			continue
		}
		if s.StartTime().Before(start) {
			start = s.StartTime()
		}
		if s.EndTime().After(end) {
			end = s.EndTime()
		}
		switch attrOf(s, "gen_ai.operation.name").AsString() {
		case "chat":
			chats = append(chats, s)
		case "execute_tool":
			calls = append(calls, s)
			if t, ok := eventTime(s, "agentloop.approval.requested"); ok && t.Before(start) {
				start = t
			}
		}
	}
	total := max(end.Sub(start), time.Millisecond)
	pos := func(from, to time.Time) (template.CSS, string, string) {
		left := float64(from.Sub(start)) / float64(total) * 100
		width := float64(to.Sub(from)) / float64(total) * 100
		return template.CSS(fmt.Sprintf("left:%.4f%%;width:%.4f%%", left, width)), ms(from.Sub(start)), ms(to.Sub(from))
	}
	tr := timelineRun{
		Title:    run.Name(),
		Started:  run.StartTime().Format("2006-01-02 15:04:05.000 MST"),
		Duration: seconds(run.EndTime().Sub(run.StartTime())),
		SpanID:   run.SpanContext().SpanID().String(),
		Ticks:    ticks(total),
	}
	if run.Status().Code == codes.Error {
		tr.Error = cmp.Or(attrOf(run, "error.type").AsString(), "error")
	}

	// The model lane: one bar per request, its time to first chunk darker.
	slices.SortFunc(chats, byStart)
	model := timelineLane{Label: "model"}
	for _, c := range chats {
		b := timelineBar{Kind: "chat", SpanID: c.SpanContext().SpanID().String()}
		b.Style, b.StartMS, b.DurMS = pos(c.StartTime(), c.EndTime())
		turn := attrOf(c, "agentloop.turn").AsInt64()
		in, out := attrOf(c, "gen_ai.usage.input_tokens").AsInt64(), attrOf(c, "gen_ai.usage.output_tokens").AsInt64()
		ttft := attrOf(c, "gen_ai.response.time_to_first_chunk").AsFloat64()
		dur := c.EndTime().Sub(c.StartTime())
		if ttft > 0 && dur > 0 {
			b.TTFTStyle = template.CSS(fmt.Sprintf("width:%.4f%%", math.Min(100, ttft*float64(time.Second)/float64(dur)*100)))
		}
		b.Label = fmt.Sprintf("turn %d · %s in / %s out", turn, count(in), count(out))
		details := []string{c.Name(), "turn " + fmt.Sprint(turn), "duration " + seconds(dur)}
		if ttft > 0 {
			details = append(details, "first chunk after "+seconds(time.Duration(ttft*float64(time.Second))))
		}
		details = append(details, fmt.Sprintf("tokens: %d in (%d cached), %d out (%d reasoning)", in,
			attrOf(c, "gen_ai.usage.cache_read.input_tokens").AsInt64(), out, attrOf(c, "gen_ai.usage.reasoning.output_tokens").AsInt64()))
		if id := attrOf(c, "gen_ai.response.id").AsString(); id != "" {
			details = append(details, "response "+id)
		}
		retries := 0
		for _, ev := range c.Events() {
			if ev.Name == "agentloop.retry" {
				retries++
			}
		}
		if retries > 0 {
			details = append(details, fmt.Sprintf("%d retries", retries))
		}
		status := strings.Join(attrOf(c, "gen_ai.response.finish_reasons").AsStringSlice(), ",")
		if c.Status().Code == codes.Error {
			b.Failed = true
			status = "failed: " + cmp.Or(attrOf(c, "error.type").AsString(), "error")
			details = append(details, status)
		}
		b.Title = strings.Join(details, "\n")
		model.Bars = append(model.Bars, b)
		tr.Turns = append(tr.Turns, timelineTurn{Turn: turn, In: in, Out: out,
			Cached:    attrOf(c, "gen_ai.usage.cache_read.input_tokens").AsInt64(),
			Reasoning: attrOf(c, "gen_ai.usage.reasoning.output_tokens").AsInt64(),
			Duration:  seconds(dur), TTFT: seconds(time.Duration(ttft * float64(time.Second))), Status: status, Failed: b.Failed})
		tr.In += in
		tr.Out += out
	}
	tr.Lanes = append(tr.Lanes, model)

	// The call lanes: a call goes on the first lane free when it (or the
	// wait for its approval) starts, so calls that run at once are on
	// lanes of their own.
	slices.SortFunc(calls, func(a, b sdktrace.ReadOnlySpan) int { return callStart(a).Compare(callStart(b)) })
	var lanes []timelineLane
	var free []time.Time
	for _, c := range calls {
		from := callStart(c)
		n := slices.IndexFunc(free, func(t time.Time) bool { return !t.After(from) })
		if n < 0 {
			n = len(lanes)
			lanes = append(lanes, timelineLane{Label: fmt.Sprintf("calls %d", n+1)})
			free = append(free, time.Time{})
		}
		outcome := attrOf(c, "agentloop.tool.outcome").AsString()
		name := attrOf(c, "gen_ai.tool.name").AsString()
		// The label is drawn after the bar: the lane is taken until the
		// label's end too, for a track about labelTrack pixels wide.
		label := name + " · " + outcome
		room := time.Duration(float64(total) * (float64(len(label))*labelCharPx + 16) / labelTrack)
		free[n] = c.EndTime().Add(room)
		details := []string{c.Name(), "call " + attrOf(c, "gen_ai.tool.call.id").AsString(), "outcome " + outcome}
		if v := attrOf(c, "process.exit.code"); v.Type() != attribute.EMPTY {
			details = append(details, fmt.Sprint("exit code ", v.AsInt64()))
		}
		if v := attrOf(c, "agentloop.shell.sandbox").AsString(); v != "" {
			details = append(details, "sandbox "+v)
		}
		if v := attrOf(c, "agentloop.apply_patch.files").AsStringSlice(); len(v) > 0 {
			details = append(details, "files "+strings.Join(v, ", "))
		}
		if v := attrOf(c, "agentloop.mcp.server").AsString(); v != "" {
			details = append(details, "MCP server "+v)
		}
		asked, okAsked := eventTime(c, "agentloop.approval.requested")
		decided, okDecided := eventTime(c, "agentloop.approval.decided")
		declined := outcome == "denied" || outcome == "deferred"
		if okAsked && okDecided && !declined {
			w := timelineBar{Kind: "wait", Label: "approval", SpanID: c.SpanContext().SpanID().String()}
			w.Style, w.StartMS, w.DurMS = pos(asked, decided)
			w.Title = fmt.Sprintf("waited %s for the approval of %s", seconds(decided.Sub(asked)), name)
			lanes[n].Bars = append(lanes[n].Bars, w)
			details = append(details, "approval waited "+seconds(decided.Sub(asked)))
		}
		b := timelineBar{Kind: "tool", Label: name, SpanID: c.SpanContext().SpanID().String()}
		if declined {
			b.Kind = "declined"
			b.Label = name + " · " + outcome
		}
		b.Style, b.StartMS, b.DurMS = pos(c.StartTime(), c.EndTime())
		details = append(details, "duration "+seconds(c.EndTime().Sub(c.StartTime())))
		if c.Status().Code == codes.Error {
			b.Failed = true
			b.Label = name + " · " + outcome
		}
		b.Title = strings.Join(details, "\n")
		lanes[n].Bars = append(lanes[n].Bars, b)
	}
	tr.Lanes = append(tr.Lanes, lanes...)
	return tr
}

// labelCharPx and labelTrack estimate the width of a call's label (11 px
// type) and of the track on a common window, to keep labels apart.
const (
	labelCharPx = 6.5
	labelTrack  = 1100.0
)

// callStart is when a call's bar begins: at the request for its approval,
// if it waited for one.
func callStart(s sdktrace.ReadOnlySpan) time.Time {
	if t, ok := eventTime(s, "agentloop.approval.requested"); ok && t.Before(s.StartTime()) {
		return t
	}
	return s.StartTime()
}

func byStart(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) }

// ticks returns the axis labels: a round step giving 4 to 10 ticks.
func ticks(total time.Duration) []timelineTick {
	step := time.Millisecond
	for _, s := range []time.Duration{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000, 600000} {
		step = s * time.Millisecond
		if total/step <= 10 {
			break
		}
	}
	var out []timelineTick
	for t := time.Duration(0); t <= total; t += step {
		out = append(out, timelineTick{Style: template.CSS(fmt.Sprintf("left:%.4f%%", float64(t)/float64(total)*100)), Label: seconds(t)})
	}
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

func seconds(d time.Duration) string {
	switch {
	case d == 0:
		return "0 s"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func count(n int64) string {
	if n >= 10000 {
		return fmt.Sprintf("%.1fk", float64(n)/1000)
	}
	return fmt.Sprint(n)
}

var timelinePage = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>agent run timeline</title>
<style>
:root { --lane: 30px; --label: 110px; }
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #1d2330; background: #fff; }
h1 { font-size: 18px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 24px 0 2px; }
.meta { color: #5b6475; margin-bottom: 10px; }
.meta .err { color: #b42318; font-weight: 600; }
.chart { position: relative; border: 1px solid #d8dde6; border-radius: 6px; padding: 6px 8px 4px; }
.axis, .lane { display: flex; align-items: center; }
.axis { height: 20px; color: #5b6475; font-size: 11px; }
.lane { height: var(--lane); border-top: 1px solid #eef1f5; }
.name { width: var(--label); flex: none; color: #5b6475; font-size: 12px; }
.track { position: relative; flex: 1; height: 100%; }
.tick { position: absolute; top: 0; transform: translateX(-50%); white-space: nowrap; }
.bar { position: absolute; top: 5px; height: calc(var(--lane) - 10px); min-width: 2px; box-sizing: border-box;
  border-radius: 3px; overflow: hidden; white-space: nowrap; font-size: 11px; line-height: calc(var(--lane) - 10px);
  color: #fff; padding: 0 4px; }
.bar.tool, .bar.declined, .bar.wait { overflow: visible; }
.bar.tool span, .bar.declined span { position: absolute; left: calc(100% + 4px); color: #1d2330; }
.bar.wait span { position: absolute; right: calc(100% + 4px); color: #5a4300; }
.bar.failed span { color: #b42318; font-weight: 600; }
.bar .ttft { position: absolute; left: 0; top: 0; bottom: 0; background: rgba(0,0,0,.28); }
.bar span { position: relative; }
.chat { background: #3867d6; }
.tool { background: #20a36b; }
.wait { background: repeating-linear-gradient(45deg, #f3c969, #f3c969 5px, #f7dc9c 5px, #f7dc9c 10px); color: #5a4300; }
.declined { background: repeating-linear-gradient(45deg, #c7ccd6, #c7ccd6 5px, #dfe3ea 5px, #dfe3ea 10px); color: #3a4150; }
.failed { background: #d92d20; outline: 2px solid #7a1109; }
.failed span::before { content: "\2715  "; }
table { border-collapse: collapse; margin-top: 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eef1f5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.failed td { background: #fde8e6; outline: none; color: #7a1109; }
.legend { margin-top: 8px; color: #5b6475; font-size: 12px; }
.legend i { display: inline-block; width: 22px; height: 10px; border-radius: 2px; margin: 0 4px 0 12px; vertical-align: -1px; }
</style>
</head>
<body>
<h1>agent run timeline</h1>
{{if not .Runs}}<p>No run was traced.</p>{{end}}
{{range .Runs}}
<section class="run" data-span-id="{{.SpanID}}">
<h2>{{.Title}}</h2>
<div class="meta">started {{.Started}} · {{.Duration}} · {{len .Turns}} turns · {{.In}} tokens in, {{.Out}} out{{if .Error}} · <span class="err">failed: {{.Error}}</span>{{end}}</div>
<div class="chart">
<div class="axis"><div class="name"></div><div class="track">{{range .Ticks}}<div class="tick" style="{{.Style}}">{{.Label}}</div>{{end}}</div></div>
{{range .Lanes}}<div class="lane"><div class="name">{{.Label}}</div><div class="track">{{range .Bars}}<div class="bar {{.Kind}}{{if .Failed}} failed{{end}}" style="{{.Style}}" title="{{.Title}}" data-kind="{{.Kind}}" data-span-id="{{.SpanID}}" data-start-ms="{{.StartMS}}" data-duration-ms="{{.DurMS}}">{{if .TTFTStyle}}<div class="ttft" style="{{.TTFTStyle}}"></div>{{end}}<span>{{.Label}}</span></div>{{end}}</div></div>
{{end}}</div>
<div class="legend"><i class="chat"></i>model request <i class="chat" style="background:#27489a"></i>until the first chunk <i class="tool"></i>tool call <i class="wait"></i>approval wait <i class="declined"></i>declined <i class="failed"></i>failed</div>
<table>
<tr><th>turn</th><th>duration</th><th>first chunk</th><th>input tokens</th><th>cached</th><th>output tokens</th><th>reasoning</th><th>status</th></tr>
{{range .Turns}}<tr{{if .Failed}} class="failed"{{end}}><td>{{.Turn}}</td><td>{{.Duration}}</td><td>{{.TTFT}}</td><td>{{.In}}</td><td>{{.Cached}}</td><td>{{.Out}}</td><td>{{.Reasoning}}</td><td>{{.Status}}</td></tr>
{{end}}</table>
</section>
{{end}}
</body>
</html>
`))
