package applypatch

import (
	"hash/maphash"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The matching passes, tried in this order. Each pass scans every candidate
// position before the next one starts, so an exact match anywhere after the
// cursor beats a fuzzy match earlier.
const (
	passExact = iota // byte-equal (line endings excluded)
	passRTrim        // trailing whitespace ignored
	passTrim         // surrounding whitespace ignored
	passPunct        // trimmed, typographic punctuation mapped to ASCII
	numPasses
)

// normalize returns s as pass compares it.
func normalize(pass int, s string) string {
	switch pass {
	case passRTrim:
		return strings.TrimRightFunc(s, unicode.IsSpace)
	case passTrim:
		return strings.TrimFunc(s, unicode.IsSpace)
	case passPunct:
		return strings.TrimFunc(mapPunct(s), unicode.IsSpace)
	}
	return s
}

// mapPunct maps the typographic dashes, quotes and spaces models confuse
// with their ASCII forms.
func mapPunct(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0x2010 && r <= 0x2015, r == 0x2212:
			return '-'
		case r >= 0x2018 && r <= 0x201B:
			return '\''
		case r >= 0x201C && r <= 0x201F:
			return '"'
		case r == 0x00A0, r >= 0x2002 && r <= 0x200A, r == 0x202F, r == 0x205F, r == 0x3000:
			return ' '
		}
		return r
	}, s)
}

// text is a file split into lines. Line i is src[start[i]:start[i+1]],
// its ending included; text[i] excludes the ending ("\n", "\r\n" or none).
type text struct {
	src     string
	start   []int // len(lines)+1 offsets
	lines   []string
	nl      string // ending for new lines: that of the first line break, "\n" if none
	finalNL bool   // the last line ends with a line break (true for an empty file)

	// Lazily built per pass: normalised lines, and an index from normalised
	// line to its positions. An index is built the first time a scan of its
	// pass fails, so a file costs at most one full scan per pass plus index
	// look-ups, however many hunks it has.
	norm  [numPasses][]string
	same  [numPasses]bool // normalising changed no line: the pass sees what the previous one sees
	index [numPasses]*lineIndex
}

// lineIndex finds the positions of a line in increasing order. Lines get
// ids through an open-addressing hash table (one hash per line, no
// allocation per line); pos[off[id]:off[id+1]] are the positions of line id.
type lineIndex struct {
	seed  maphash.Seed
	slots []int32  // id+1 of the line hashed here; 0 is empty
	hash  []uint64 // by id
	rep   []string // by id: the line
	off   []int32
	pos   []int32
}

func newLineIndex(lines []string) *lineIndex {
	size := 1
	for size < 2*len(lines) {
		size <<= 1
	}
	x := &lineIndex{seed: maphash.MakeSeed(), slots: make([]int32, size),
		hash: make([]uint64, 0, len(lines)), rep: make([]string, 0, len(lines))}
	lineIDs := make([]int32, len(lines))
	count := make([]int32, 0, len(lines))
	for i, l := range lines {
		id, slot, h := x.lookup(l)
		if id < 0 {
			id = int32(len(x.rep))
			x.slots[slot] = id + 1
			x.hash = append(x.hash, h)
			x.rep = append(x.rep, l)
			count = append(count, 0)
		}
		count[id]++
		lineIDs[i] = id
	}
	x.off = make([]int32, len(count)+1)
	for id, c := range count {
		x.off[id+1] = x.off[id] + c
	}
	next := append([]int32(nil), x.off[:len(count)]...)
	x.pos = make([]int32, len(lines))
	for i, id := range lineIDs {
		x.pos[next[id]] = int32(i)
		next[id]++
	}
	return x
}

// lookup returns the id of line l, or -1 and the empty slot where it
// goes, and the line's hash.
func (x *lineIndex) lookup(l string) (id int32, slot int, h uint64) {
	h = maphash.String(x.seed, l)
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1, i, h
		}
		if x.hash[s-1] == h && x.rep[s-1] == l {
			return s - 1, i, h
		}
	}
}

// positions returns the sorted positions of line l.
func (x *lineIndex) positions(l string) []int32 {
	id, _, _ := x.lookup(l)
	if id < 0 {
		return nil
	}
	return x.pos[x.off[id]:x.off[id+1]]
}

