package applypatch

import (
	"fmt"
	"strings"
)

// maxDiffCost bounds the edit distance the line diff searches for; beyond
// it the differing middle is reported as one replacement (still correct,
// only less minimal).
const maxDiffCost = 2000

// lineDiff returns edits that turn lines a into lines b, by Myers' greedy
// algorithm after trimming the common prefix and suffix.
func lineDiff(a, b []string) []edit {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	A, B := a[p:len(a)-s], b[p:len(b)-s]
	n, m := len(A), len(B)
	if n == 0 && m == 0 {
		return nil
	}
	replace := []edit{{at: p, del: n, ins: B}}
	if n == 0 || m == 0 {
		return replace
	}
	var trace [][]int32 // trace[d][k+d] = furthest x on diagonal k after d steps
	prevX := func(d, k int) int {
		if d == 0 {
			return 0
		}
		return int(trace[d-1][k+d-1])
	}
	for d := 0; d <= min(n+m, maxDiffCost); d++ {
		v := make([]int32, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && prevX(d, k-1) < prevX(d, k+1) {
				x = prevX(d, k+1)
				if d == 0 {
					x = 0
				}
			} else {
				x = prevX(d, k-1) + 1
			}
			y := x - k
			for x < n && y < m && A[x] == B[y] {
				x++
				y++
			}
			v[k+d] = int32(x)
			if x >= n && y >= m {
				trace = append(trace, v)
				return shift(backtrack(trace, A, B), p)
			}
		}
		trace = append(trace, v)
	}
	return replace
}

// backtrack walks the trace back from (n, m) and returns the edits.
func backtrack(trace [][]int32, A, B []string) []edit {
	type step struct {
		del bool
		x   int    // position in A
		s   string // inserted line
	}
	var steps []step
	x, y := len(A), len(B)
	for d := len(trace) - 1; d > 0; d-- {
		k := x - y
		prev := trace[d-1]
		get := func(k int) int { return int(prev[k+d-1]) }
		var pk int
		if k == -d || k != d && get(k-1) < get(k+1) {
			pk = k + 1 // came down: an insertion
		} else {
			pk = k - 1 // came right: a deletion
		}
		px := get(pk)
		py := px - pk
		if pk == k+1 {
			steps = append(steps, step{x: px, s: B[py]})
		} else {
			steps = append(steps, step{del: true, x: px})
		}
		x, y = px, py
	}
	var edits []edit
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		if n := len(edits); n > 0 && edits[n-1].at+edits[n-1].del == st.x {
			if st.del {
				edits[n-1].del++
			} else {
				edits[n-1].ins = append(edits[n-1].ins, st.s)
			}
			continue
		}
		e := edit{at: st.x}
		if st.del {
			e.del = 1
		} else {
			e.ins = []string{st.s}
		}
		edits = append(edits, e)
	}
	return edits
}

func shift(edits []edit, p int) []edit {
	for i := range edits {
		edits[i].at += p
	}
	return edits
}

// MakeDiff returns a bare V4A diff (the form of an update_file operation)
// that turns old into new when applied with [ApplyDiff]: each section has
// up to three lines of context, more where needed to make its place
// unambiguous. It returns "" when the texts have the same lines. V4A
// cannot express a change of line endings or of the final newline; those
// are not part of the diff.
func MakeDiff(old, new string) string {
	return makeDiff(newText(old), newText(new).lines)
}

func makeDiff(t *text, b []string) string {
	edits := lineDiff(t.lines, b)
	if len(edits) == 0 {
		return ""
	}
	const ctx = 3
	var hunks []Hunk
	cursor := 0
	for i := 0; i < len(edits); {
		// Group edits whose gaps are small enough to share context.
		j := i + 1
		for j < len(edits) && edits[j].at-(edits[j-1].at+edits[j-1].del) <= 2*ctx {
			j++
		}
		group := edits[i:j]
		first, last := group[0], group[len(group)-1]
		start := max(first.at-ctx, cursor)
		end := min(last.at+last.del+ctx, len(t.lines))
		for {
			h := hunkOf(t, group, start, end)
			old, _ := h.oldNew()
			at := t.seek(old, cursor, len(t.lines))
			if len(old) == 0 {
				at = len(t.lines) // a pure insertion without anchor appends
			}
			if at == start || start == cursor && len(old) > 0 {
				hunks = append(hunks, h)
				cursor = start + len(old)
				break
			}
			// The block also occurs earlier: widen it backwards.
			start--
		}
		i = j
	}
	var sb strings.Builder
	writeHunks(&sb, hunks)
	return sb.String()
}

