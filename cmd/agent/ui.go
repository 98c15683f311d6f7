package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools/shell"
)

type colors struct{ on bool }

func (c colors) wrap(code, s string) string {
	if !c.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (c colors) bold(s string) string   { return c.wrap("1", s) }
func (c colors) dim(s string) string    { return c.wrap("2", s) }
func (c colors) red(s string) string    { return c.wrap("31", s) }
func (c colors) green(s string) string  { return c.wrap("32", s) }
func (c colors) yellow(s string) string { return c.wrap("33", s) }
func (c colors) cyan(s string) string   { return c.wrap("36", s) }

// colorDiff colours a unified diff, indented by two spaces.
func colorDiff(c colors, diff string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(diff, "\n") {
		if l == "" {
			continue
		}
		text := strings.TrimRight(l, "\n")
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			text = c.bold(text)
		case strings.HasPrefix(l, "+"):
			text = c.green(text)
		case strings.HasPrefix(l, "-"):
			text = c.red(text)
		case strings.HasPrefix(l, "@@"):
			text = c.cyan(text)
		}
		b.WriteString("  " + text + "\n")
	}
	return b.String()
}

// ui writes what the user sees: the model's text on stdout, tool activity,
// prompts and the summary on stderr, and, with --json, events on stdout.
// It is safe for concurrent use (the approver and the spinner write too).
type ui struct {
	mu       sync.Mutex
	out, err io.Writer
	colors   colors
	outTTY   bool // stdout is the terminal stderr is on
	json     bool

	midLine bool // the model's text on stdout did not end with a newline
	// md renders the model's text as terminal markdown; nil writes it as
	// it comes (no terminal, or no colours).
	md *markdown

	holding bool     // a question is on screen: hold other output back
	held    []func() // the writes held back, in order

	// why holds the reason shown for calls the approver declined without
	// asking anyone, by call id.
	why map[string]string
	// started holds the calls that started and have not finished.
	started map[string]bool

	spin      bool // stderr is a terminal: show a spinner
	spinLabel string
	spinStart time.Time
	spinShown bool
	spinStop  chan struct{}
	spinDone  chan struct{}
}

var spinFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// startSpinner runs the spinner goroutine until stopSpinner.
func (u *ui) startSpinner() {
	if !u.spin {
		return
	}
	u.spinStop, u.spinDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(u.spinDone)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-u.spinStop:
				return
			case <-t.C:
			}
			u.mu.Lock()
			if u.spinLabel != "" && !u.holding {
				el := time.Since(u.spinStart).Truncate(100 * time.Millisecond)
				fmt.Fprintf(u.err, "\r\x1b[K%s %s %s", u.colors.cyan(spinFrames[i%len(spinFrames)]), u.spinLabel, u.colors.dim(fmt.Sprintf("%.1fs", el.Seconds())))
				u.spinShown = true
			}
			u.mu.Unlock()
		}
	}()
}

func (u *ui) stopSpinner() {
	if u.spinStop == nil {
		return
	}
	close(u.spinStop)
	<-u.spinDone
	u.spinStop = nil
	u.mu.Lock()
	u.clearSpinLocked()
	u.spinLabel = ""
	u.mu.Unlock()
}

// working sets what the spinner says ("" hides it).
func (u *ui) working(label string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if label != u.spinLabel {
		u.spinStart = time.Now()
	}
	u.spinLabel = label
	if label == "" {
		u.clearSpinLocked()
	}
}

func (u *ui) clearSpinLocked() {
	if u.spinShown {
		io.WriteString(u.err, "\r\x1b[K")
		u.spinShown = false
	}
}

// line writes one line of activity on stderr.
func (u *ui) line(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.holding {
		u.held = append(u.held, func() { u.lineLocked(s) })
		return
	}
	u.lineLocked(s)
}

// hold holds back the model's text and tool activity while the user answers
// a question, so that they do not run into the question; release writes
// them.
func (u *ui) hold() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.holding = true
	u.clearSpinLocked()
}

