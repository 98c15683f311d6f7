package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/cmd/agent/internal/session"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func TestSessionRows(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	list := []session.Summary{
		{ID: "20260301T115950-aaaaaa", Updated: now.Add(-10 * time.Second), Model: "gpt-5-codex", Dir: "/home/u/src/app", Prompt: "fix the test", Tasks: 1},
		{ID: "20260301T090000-bbbbbb", Updated: now.Add(-3 * time.Hour), Model: "m", Dir: "/srv/" + strings.Repeat("d", 50), Tasks: 12, Busy: true},
		{ID: "20260220T090000-cccccc", Updated: now.Add(-9 * 24 * time.Hour), Model: "gpt-5-mini", Dir: "/home/u", Prompt: "hello", Tasks: 2},
	}
	rows := sessionRows(list, "20260220T090000-cccccc", "/home/u", "/home/u/src/app", now)
	require.Len(t, rows, 3)
	assert.Equal(t, "20260301T115950-aaaaaa  just now  gpt-5-codex  . (here)                                  1 task    fix the test", rows[0].text)
	assert.Equal(t, "20260301T090000-bbbbbb  3h ago    m            …"+strings.Repeat("d", 39)+"  12 tasks  (no prompt)", rows[1].text)
	assert.Equal(t, "in use by another agent process", rows[1].why)
	assert.Equal(t, "this session", rows[2].why)
	assert.Contains(t, rows[2].text, "9d ago    gpt-5-mini   ~  ")
	assert.Empty(t, rows[0].why)
}

func TestClipCols(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"one too long", 11, "one too lo…"},
		{"› 1  naïve", 8, "› 1  na…"},
		{"日本語のテキスト", 7, "日本語…"},
		{"a😀b", 3, "a…"},
	} {
		got := clipCols(tc.in, tc.n)
		assert.Equal(t, tc.want, got, tc.in)
		assert.LessOrEqual(t, runeCols(got), tc.n, tc.in)
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  pickKey
		digit byte
		rest  string
	}{
		{"\x1b[A", keyUp, 0, ""},
		{"\x1bOB\r", keyDown, 0, "\r"},
		{"\x1b[1;5A", keyUp, 0, ""},
		{"\x1b[15~k", keyOther, 0, "k"},
		{"\x1b", keyCancel, 0, ""},
		{"\x1bx", keyCancel, 0, "x"},
		{"\x1b[", keyOther, 0, ""},
		{"k", keyUp, 0, ""},
		{"j2", keyDown, 0, "2"},
		{"\x0e", keyDown, 0, ""},
		{"\r", keyEnter, 0, ""},
		{"q", keyCancel, 0, ""},
		{"\x04", keyCancel, 0, ""},
		{"7", keyDigit, '7', ""},
		{"x", keyOther, 0, ""},
	} {
		k, d, rest := parseKey([]byte(tc.in))
		assert.Equal(t, tc.want, k, "%q", tc.in)
		assert.Equal(t, tc.digit, d, "%q", tc.in)
		assert.Equal(t, tc.rest, string(rest), "%q", tc.in)
	}
}

// Every key consumes at least a byte, and what is left is the input's end.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"\x1b[A", "\x1bOB", "\x1b[1;5A\r", "\x1b", "jk12\r", "\x1b[15~"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for len(in) > 0 {
			_, _, rest := parseKey(in)
			if len(rest) >= len(in) || !strings.HasSuffix(string(in), string(rest)) {
				t.Fatalf("parseKey(%q) left %q", in, rest)
			}
			in = rest
		}
	})
}

func FuzzClipCols(f *testing.F) {
	f.Add("› 1  日本語 naïve 😀", 8)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 1000 {
			return
		}
		got := clipCols(s, n)
		if runeCols(got) > n || (got != s && !strings.HasPrefix(s, strings.TrimSuffix(got, "…"))) {
			t.Fatalf("clipCols(%q, %d) = %q", s, n, got)
		}
	})
}

func TestPicker(t *testing.T) {
	row := func(why string) pickRow { return pickRow{why: why} }
	for _, tc := range []struct {
		name string
		rows []pickRow
		keys string // u, d, or a digit
		want int
	}{
		{"starts at the first that can be picked", []pickRow{row("in use"), row(""), row("")}, "", 1},
		{"down and up", []pickRow{row(""), row(""), row("")}, "ddu", 1},
		{"stays at the ends", []pickRow{row(""), row("")}, "dddu uu", 0},
		{"skips what cannot be picked", []pickRow{row(""), row("in use"), row("")}, "d", 2},
		{"not up into a busy first row", []pickRow{row("in use"), row(""), row("")}, "duu", 1},
		{"a number", []pickRow{row(""), row(""), row("")}, "3", 2},
		{"two digits", make([]pickRow, 12), "12", 11},
		{"a number too big starts again", make([]pickRow, 12), "15", 4},
		{"a busy number leaves the highlight", []pickRow{row(""), row("in use")}, "2", 0},
		{"none can be picked", []pickRow{row("in use")}, "d1", -1},
		{"empty", nil, "du", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPicker(tc.rows)
			for _, k := range tc.keys {
				switch k {
				case 'u':
					p.move(-1)
				case 'd':
					p.move(1)
				case ' ':
				default:
					p.digit(byte(k))
				}
			}
			assert.Equal(t, tc.want, p.sel)
			for i, l := range p.lines(colors{}, 80) {
				assert.Equal(t, i == tc.want, strings.HasPrefix(l, "› "), l)
			}
		})
	}
}