// hunkOf builds the hunk for edits over the old lines [start, end).
func hunkOf(t *text, edits []edit, start, end int) Hunk {
	var h Hunk
	i := start
	for _, e := range edits {
		for ; i < e.at; i++ {
			h.Lines = append(h.Lines, Line{Op: ' ', Text: t.lines[i]})
		}
		for ; i < e.at+e.del; i++ {
			h.Lines = append(h.Lines, Line{Op: '-', Text: t.lines[i]})
		}
		for _, l := range e.ins {
			h.Lines = append(h.Lines, Line{Op: '+', Text: l})
		}
	}
	for ; i < end; i++ {
		h.Lines = append(h.Lines, Line{Op: ' ', Text: t.lines[i]})
	}
	return h
}

// count returns the lines c adds and removes.
func (c *FileChange) count() (added, removed int) {
	edits := c.edits
	if edits == nil {
		edits = lineDiff(newText(c.Old).lines, newText(c.New).lines)
	}
	for _, e := range edits {
		added += len(e.ins)
		removed += e.del
	}
	return added, removed
}

// Diff returns a unified diff of the change (a/ and b/ prefixes, three
// lines of context, /dev/null for an added or deleted file), as shown to a
// person approving it. A change of the final newline shows as
// "\ No newline at end of file".
func (c *FileChange) Diff() string {
	from, to := "a/"+c.Path, "b/"+c.Path
	if c.From != "" {
		from = "a/" + c.From
	}
	switch c.Kind {
	case Add:
		from = "/dev/null"
	case Delete:
		to = "/dev/null"
	}
	var b strings.Builder
	if c.From != "" {
		fmt.Fprintf(&b, "rename from %s\nrename to %s\n", c.From, c.Path)
	}
	ot, nt := newText(c.Old), newText(c.New)
	edits := c.edits
	if edits != nil {
		// An append after an unterminated last line changes that line's
		// ending: show it as replaced.
		if n := len(ot.lines); !ot.finalNL && len(edits) > 0 && edits[len(edits)-1].at == n {
			last := edits[len(edits)-1]
			edits = edits[: len(edits)-1 : len(edits)-1] // copy on append: c.edits stays as it is
			if k := len(edits); k > 0 && edits[k-1].at+edits[k-1].del == n {
				prev := edits[k-1]
				edits = append(edits[:k-1:k-1], edit{at: prev.at, del: prev.del, ins: append(append([]string(nil), prev.ins...), last.ins...)})
			} else {
				edits = append(edits, edit{at: n - 1, del: 1, ins: append([]string{ot.lines[n-1]}, last.ins...)})
			}
		}
	} else {
		edits = lineDiff(diffKeys(ot), diffKeys(nt))
		for i := range edits {
			for j, l := range edits[i].ins {
				edits[i].ins[j] = strings.TrimSuffix(l, noEOL)
			}
		}
	}
	if len(edits) == 0 {
		if c.From == "" {
			return ""
		}
		fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
		return b.String()
	}
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", from, to)
	writeUnified(&b, ot, nt, edits)
	return b.String()
}

const noEOL = "\n\x00" // marks a last line without line break in diff keys

// diffKeys returns the lines of t, the last one marked when it lacks a
// line break, so that a change of the final newline is a change of line.
func diffKeys(t *text) []string {
	if t.finalNL || len(t.lines) == 0 {
		return t.lines
	}
	k := append([]string(nil), t.lines...)
	k[len(k)-1] += noEOL
	return k
}

func writeUnified(b *strings.Builder, ot, nt *text, edits []edit) {
	const ctx = 3
	n := len(ot.lines)
	delta := 0 // new line index minus old line index before the group
	for i := 0; i < len(edits); {
		j := i + 1
		for j < len(edits) && edits[j].at-(edits[j-1].at+edits[j-1].del) <= 2*ctx {
			j++
		}
		group := edits[i:j]
		start := max(group[0].at-ctx, 0)
		last := group[len(group)-1]
		end := min(last.at+last.del+ctx, n)
		oldCount, newCount := end-start, end-start
		for _, e := range group {
			newCount += len(e.ins) - e.del
		}
		fmt.Fprintf(b, "@@ -%s +%s @@\n", rangeOf(start, oldCount), rangeOf(start+delta, newCount))
		oi, ni := start, start+delta
		marker := func(isLastOld, isLastNew bool) {
			if isLastOld && !ot.finalNL || isLastNew && !nt.finalNL {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
		for _, e := range group {
			for ; oi < e.at; oi, ni = oi+1, ni+1 {
				b.WriteString(" " + ot.lines[oi] + "\n")
				marker(oi == n-1, ni == len(nt.lines)-1)
			}
			for ; oi < e.at+e.del; oi++ {
				b.WriteString("-" + ot.lines[oi] + "\n")
				marker(oi == n-1, false)
			}
			for _, l := range e.ins {
				b.WriteString("+" + l + "\n")
				marker(false, ni == len(nt.lines)-1)
				ni++
			}
			delta += len(e.ins) - e.del
		}
		for ; oi < end; oi, ni = oi+1, ni+1 {
			b.WriteString(" " + ot.lines[oi] + "\n")
			marker(oi == n-1, ni == len(nt.lines)-1)
		}
		i = j
	}
}

func rangeOf(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if count == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