func (u *ui) release() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.holding = false
	for _, f := range u.held {
		f()
	}
	u.held = nil
}

func (u *ui) lineLocked(s string) {
	u.clearSpinLocked()
	if u.midLine && u.outTTY {
		io.WriteString(u.out, "\n")
		u.midLine = false
	}
	io.WriteString(u.err, s+"\n")
}

// declined records why the approver declined a call without asking, for
// its activity line.
func (u *ui) declined(callID, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.why == nil {
		u.why = map[string]string{}
	}
	u.why[callID] = why
}

func (u *ui) declineReason(callID string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	why, ok := u.why[callID]
	delete(u.why, callID)
	return why, ok
}

// notice writes a warning line on stderr.
func (u *ui) notice(s string) { u.line(u.colors.yellow("! ") + s) }

// prompt writes a question on stderr and hides the spinner while the user
// answers.
func (u *ui) prompt(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.clearSpinLocked()
	if u.midLine && u.outTTY {
		io.WriteString(u.out, "\n")
		u.midLine = false
	}
	u.spinLabel = ""
	io.WriteString(u.err, s)
}

// text writes a delta of the model's text on stdout.
func (u *ui) text(s string) {
	if s == "" {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.holding {
		u.held = append(u.held, func() { u.textLocked(s) })
		return
	}
	u.textLocked(s)
}

func (u *ui) textLocked(s string) {
	u.clearSpinLocked()
	u.spinLabel = ""
	if u.md != nil {
		io.WriteString(u.out, u.md.write(s)) // whole lines only
		return
	}
	io.WriteString(u.out, s)
	u.midLine = !strings.HasSuffix(s, "\n")
}

// endText ends the model's text with a newline if it lacks one.
func (u *ui) endText() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.holding {
		u.held = append(u.held, u.endTextLocked)
		return
	}
	u.endTextLocked()
}

func (u *ui) endTextLocked() {
	if u.md != nil {
		if l := u.md.flush(); l != "" {
			io.WriteString(u.out, l+"\n")
		}
		return
	}
	if u.midLine {
		io.WriteString(u.out, "\n")
		u.midLine = false
	}
}

// jsonLine is one line of --json output: an agent.Event with the schema
// version, the run's error on run_completed, and the CLI's own session
// events.
type jsonLine struct {
	V int `json:"v"`
	agent.Event
	Error   string       `json:"error,omitempty"`
	Session *sessionInfo `json:"session,omitempty"`
}

type sessionInfo struct {
	ID        string `json:"id"`
	Model     string `json:"model"`
	Dir       string `json:"dir"`
	Resumed   bool   `json:"resumed,omitempty"`
	Stateless bool   `json:"stateless,omitempty"`
	ExitCode  *int   `json:"exit_code,omitempty"`
}

// Kinds of the CLI's own --json lines.
const (
	kindSessionStarted agent.EventKind = "session_started"
	kindSessionEnded   agent.EventKind = "session_ended"
)

