package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/agentloop/agentloop/cmd/agent/internal/session"
)

// maxPicked is how many sessions the /resume picker lists.
const maxPicked = 20

// pickRow is a line of the session picker.
type pickRow struct {
	id   string
	text string // the columns, without the number and the marker
	why  string // why it cannot be picked ("in use"); "" when it can
}

// sessionRows describes the sessions for the picker: age, model,
// workspace ("." for here, ~ for home), tasks and the first prompt, in
// aligned columns. The current session and the sessions other processes
// have open cannot be picked.
func sessionRows(list []session.Summary, current, home, here string, now time.Time) []pickRow {
	type cols struct{ age, model, dir, tasks string }
	cs := make([]cols, len(list))
	var wAge, wModel, wDir, wTasks int
	for i, s := range list {
		dir := s.Dir
		if dir == here {
			dir = ". (here)"
		} else if home != "" && (dir == home || strings.HasPrefix(dir, home+string(filepath.Separator))) {
			dir = "~" + dir[len(home):]
		}
		c := cols{age: fmtAge(now.Sub(s.Updated)), model: clipLeft(s.Model, 24, false), dir: clipLeft(dir, 40, true), tasks: tasksText(s.Tasks)}
		cs[i] = c
		wAge = max(wAge, utf8.RuneCountInString(c.age))
		wModel = max(wModel, utf8.RuneCountInString(c.model))
		wDir = max(wDir, utf8.RuneCountInString(c.dir))
		wTasks = max(wTasks, utf8.RuneCountInString(c.tasks))
	}
	rows := make([]pickRow, len(list))
	for i, s := range list {
		c := cs[i]
		prompt := s.Prompt
		if prompt == "" {
			prompt = "(no prompt)"
		}
		r := pickRow{id: s.ID}
		r.text = fmt.Sprintf("%s  %s  %s  %s  %s  %s", s.ID, pad(c.age, wAge), pad(c.model, wModel), pad(c.dir, wDir), pad(c.tasks, wTasks), prompt)
		switch {
		case s.ID == current:
			r.why = "this session"
		case s.Busy:
			r.why = "in use by another agent process"
		}
		rows[i] = r
	}
	return rows
}

// tasksText is "1 task", "3 tasks".
func tasksText(n int) string {
	if n == 1 {
		return "1 task"
	}
	return fmt.Sprintf("%d tasks", n)
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-utf8.RuneCountInString(s)))
}

// clipLeft clips s to n characters, keeping its end when tail is set (the
// last directories of a path).
func clipLeft(s string, n int, tail bool) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if tail {
		return "…" + string(r[len(r)-n+1:])
	}
	return string(r[:n-1]) + "…"
}

// clipCols clips s to at most n terminal columns, marking the cut with
// "…", so that a line never wraps. A character from U+1100 on counts as
// two columns (East Asian wide characters and emoji do; the others take
// one, which only clips early), but for the picker's own … and ›.
func clipCols(s string, n int) string {
	if runeCols(s) <= n {
		return s
	}
	cols := 0
	for i, r := range s {
		if cols += colsOf(r); cols > n-1 {
			return s[:i] + "…"
		}
	}
	return s
}

func colsOf(r rune) int {
	if r >= 0x1100 && r != '…' && r != '›' {
		return 2
	}
	return 1
}

// runeCols counts the columns of s as clipCols does.
func runeCols(s string) int {
	n := 0
	for _, r := range s {
		n += colsOf(r)
	}
	return n
}

// fmtAge says how long ago something happened, shortly.
func fmtAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// picker is the state of a list to choose from: the highlighted row and
// the number being typed. Rows that cannot be picked are skipped.
type picker struct {
	rows []pickRow
	sel  int    // -1 when no row can be picked
	num  string // digits typed
}

func newPicker(rows []pickRow) *picker {
	p := &picker{rows: rows, sel: -1}
	p.move(1)
	return p
}

// move highlights the next row that can be picked in direction d (1 down,
// -1 up), staying put at either end.
func (p *picker) move(d int) {
	p.num = ""
	for i := p.sel + d; i >= 0 && i < len(p.rows); i += d {
		if p.rows[i].why == "" {
			p.sel = i
			return
		}
	}
}

// digit adds a digit to the number typed and highlights that row when
// there is one (a number too big starts again from this digit).
func (p *picker) digit(b byte) {
	for _, num := range []string{p.num + string(b), string(b)} {
		var n int
		if _, err := fmt.Sscan(num, &n); err != nil || n < 1 || n > len(p.rows) {
			continue
		}
		p.num = num
		if p.rows[n-1].why == "" {
			p.sel = n - 1
		}
		return
	}
	p.num = ""
}

// lines renders the rows, each clipped to width characters.
func (p *picker) lines(c colors, width int) []string {
	wNum := len(fmt.Sprint(len(p.rows)))
	out := make([]string, len(p.rows))
	for i, r := range p.rows {
		mark := "  "
		if i == p.sel {
			mark = "› "
		}
		text := fmt.Sprintf("%s%*d  %s", mark, wNum, i+1, r.text)
		if r.why != "" {
			text += "  (" + r.why + ")"
		}
		text = clipCols(text, max(20, width-1))
		switch {
		case i == p.sel:
			text = c.bold(c.cyan(text))
		case r.why != "":
			text = c.dim(text)
		}
		out[i] = text
	}
	return out
}

// pickKey is a key of the picker.
type pickKey int