func newText(src string) *text {
	n := strings.Count(src, "\n")
	t := &text{src: src, nl: "\n", finalNL: true}
	t.start = make([]int, 0, n+2)
	t.lines = make([]string, 0, n+1)
	off := 0
	for off < len(src) {
		t.start = append(t.start, off)
		j := strings.IndexByte(src[off:], '\n')
		if j < 0 {
			t.lines = append(t.lines, src[off:])
			t.finalNL = false
			break
		}
		line := src[off : off+j]
		if strings.HasSuffix(line, "\r") {
			line = line[:len(line)-1]
			if len(t.lines) == 0 {
				t.nl = "\r\n"
			}
		}
		t.lines = append(t.lines, line)
		off += j + 1
	}
	t.start = append(t.start, len(src))
	return t
}

func (t *text) normLines(pass int) []string {
	if pass == passExact {
		return t.lines
	}
	if t.norm[pass] == nil {
		prev := t.normLines(pass - 1)
		var n []string
		for i, l := range prev {
			if nl := normalize(pass, l); nl != l && n == nil {
				n = make([]string, len(prev))
				copy(n, prev[:i])
				n[i] = nl
			} else if n != nil {
				n[i] = nl
			}
		}
		if n == nil {
			n, t.same[pass] = prev, true
		}
		t.norm[pass] = n
	}
	return t.norm[pass]
}

func (t *text) buildIndex(pass int) *lineIndex {
	if t.index[pass] == nil {
		if t.normLines(pass); t.same[pass] {
			t.index[pass] = t.buildIndex(pass - 1)
		} else {
			t.index[pass] = newLineIndex(t.normLines(pass))
		}
	}
	return t.index[pass]
}

// findPass returns the first start position s in [from, to) at which the
// normalised block (non-empty) matches in pass.
func (t *text) findPass(pass int, block []string, from, to int) int {
	lines := t.normLines(pass)
	m := len(block)
	if to > len(lines)-m+1 {
		to = len(lines) - m + 1
	}
	if from >= to {
		return -1
	}
	if idx := t.index[pass]; idx != nil {
		return findIndexed(idx, lines, block, from, to)
	}
	first := block[0]
	for s := from; s < to; s++ {
		if lines[s] == first && equalAt(lines, s, block) {
			return s
		}
	}
	if to == len(lines)-m+1 { // a full scan failed: index from now on
		t.buildIndex(pass)
	}
	return -1
}

func equalAt(lines []string, s int, block []string) bool {
	for j, b := range block {
		if lines[s+j] != b {
			return false
		}
	}
	return true
}

// findIndexed looks the block up through its rarest line.
func findIndexed(idx *lineIndex, lines, block []string, from, to int) int {
	best, bestN := -1, 0
	for j, b := range block {
		n := len(idx.positions(b))
		if n == 0 {
			return -1
		}
		if best < 0 || n < bestN {
			best, bestN = j, n
		}
	}
	pos := idx.positions(block[best])
	k := sort.Search(len(pos), func(i int) bool { return int(pos[i]) >= from+best })
	for ; k < len(pos); k++ {
		s := int(pos[k]) - best
		if s >= to {
			break
		}
		if equalAt(lines, s, block) {
			return s
		}
	}
	return -1
}

// passNames say how a pass compares, for error messages.
var passNames = [numPasses]string{"exactly", "ignoring trailing whitespace",
	"ignoring surrounding whitespace", "ignoring whitespace and typographic punctuation"}

// seek finds block in [from, to), pass by pass, and returns its start or -1.
// An empty block matches at from.
func (t *text) seek(block []string, from, to int) int {
	at, _, _ := t.seekBlock(block, from, to, false)
	return at
}

// seekBlock is seek that also reports the pass that matched and, with
// other and when that pass is fuzzy, the next start at which the block
// matches in that pass (-1 if none).
func (t *text) seekBlock(block []string, from, to int, other bool) (at, next, pass int) {
	if len(block) == 0 {
		return from, -1, passExact
	}
	nb := block
	for pass := range numPasses {
		if pass > passExact {
			prev := nb
			nb = nil
			for i, b := range prev {
				if n := normalize(pass, b); n != b && nb == nil {
					nb = make([]string, len(prev))
					copy(nb, prev[:i])
					nb[i] = n
				} else if nb != nil {
					nb[i] = n
				}
			}
			if nb == nil {
				nb = prev
				if t.normLines(pass); t.same[pass] {
					continue // the same lines compared the same way
				}
			}
		}
		if s := t.findPass(pass, nb, from, to); s >= 0 {
			next := -1
			if other && pass > passExact {
				t.buildIndex(pass)
				next = t.findPass(pass, nb, s+1, to)
			}
			return s, next, pass
		}
	}
	return -1, -1, 0
}

// seekEnd tries the one position where block ends the file, if it is at or
// after from.
func (t *text) seekEnd(block []string, from int) int {
	s := len(t.lines) - len(block)
	if s < from || len(block) == 0 {
		return -1
	}
	return t.seek(block, s, s+1)
}
