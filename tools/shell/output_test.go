package shell

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCaptureKeepsHeadAndTail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity int
		budget   int
		input    string
		want     string
		omitted  int64
	}{
		{"fits", 10, 10, "hello", "hello", 0},
		{"exactly", 10, 10, "0123456789", "0123456789", 0},
		{"over by one", 10, 10, "0123456789X", "01234" + omittedMarker(1) + "6789X", 1},
		{"long", 8, 8, strings.Repeat("a", 100) + "TAIL", "aaaa" + omittedMarker(96) + "TAIL", 96},
		{"smaller budget", 10, 4, "0123456789", "01" + omittedMarker(6) + "89", 6},
		{"empty", 10, 10, "", "", 0},
		{"zero budget", 10, 0, "abc", omittedMarker(3), 3},
		{"utf8 cut on both sides", 6, 6, "ééééé", "é" + omittedMarker(6) + "é", 6},
		{"invalid utf8", 10, 10, "a\xffb", "a\uFFFDb", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCapture(tc.capacity)
			for i := 0; i < len(tc.input); i += 3 { // small writes exercise the ring
				_, _ = c.Write([]byte(tc.input[i:min(i+3, len(tc.input))]))
			}
			got, omitted := c.text(tc.budget)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.omitted, omitted)
		})
	}
}

// TestCaptureMatchesReference writes random data in random chunk sizes and
// checks the kept head and tail against slicing the whole input.
func TestCaptureMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		capacity := 1 + r.IntN(64)
		n := r.IntN(300)
		data := make([]byte, n)
		for j := range data {
			data[j] = 'a' + byte(r.IntN(26))
		}
		c := newCapture(capacity)
		for off := 0; off < n; {
			k := min(n-off, 1+r.IntN(2*capacity+2))
			_, _ = c.Write(data[off : off+k])
			off += k
		}
		require.Equal(t, int64(n), c.total)
		budget := r.IntN(capacity + 1)
		got, omitted := c.text(budget)
		if n <= budget {
			assert.Equal(t, string(data), got, "case %d", i)
			assert.Zero(t, omitted)
			continue
		}
		h, tl := budget/2, budget-budget/2
		want := string(data[:h]) + omittedMarker(int64(n-budget)) + string(data[n-tl:])
		assert.Equal(t, want, got, "case %d: capacity %d budget %d n %d", i, capacity, budget, n)
	}
}

func TestCaptureOutputIsValidUTF8(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "é", "€", "𝄞", "\xff", "\xe2\x82"}
	for range 200 {
		var b bytes.Buffer
		for range r.IntN(200) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		c := newCapture(1 + r.IntN(40))
		_, _ = c.Write(b.Bytes())
		got, _ := c.text(r.IntN(41))
		assert.True(t, utf8.ValidString(got), "%q", got)
	}
}

func TestSplitBudget(t *testing.T) {
	for _, tc := range []struct {
		budget int
		a, b   int64
		wa, wb int
	}{
		{10, 3, 4, 3, 4},
		{10, 100, 100, 5, 5},
		{10, 2, 100, 2, 8},
		{10, 100, 1, 9, 1},
		{11, 100, 100, 5, 6},
	} {
		a, b := splitBudget(tc.budget, tc.a, tc.b)
		assert.Equal(t, []int{tc.wa, tc.wb}, []int{a, b}, "%+v", tc)
	}
}