const (
	keyOther pickKey = iota
	keyUp
	keyDown
	keyEnter
	keyCancel
	keyDigit
)

// keyReader reads keys at the terminal (in cbreak mode), keeping the
// bytes read past the key asked for.
type keyReader struct {
	in   *lineReader
	keys []byte
}

// next returns the next key.
func (kr *keyReader) next(ctx context.Context) (pickKey, byte, error) {
	if len(kr.keys) == 0 {
		k, err := kr.in.readKey(ctx)
		if err != nil {
			return keyCancel, 0, err
		}
		kr.keys = append(kr.keys, k...)
	}
	if len(kr.keys) == 1 && kr.keys[0] == 0x1b {
		// An arrow's sequence comes at once: it is buffered or pending.
		rest, err := kr.in.do(ctx, readReq{kind: readDrain, n: kr.in.pending()})
		if err != nil {
			return keyCancel, 0, err
		}
		kr.keys = append(kr.keys, rest...)
	}
	k, d, rest := parseKey(kr.keys)
	kr.keys = rest
	return k, d, nil
}

// parseKey reads the first key of keys and returns it and the bytes after
// it: the arrows (CSI or SS3), j/k and Ctrl-N/Ctrl-P, Enter, Esc alone, q
// and Ctrl-D (cancel), a digit. keys must not be empty; another escape
// sequence (a function key), or one cut short, is keyOther.
func parseKey(keys []byte) (k pickKey, digit byte, rest []byte) {
	b, rest := keys[0], keys[1:]
	switch {
	case b == 0x1b:
		if len(rest) == 0 || (rest[0] != '[' && rest[0] != 'O') {
			return keyCancel, 0, rest
		}
		i := 1
		for i < len(rest) && (rest[i] < 0x40 || rest[i] > 0x7e) {
			i++
		}
		if i == len(rest) {
			return keyOther, 0, nil
		}
		switch rest[i] {
		case 'A':
			k = keyUp
		case 'B':
			k = keyDown
		default:
			k = keyOther
		}
		return k, 0, rest[i+1:]
	case b == 'k' || b == 0x10: // Ctrl-P
		return keyUp, 0, rest
	case b == 'j' || b == 0x0e: // Ctrl-N
		return keyDown, 0, rest
	case b == '\r' || b == '\n':
		return keyEnter, 0, rest
	case b == 'q' || b == 0x04:
		return keyCancel, 0, rest
	case b >= '0' && b <= '9':
		return keyDigit, b, rest
	}
	return keyOther, 0, rest
}

// pickSession lists the saved sessions, the most recent first, and lets
// the user choose one with the arrow keys (or j/k, or its number) and
// Enter; Esc, q or Ctrl-C cancel. It reports the id chosen.
func (a *app) pickSession(ctx context.Context) (string, bool) {
	limit := maxPicked
	if h := a.height(); h > 0 {
		limit = max(3, min(maxPicked, h-3)) // the list is redrawn in place: it must fit
	}
	list, err := session.List(a.sessDir, limit)
	if err != nil {
		a.ui.notice("resume: " + err.Error())
		return "", false
	}
	rows := sessionRows(list, a.sess.ID(), a.e.getenv("HOME"), a.dir, time.Now())
	p := newPicker(rows)
	if p.sel < 0 {
		if len(rows) == 0 {
			a.ui.line("no saved sessions yet")
		} else {
			for _, l := range p.lines(a.ui.colors, a.width()) {
				a.ui.line(l)
			}
			a.ui.line("none of them can be resumed now")
		}
		return "", false
	}
	if a.in == nil || a.in.f == nil || !isTerminal(a.e.stderr) {
		for _, l := range p.lines(a.ui.colors, a.width()) {
			a.ui.line(l)
		}
		a.ui.line("resume one with /resume ID")
		return "", false
	}

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.intr.arm(cancel, true) // Ctrl-C cancels the choice
	defer func() { a.intr.disarm(); a.intr.reset() }()
	restore := a.in.cbreak()
	defer restore()

	c := a.ui.colors
	head := c.bold("Resume a session") + c.dim(" · ↑/↓ or j/k or its number, Enter resumes, Esc cancels")
	draw := func(again bool) {
		var b strings.Builder
		if again {
			fmt.Fprintf(&b, "\x1b[%dA", len(rows))
		}
		for _, l := range p.lines(c, a.width()) {
			b.WriteString("\r\x1b[K" + l + "\n")
		}
		a.ui.prompt(b.String())
	}
	a.ui.prompt(head + "\n")
	draw(false)
	kr := &keyReader{in: a.in}
	for {
		k, d, err := kr.next(pctx)
		if err != nil {
			a.ui.line(c.dim("  (not resumed)"))
			return "", false
		}
		switch k {
		case keyUp:
			p.move(-1)
		case keyDown:
			p.move(1)
		case keyDigit:
			p.digit(d)
		case keyEnter:
			return rows[p.sel].id, true
		case keyCancel:
			a.ui.line(c.dim("  (not resumed)"))
			return "", false
		default:
			continue
		}
		draw(true)
	}
}

// width is the terminal's width in columns, 100 when unknown.
func (a *app) width() int {
	if w, _ := a.termSize(); w > 0 {
		return w
	}
	return 100
}

// height is the terminal's height in lines, 0 when unknown.
func (a *app) height() int {
	_, h := a.termSize()
	return h
}

func (a *app) termSize() (w, h int) {
	if f, ok := a.e.stderr.(*os.File); ok {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil {
			return w, h
		}
	}
	return 0, 0
}
