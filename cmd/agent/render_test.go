package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

const answerMD = "# Done\n\nI changed:\n- `a.txt`: **one** line\n  * nested, see [docs](https://example.com/x)\n1. first\n> quoted\n\n```go\nx := `raw` **not bold**\n```\n---\ntail"

func TestMarkdownRender(t *testing.T) {
	m := &markdown{c: colors{on: true}}
	got := m.write(answerMD) + m.flush()
	want := strings.Join([]string{
		"\x1b[1mDone\x1b[0m",
		"",
		"I changed:",
		"\x1b[2m•\x1b[0m \x1b[36ma.txt\x1b[0m: \x1b[1mone\x1b[0m line",
		"  \x1b[2m•\x1b[0m nested, see docs\x1b[2m (https://example.com/x)\x1b[0m",
		"\x1b[2m1.\x1b[0m first",
		"\x1b[2m│ quoted\x1b[0m",
		"",
		"\x1b[2m```go\x1b[0m",
		"\x1b[36mx := `raw` **not bold**\x1b[0m",
		"\x1b[2m```\x1b[0m",
		"\x1b[2m" + strings.Repeat("─", 40) + "\x1b[0m",
		"tail",
	}, "\n")
	assert.Equal(t, want, got)

	// Streamed in small pieces, the same.
	m = &markdown{c: colors{on: true}}
	var b strings.Builder
	for i := 0; i < len(answerMD); i += 3 {
		b.WriteString(m.write(answerMD[i:min(i+3, len(answerMD))]))
	}
	b.WriteString(m.flush())
	assert.Equal(t, want, b.String())
}

func TestCost(t *testing.T) {
	u := responses.Usage{InputTokens: 1_000_000, OutputTokens: 100_000}
	u.InputTokensDetails.CachedTokens = 400_000
	c, ok := cost("gpt-5-mini", u)
	require.True(t, ok)
	assert.InDelta(t, 0.6*0.25+0.4*0.025+0.1*2, c, 1e-9)
	c2, ok := cost("gpt-5-mini-2025-08-07", u)
	assert.True(t, ok)
	assert.Equal(t, c, c2)
	_, ok = cost("my-local-model", u)
	assert.False(t, ok)
	c3, ok := cost("openai/gpt-5-mini", u)
	assert.True(t, ok, "a Scale GenAI Platform model name")
	assert.Equal(t, c, c3)

	// A run split by model is priced model by model; one unknown price
	// hides the cost.
	small := responses.Usage{InputTokens: 1_000_000}
	res := &agent.Result{Usage: u, UsageByModel: map[string]responses.Usage{"gpt-5": u, "gpt-5-nano": small}}
	total, ok := runCost(res, "gpt-5")
	require.True(t, ok)
	big, _ := cost("gpt-5", u)
	assert.InDelta(t, big+0.05, total, 1e-9)
	res.UsageByModel["local"] = small
	_, ok = runCost(res, "gpt-5")
	assert.False(t, ok)
	assert.Equal(t, "$0.0012", fmtCost(0.00123))
	assert.Equal(t, "$1.50", fmtCost(1.5))
}

// On a colour terminal the answer is rendered markdown and a patch's diff
// is shown coloured; with NO_COLOR, or into a pipe, the text is as sent.
func TestRenderingOnTerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		on   bool
	}{
		{"colours", []string{"TERM=xterm-256color"}, true},
		{"NO_COLOR", []string{"TERM=xterm-256color", "NO_COLOR=1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil,
				rt.Output(rt.ApplyPatchCall("p1", "create_file", "a.txt", "+hello\n+world\n")),
				rt.Output(rt.Text("# Done\n- made `a.txt`\n")),
			)
			h.extraEnv = tc.env
			p := h.startPTY("-m", "gpt-5-mini", "make a.txt")
			require.Equal(t, 0, p.wait(), p.output())
			out := p.output()
			assert.Equal(t, tc.on, strings.Contains(out, "\x1b[1mDone\x1b[0m"), out)
			assert.Equal(t, tc.on, strings.Contains(out, "\x1b[36ma.txt\x1b[0m"), out)
			assert.Equal(t, tc.on, strings.Contains(out, "\x1b[32m+hello\x1b[0m"), "the diff after the patch:\n%s", out)
			if !tc.on {
				assert.Contains(t, out, "# Done\r\n- made `a.txt`")
			}
			assert.Regexp(t, `tools · \d+ms · ~\$0\.\d{4}`, out, "the cost of a known model")
		})
	}
	h := newHarness(t, nil, rt.Output(rt.Text("# Done\n- made `a.txt`\n")))
	res := h.run("-m", "unpriced-model", "x")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "# Done\n- made `a.txt`\n", res.stdout, "plain into a pipe")
	assert.NotContains(t, res.stderr, "~$", "no cost for an unknown model")
}

func FuzzMarkdown(f *testing.F) {
	f.Add(answerMD, 3)
	f.Add("**a `b**` c", 1)
	f.Fuzz(func(t *testing.T, s string, step int) {
		step = max(1, step%17)
		whole := &markdown{c: colors{on: true}}
		want := whole.write(s) + whole.flush()
		m := &markdown{c: colors{on: true}}
		var b strings.Builder
		for i := 0; i < len(s); i += step {
			b.WriteString(m.write(s[i:min(i+step, len(s))]))
		}
		b.WriteString(m.flush())
		if b.String() != want {
			t.Fatalf("streamed %q differs:\n%q\n%q", s, b.String(), want)
		}
		if strings.Count(want, "\n") != strings.Count(s, "\n") {
			t.Fatalf("lines changed: %q → %q", s, want)
		}
	})
}