func (u *ui) jsonEvent(l jsonLine) {
	l.V = agent.EventSchemaVersion
	if l.Time.IsZero() {
		l.Time = time.Now()
	}
	b, err := json.Marshal(l)
	if err != nil {
		b, _ = json.Marshal(jsonLine{V: agent.EventSchemaVersion, Event: agent.Event{Kind: l.Kind, Time: l.Time}, Error: "cannot encode event: " + err.Error()})
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.out.Write(append(b, '\n'))
}

// event shows one event of a run.
func (u *ui) event(ev agent.Event, err error) {
	if u.json {
		l := jsonLine{Event: ev}
		if err != nil {
			l.Error = err.Error()
		}
		u.jsonEvent(l)
	}
	c := u.colors
	switch ev.Kind {
	case agent.EventTurnStarted:
		u.working("thinking")
	case agent.EventTextDelta:
		if !u.json && len(ev.Path) == 0 { // a sub-agent's text is its tool's output
			u.text(ev.Delta)
		}
	case agent.EventStreamRestarted:
		if !u.json {
			// The text shown so far came from an abandoned attempt.
			u.endText()
			u.notice("the connection broke; the model's answer starts again")
		}
	case agent.EventItemDone:
		if ev.Item != nil && ev.Item.Type == responses.TypeReasoning && !u.json {
			if sum := reasoningSummary(*ev.Item); sum != "" {
				u.line(c.dim("· " + strings.ReplaceAll(sum, "\n", "\n  ")))
			}
		}
	case agent.EventToolStarted:
		if t := ev.Tool; t != nil {
			u.markStarted(t.CallID)
			u.line(c.dim("▸ "+pathPrefix(ev.Path)) + toolHeadline(t))
			u.working("running " + t.Name)
		}
	case agent.EventToolFinished:
		if t := ev.Tool; t != nil {
			ran := u.takeStarted(t.CallID)
			if !ran {
				// Refused before it started: say what it was.
				u.line(c.dim("▸ "+pathPrefix(ev.Path)) + toolHeadline(t))
			}
			u.line("  " + u.toolResult(t, ran))
			if t.Type == responses.TypeApplyPatchCall && t.Outcome == agent.OutcomeOK && c.on {
				if d := patchDiff(c, t.Call, 40); d != "" {
					u.line(d)
				}
			}
			u.working("thinking")
		}
	case agent.EventApprovalDecided:
		if a := ev.Approval; a != nil && a.Remembered {
			u.line(c.dim("  approved (always): " + describe(a.Request)))
		}
	case agent.EventTurnCompleted:
		if !u.json {
			u.endText()
		}
	case agent.EventRunCompleted:
		u.working("")
		if !u.json {
			u.endText()
		}
	}
}

// pathPrefix names the sub-agents an event came through: "reviewer › ".
func pathPrefix(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return strings.Join(path, " › ") + " › "
}

// reasoningSummary returns the summary text of a reasoning item.
func reasoningSummary(it responses.Item) string {
	var r struct {
		Summary []struct {
			Text string `json:"text"`
		} `json:"summary"`
	}
	if it.Decode(&r) != nil {
		return ""
	}
	var parts []string
	for _, p := range r.Summary {
		if t := strings.TrimSpace(p.Text); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// toolHeadline says what a call does: the command, the patched file, the
// MCP tool.
func toolHeadline(t *agent.ToolEvent) string {
	switch t.Type {
	case responses.TypeShellCall:
		var sc responses.ShellCall
		if t.Call.Decode(&sc) == nil {
			return "$ " + oneLine(strings.Join(sc.Action.Commands, " && "), 200)
		}
	case responses.TypeLocalShellCall:
		var lc responses.LocalShellCall
		if t.Call.Decode(&lc) == nil {
			return "$ " + oneLine(strings.Join(lc.Action.Command, " "), 200)
		}
	case responses.TypeApplyPatchCall:
		var pc responses.ApplyPatchCall
		if t.Call.Decode(&pc) == nil {
			verb := map[string]string{"create_file": "create", "update_file": "update", "delete_file": "delete"}[pc.Operation.Type]
			if verb == "" {
				verb = pc.Operation.Type
			}
			return "apply_patch: " + verb + " " + pc.Operation.Path
		}
	case responses.TypeFunctionCall:
		var fc responses.FunctionCall
		if t.Call.Decode(&fc) == nil {
			name := t.Name
			if server, tool, ok := strings.Cut(name, "__"); ok {
				name = "mcp " + server + "/" + tool
			}
			return name + " " + oneLine(fc.Arguments, 120)
		}
	}
	return t.Name
}

// markStarted records that a call started; takeStarted reports whether
// it did, and forgets it. A call refused before it ran (declined, refused
// by a policy, an unknown tool) finishes without starting.
func (u *ui) markStarted(callID string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.started == nil {
		u.started = map[string]bool{}
	}
	u.started[callID] = true
}

func (u *ui) takeStarted(callID string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	ran := u.started[callID]
	delete(u.started, callID)
	return ran
}

// outcomeLabel names a failed outcome that is not a plain failure, for the
// head of its result line.
func outcomeLabel(o agent.Outcome) string {
	switch o {
	case agent.OutcomeSandboxDenied:
		return "blocked by sandbox"
	case agent.OutcomeTimeout:
		return "timed out"
	}
	return ""
}

// toolResult says how a call ended; ran says whether it started.
func (u *ui) toolResult(t *agent.ToolEvent, ran bool) string {
	s := u.toolOutcome(t, ran)
	if errors.Is(t.Err, shell.ErrSandboxUnavailable) {
		s += "\n    " + u.colors.yellow("the kernel sandbox is not available here; --sandbox danger-full-access runs commands unsandboxed (pair it with --ask-for-approval untrusted)")
	}
	return s
}

func (u *ui) toolOutcome(t *agent.ToolEvent, ran bool) string {
	c := u.colors
	dur := ""
	if t.Duration > 0 {
		dur = " · " + fmtDuration(t.Duration)
	}
	switch t.Outcome {
	case agent.OutcomeDenied:
		if why, ok := u.declineReason(t.CallID); ok {
			return c.red("✗ declined") + c.dim(": "+why)
		}
		return c.red("✗ declined") + c.dim(": "+oneLine(t.Error, 300))
	case agent.OutcomeCanceled:
		return c.yellow("✗ canceled") + c.dim(dur)
	case agent.OutcomeUnknown:
		return c.red("✗ unknown tool") + c.dim(": "+oneLine(t.Error, 200))
	case agent.OutcomeSandboxDenied:
		if !ran {
			// The sandbox blocks commands as they run; what never started
			// was refused by the command policy.
			return c.red("✗ blocked by the command policy") + c.dim(": "+oneLine(t.Error, 300))
		}
	}
	var out responses.Item
	if t.Output != nil {
		out = *t.Output
	}
	mark := c.green("✓")
	if t.Outcome != agent.OutcomeOK {
		mark = c.red("✗")
	}
	head := mark
	if l := outcomeLabel(t.Outcome); l != "" {
		head += " " + c.red(l)
	}
	switch t.Type {
	case responses.TypeShellCall:
		var so responses.ShellCallOutput
		if out.Decode(&so) == nil && len(so.Output) > 0 {
			var parts []string
			for _, o := range so.Output {
				switch {
				case o.Outcome.Type == "timeout":
					if t.Outcome != agent.OutcomeTimeout { // the head says so
						parts = append(parts, "timed out")
					}
				case o.Outcome.ExitCode != nil:
					parts = append(parts, fmt.Sprintf("exit %d", *o.Outcome.ExitCode))
				}
			}
			size := 0
			for _, o := range so.Output {
				size += len(o.Stdout) + len(o.Stderr)
			}
			s := head
			if len(parts) > 0 {
				sep := " "
				if head != mark {
					sep = " · "
				}
				s += sep + strings.Join(parts, ", ")
			}
			s += c.dim(dur + " · " + fmtBytes(size))
			if t.Outcome != agent.OutcomeOK {
				for _, l := range failureLines(t, so.Output) {
					s += "\n    " + c.dim(l)
				}
			}
			return s
		}
	case responses.TypeApplyPatchCall:
		var po responses.ApplyPatchCallOutput
		if out.Decode(&po) == nil {
			if t.Outcome != agent.OutcomeOK {
				what := outcomeLabel(t.Outcome)
				if what == "" {
					what = "patch failed"
				}
				return mark + " " + c.red(what) + c.dim(": "+oneLine(po.Output, 300))
			}
			return mark + " " + patchSummary(c, po.Output) + c.dim(dur)
		}
	}
	if t.Error != "" && t.Outcome != agent.OutcomeOK {
		sep := " "
		if head != mark {
			sep = ": "
		}
		return head + c.dim(sep+oneLine(t.Error, 300)+dur)
	}
	return head + c.dim(fmt.Sprintf(" %s result%s", fmtBytes(outputSize(out)), dur))
}

// failureLines picks the lines that best say why a shell call failed,
// from the failing command: the one the tool's *shell.ExitError names, else
// the last. For a plain failure that is the last line of its stderr (else
// its stdout). For a command the sandbox blocked it is the first line of
// its stderr, usually the command's own complaint, and the last, where the
// shell tool appends its note on what the sandbox allows or which deny-read
// rule refused the read (shell.Result.SandboxDenied).
func failureLines(t *agent.ToolEvent, outs []responses.ShellCommandOutput) []string {
	o := outs[len(outs)-1]
	var ee *shell.ExitError
	denied := false
	if errors.As(t.Err, &ee) && ee.Command >= 1 && ee.Command <= len(outs) {
		o, denied = outs[ee.Command-1], ee.SandboxDenied
	}
	lines := nonEmptyLines(o.Stderr)
	if len(lines) == 0 {
		lines = nonEmptyLines(o.Stdout)
	}
	switch {
	case len(lines) == 0:
		return nil
	case denied && len(lines) > 1:
		return []string{oneLine(lines[0], 200), oneLine(lines[len(lines)-1], 160)}
	}
	return []string{oneLine(lines[len(lines)-1], 200)}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// outputSize is the size of the text (or other content) an output item
// carries.
func outputSize(it responses.Item) int {
	var o struct {
		Output json.RawMessage `json:"output"`
	}
	if it.Decode(&o) != nil {
		return 0
	}
	var s string
	if json.Unmarshal(o.Output, &s) == nil {
		return len(s)
	}
	var parts []struct {
		Text     string `json:"text"`
		ImageURL string `json:"image_url"`
	}
	if json.Unmarshal(o.Output, &parts) == nil {
		n := 0
		for _, p := range parts {
			n += len(p.Text) + len(p.ImageURL)
		}
		return n
	}
	return len(o.Output)
}

// patchLine matches a file line of the apply_patch tool's summary:
// "M path (+3 -1)".
var patchLine = regexp.MustCompile(`^([AMD]) (.+) \(\+(\d+) -(\d+)\)$`)

// patchSummary renders the apply_patch output as "patched a.txt +3 −1".
func patchSummary(c colors, s string) string {
	var parts []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		m := patchLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		verb := map[string]string{"A": "added", "D": "deleted"}[m[1]]
		if verb == "" {
			verb = "patched"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %s", verb, m[2], c.green("+"+m[3]), c.red("−"+m[4])))
	}
	if len(parts) == 0 {
		return oneLine(s, 200)
	}
	return strings.Join(parts, ", ")
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Truncate(time.Second).String()
}

func fmtBytes(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// runCost is what a run cost: each model's usage at its own price (a
// sub-agent on a smaller model is cheaper), or all of it at model's when
// the run does not split it. ok is false when a price is unknown.
func runCost(res *agent.Result, model string) (float64, bool) {
	if len(res.UsageByModel) == 0 {
		return cost(model, res.Usage)
	}
	var usd float64
	for m, u := range res.UsageByModel {
		if m == "" {
			m = model
		}
		c, ok := cost(m, u)
		if !ok {
			return 0, false
		}
		usd += c
	}
	return usd, true
}

// summary is the one line that ends a task.
// The cost is shown when model's price is known.
func (u *ui) summary(res *agent.Result, tools int, elapsed time.Duration, model string) {
	if res == nil {
		res = &agent.Result{}
	}
	us := res.Usage
	s := fmt.Sprintf("%d turns · tokens %d in (%d cached), %d out (%d reasoning) · %d tools · %s",
		res.Turns, us.InputTokens, us.InputTokensDetails.CachedTokens, us.OutputTokens,
		us.OutputTokensDetails.ReasoningTokens, tools, fmtDuration(elapsed))
	if usd, ok := runCost(res, model); ok {
		s += " · ~" + fmtCost(usd)
	}
	u.line(u.colors.dim("─ " + s))
}
