package shell

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// capture keeps the head and the tail of a stream in memory bounded by its
// capacity, whatever the stream's length, and counts every byte.
type capture struct {
	head    []byte // the first headCap bytes
	headCap int
	ring    []byte // the last bytes after the head, circular once full
	ringCap int
	pos     int // next write position in ring once it is full
	full    bool
	total   int64
}

func newCapture(capacity int) *capture {
	h := capacity / 2
	return &capture{headCap: h, ringCap: capacity - h}
}

func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.total += int64(n)
	if room := c.headCap - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 || c.ringCap == 0 {
		return n, nil
	}
	if !c.full {
		if len(c.ring)+len(p) <= c.ringCap {
			c.ring = append(c.ring, p...)
			return n, nil
		}
		// The ring overflows for the first time: keep the last ringCap
		// bytes of ring+p in a buffer of exactly ringCap bytes.
		buf := make([]byte, c.ringCap)
		if len(p) < c.ringCap {
			keep := c.ringCap - len(p)
			copy(buf, c.ring[len(c.ring)-keep:])
			copy(buf[keep:], p)
		} else {
			copy(buf, p[len(p)-c.ringCap:])
		}
		c.ring, c.pos, c.full = buf, 0, true
		return n, nil
	}
	c.writeRing(p)
	return n, nil
}

// writeRing writes p into the full ring, overwriting the oldest bytes.
func (c *capture) writeRing(p []byte) {
	if len(p) >= c.ringCap {
		copy(c.ring, p[len(p)-c.ringCap:])
		c.pos = 0
		return
	}
	k := copy(c.ring[c.pos:], p)
	if k < len(p) {
		copy(c.ring, p[k:])
	}
	c.pos = (c.pos + len(p)) % c.ringCap
}

// tail returns the bytes after the head that are still held, in order.
func (c *capture) tail() []byte {
	if !c.full {
		return c.ring
	}
	out := make([]byte, 0, c.ringCap)
	out = append(out, c.ring[c.pos:]...)
	return append(out, c.ring[:c.pos]...)
}

// complete reports whether every byte written is still held.
func (c *capture) complete() bool {
	held := len(c.head) + len(c.ring)
	return c.total == int64(held)
}

// text returns at most budget bytes of the stream as valid UTF-8: all of it
// when it fits, else its head and tail around a marker that says how many
// bytes were left out. It returns the number of bytes left out.
func (c *capture) text(budget int) (string, int64) {
	tail := c.tail()
	if c.total <= int64(budget) && c.complete() {
		return strings.ToValidUTF8(string(c.head)+string(tail), "\uFFFD"), 0
	}
	keepHead := budget / 2
	keepTail := budget - keepHead
	var h, t []byte
	if c.complete() {
		all := append(append([]byte(nil), c.head...), tail...)
		h, t = all[:min(keepHead, len(all))], all[max(0, len(all)-keepTail):]
	} else {
		h = c.head[:min(keepHead, len(c.head))]
		t = tail[max(0, len(tail)-keepTail):]
	}
	h, t = trimHeadRune(h), trimTailRune(t)
	dropped := c.total - int64(len(h)) - int64(len(t))
	return strings.ToValidUTF8(string(h), "\uFFFD") + omittedMarker(dropped) + strings.ToValidUTF8(string(t), "\uFFFD"), dropped
}

func omittedMarker(n int64) string {
	return "\n…[" + strconv.FormatInt(n, 10) + " bytes omitted]…\n"
}

// trimHeadRune drops an incomplete UTF-8 sequence at the end of b.
func trimHeadRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// trimTailRune drops continuation bytes at the start of b left by a cut
// inside a UTF-8 sequence.
func trimTailRune(b []byte) []byte {
	for k := 0; k < utf8.UTFMax-1 && len(b) > 0 && !utf8.RuneStart(b[0]); k++ {
		b = b[1:]
	}
	return b
}

// splitBudget shares budget between two streams of sizes a and b: each gets
// what it needs if both fit, else half, and a stream needing less than half
// leaves the rest to the other.
func splitBudget(budget int, a, b int64) (int, int) {
	if a+b <= int64(budget) {
		return int(a), int(b)
	}
	half := budget / 2
	switch {
	case a < int64(half):
		return int(a), budget - int(a)
	case b < int64(budget-half):
		return budget - int(b), int(b)
	}
	return half, budget - half
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// drain copies r into c until EOF or an error (such as a passed read
// deadline); memory stays bounded by c's capacity.
func drain(r *os.File, c *capture) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = c.Write(buf[:n])
		}
		if err != nil {
			return // EOF, or a read deadline set by the caller to stop reading
		}
	}
}
