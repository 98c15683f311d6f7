package main

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/agentloop/agentloop/responses"
)

// markdown renders the model's text for a terminal as it streams, a line
// at a time: headings in bold, list bullets as •, code blocks and `code`
// in colour, **bold** in bold, links with their address dimmed. It is
// used only when stdout is a colour terminal; otherwise the text is
// written as the model sent it.
type markdown struct {
	c      colors
	line   strings.Builder // the line being received
	inCode bool            // inside a ``` block
}

// write takes a delta and returns what to print: the lines it completed,
// rendered.
func (m *markdown) write(s string) string {
	var out strings.Builder
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			m.line.WriteString(s)
			return out.String()
		}
		m.line.WriteString(s[:i])
		out.WriteString(m.render(m.line.String()) + "\n")
		m.line.Reset()
		s = s[i+1:]
	}
}

// flush returns the unfinished line, rendered, without its newline.
func (m *markdown) flush() string {
	if m.line.Len() == 0 {
		return ""
	}
	s := m.render(m.line.String())
	m.line.Reset()
	return s
}

var (
	mdHeading  = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	mdBullet   = regexp.MustCompile(`^(\s*)[-*+]\s+(.*)$`)
	mdRule     = regexp.MustCompile(`^\s*([-*_])(\s*[-*_]){2,}\s*$`)
	mdCode     = regexp.MustCompile("`([^`]+)`")
	mdBold     = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	mdFence    = regexp.MustCompile("^\\s*```")
	mdQuote    = regexp.MustCompile(`^\s*>\s?(.*)$`)
	mdNumbered = regexp.MustCompile(`^(\s*\d+[.)])\s+(.*)$`)
)

func (m *markdown) render(l string) string {
	c := m.c
	if mdFence.MatchString(l) {
		m.inCode = !m.inCode
		return c.dim(l)
	}
	if m.inCode {
		return c.cyan(l)
	}
	if mdRule.MatchString(l) && strings.TrimSpace(l) != "" {
		return c.dim(strings.Repeat("─", 40))
	}
	if h := mdHeading.FindStringSubmatch(l); h != nil {
		return c.bold(m.inline(h[2]))
	}
	if b := mdBullet.FindStringSubmatch(l); b != nil {
		return b[1] + c.dim("•") + " " + m.inline(b[2])
	}
	if n := mdNumbered.FindStringSubmatch(l); n != nil {
		return c.dim(n[1]) + " " + m.inline(n[2])
	}
	if q := mdQuote.FindStringSubmatch(l); q != nil {
		return c.dim("│ " + q[1])
	}
	return m.inline(l)
}

// inline renders `code`, **bold** and [links](url) in a line. Code spans
// are taken out first, so that nothing inside them is rendered.
func (m *markdown) inline(s string) string {
	c := m.c
	var spans []string
	s = mdCode.ReplaceAllStringFunc(s, func(x string) string {
		spans = append(spans, c.cyan(x[1:len(x)-1]))
		return fmt.Sprintf("\x00%d\x00", len(spans)-1)
	})
	s = mdBold.ReplaceAllStringFunc(s, func(x string) string { return c.bold(x[2 : len(x)-2]) })
	s = mdLink.ReplaceAllString(s, "$1"+c.dim(" ($2)"))
	for i, sp := range spans {
		s = strings.Replace(s, fmt.Sprintf("\x00%d\x00", i), sp, 1)
	}
	return s
}

// patchDiff returns the diff of an apply_patch call, coloured and
// indented, at most maxLines lines; "" when there is none.
func patchDiff(c colors, call responses.Item, maxLines int) string {
	var pc responses.ApplyPatchCall
	if call.Decode(&pc) != nil || pc.Operation.Diff == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(pc.Operation.Diff, "\n"), "\n")
	more := 0
	if len(lines) > maxLines {
		more = len(lines) - maxLines
		lines = lines[:maxLines]
	}
	s := strings.TrimRight(colorDiff(c, strings.Join(lines, "\n")+"\n"), "\n")
	s = "  " + strings.ReplaceAll(s, "\n", "\n  ")
	if more > 0 {
		s += "\n    " + c.dim(fmt.Sprintf("… %d more lines", more))
	}
	return s
}

// price is a model's list price in US dollars per million tokens.
type price struct{ in, cached, out float64 }

// prices are the published list prices of known models. A dated snapshot
// (gpt-5-2025-08-07) has its model's price; an unknown model shows no
// cost.
var prices = map[string]price{
	"gpt-5":        {1.25, 0.125, 10},
	"gpt-5-codex":  {1.25, 0.125, 10},
	"gpt-5-mini":   {0.25, 0.025, 2},
	"gpt-5-nano":   {0.05, 0.005, 0.4},
	"gpt-4.1":      {2, 0.5, 8},
	"gpt-4.1-mini": {0.4, 0.1, 1.6},
	"gpt-4.1-nano": {0.1, 0.025, 0.4},
	"gpt-4o":       {2.5, 1.25, 10},
	"gpt-4o-mini":  {0.15, 0.075, 0.6},
	"o3":           {2, 0.5, 8},
	"o4-mini":      {1.1, 0.275, 4.4},
}

var datedModel = regexp.MustCompile(`^(.*)-\d{4}-\d{2}-\d{2}$`)

// cost returns what the usage cost with model, and whether its price is
// known.
func cost(model string, u responses.Usage) (float64, bool) {
	if vendor, name, found := strings.Cut(model, "/"); found && vendor == "openai" {
		model = name // the Scale GenAI Platform's vendor/model names
	}
	p, ok := prices[model]
	if !ok {
		if m := datedModel.FindStringSubmatch(model); m != nil {
			p, ok = prices[m[1]]
		}
	}
	if !ok {
		return 0, false
	}
	cached := u.InputTokensDetails.CachedTokens
	return (float64(u.InputTokens-cached)*p.in + float64(cached)*p.cached + float64(u.OutputTokens)*p.out) / 1e6, true
}

func fmtCost(usd float64) string {
	if usd < 0.01 {
		return fmt.Sprintf("$%.4f", usd)
	}
	return fmt.Sprintf("$%.2f", usd)
}