// /resume without an id lists the saved sessions, most recent first: the
// one another process has open cannot be picked, Esc cancels, the arrows
// choose, and the next task continues the chosen session.
func TestResumePickerAtTerminal(t *testing.T) {
	h := newHarness(t, nil,
		rt.Output(rt.Text("answer one")),
		rt.Output(rt.Text("answer two")),
		rt.Output(rt.Text("answer held")),
		rt.Output(rt.Text("continued")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	require.Equal(t, 0, h.run("the first task").code)
	require.Equal(t, 0, h.run("the second task\nwith more lines").code)

	// Another chat holds its session.
	held := h.startPTY()
	held.waitPrompt()
	held.send("the held task\n")
	held.waitFor("answer held", 1)
	held.waitPrompt()

	p := h.startPTY()
	p.waitPrompt()
	p.send("/resume\n")
	p.waitFor("Resume a session", 1)
	p.waitFor("the first task", 1)
	out := p.output()
	iHeld, iSecond, iFirst := strings.Index(out, "the held task"), strings.Index(out, "the second task"), strings.Index(out, "the first task")
	assert.True(t, iHeld < iSecond && iSecond < iFirst, "most recent first:\n%s", out)
	assert.Contains(t, out, "the held task  (in use by another agent process)")
	assert.NotContains(t, out, "with more lines", "the first line only")
	assert.Contains(t, out, "› 2  ", "the first that can be picked is highlighted")
	p.send("\x1b") // Esc
	p.waitFor("(not resumed)", 1)
	p.waitPrompt()

	p.send("/resume\n")
	p.waitFor("Resume a session", 2)
	p.send("\x1b[B")
	p.waitFor("› 3  ", 1)
	p.send("\x1b[A")
	p.send("\x1b[A") // the held session cannot be picked: stays on 2
	p.send("\x1b[B")
	p.waitFor("› 3  ", 2)
	p.send("\r")
	p.waitFor("resumed session", 1)
	p.waitPrompt()
	p.send("go on\n")
	p.waitFor("continued", 1)
	p.waitPrompt()
	p.send("\x04")
	assert.Equal(t, 0, p.wait(), p.output())
	held.send("\x04")
	assert.Equal(t, 0, held.wait(), held.output())

	reqs := h.server.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, "the first task", reqs[0].InputText())
	assert.Equal(t, "go on", reqs[3].InputText())
	assert.Equal(t, reqs[0].ResponseID, reqs[3].Params.PreviousResponseID, "the chosen session continues")

	ls, err := session.List(filepath.Join(h.home, "state", "sessions"), 0)
	require.NoError(t, err)
	require.Len(t, ls, 3, "no new session was saved")
	assert.Equal(t, "the first task", ls[0].Prompt)
	assert.Equal(t, 2, ls[0].Tasks)
}

// A number and Enter pick too; with no session saved the picker says so.
func TestResumePickerByNumber(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("one")), rt.Output(rt.Text("two")), rt.Output(rt.Text("again")))
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY()
	p.waitPrompt()
	p.send("/resume\n")
	p.waitFor("no saved sessions yet", 1)
	p.waitPrompt()
	p.send("\x04")
	require.Equal(t, 0, p.wait(), p.output())

	require.Equal(t, 0, h.run("task one").code)
	require.Equal(t, 0, h.run("task two").code)
	p = h.startPTY()
	p.waitPrompt()
	p.send("/resume\n")
	p.waitFor("task one", 1)
	p.send("2\r")
	p.waitFor("resumed session", 1)
	p.waitPrompt()
	p.send("more\n")
	p.waitFor("again", 1)
	p.waitPrompt()
	p.send("\x04")
	require.Equal(t, 0, p.wait(), p.output())
	reqs := h.server.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, reqs[0].ResponseID, reqs[2].Params.PreviousResponseID)
}

// agent resume at a terminal, with no id and no prompt, starts with the
// picker: the chosen session continues; Esc leaves without a chat; --last
// takes the latest without asking.
func TestResumeCommandPicks(t *testing.T) {
	h := newHarness(t, nil, rt.Output(rt.Text("one")), rt.Output(rt.Text("two")), rt.Output(rt.Text("again")), rt.Output(rt.Text("latest")))
	h.extraEnv = []string{"NO_COLOR=1"}
	require.Equal(t, 0, h.run("task one").code)
	require.Equal(t, 0, h.run("task two").code)

	p := h.startPTY("resume")
	p.waitFor("task one", 1)
	p.send("\x1b")
	require.Equal(t, 0, p.wait(), p.output())
	assert.NotContains(t, p.output(), "Type a task", "no chat after Esc")

	p = h.startPTY("resume")
	p.waitFor("task one", 1)
	p.send("2\r") // the older session: task one
	p.waitFor("resumed session", 1)
	p.waitPrompt()
	p.send("more\n")
	p.waitFor("again", 1)
	p.waitPrompt()
	p.send("\x04")
	require.Equal(t, 0, p.wait(), p.output())

	p = h.startPTY("resume", "--last")
	p.waitFor("resumed session", 1)
	p.waitPrompt()
	p.send("and more\n")
	p.waitFor("latest", 1)
	p.waitPrompt()
	p.send("\x04")
	require.Equal(t, 0, p.wait(), p.output())

	reqs := h.server.Requests()
	require.Len(t, reqs, 4)
	assert.Equal(t, reqs[0].ResponseID, reqs[2].Params.PreviousResponseID, "the picked session continues")
	assert.Equal(t, reqs[2].ResponseID, reqs[3].Params.PreviousResponseID, "--last: the one updated last")

	res := h.run("--last", "x")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "--last goes with the resume command")
}
