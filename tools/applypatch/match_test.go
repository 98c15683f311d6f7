package applypatch

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveSeek is the reference: for each pass, the first start in [from, to)
// where every normalised line is equal.
func naiveSeek(lines, block []string, from, to int) int {
	if len(block) == 0 {
		return from
	}
	for pass := range numPasses {
		for s := from; s < to && s+len(block) <= len(lines); s++ {
			ok := true
			for j, b := range block {
				if normalize(pass, lines[s+j]) != normalize(pass, b) {
					ok = false
					break
				}
			}
			if ok {
				return s
			}
		}
	}
	return -1
}

// TestSeekAgreesWithNaive checks the scanning and indexed searches against
// the naive reference, on files with many repeated and near-equal lines.
func TestSeekAgreesWithNaive(t *testing.T) {
	alphabet := []string{"a", " a", "a ", "\ta", "b", "", " ", "x – y", "x - y", "“q”", "\"q\"", "}"}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 500 {
		n := r.IntN(40)
		lines := make([]string, n)
		for j := range lines {
			lines[j] = alphabet[r.IntN(len(alphabet))]
		}
		src := strings.Join(lines, "\n")
		tx := newText(src)
		// Many searches on one text, so that indexes get built part-way.
		for k := range 30 {
			m := 1 + r.IntN(3)
			block := make([]string, m)
			for j := range block {
				block[j] = alphabet[r.IntN(len(alphabet))]
			}
			from := 0
			if n > 0 {
				from = r.IntN(n + 1)
			}
			to := n
			if k%3 == 0 && n > from {
				to = from + r.IntN(n-from+1)
			}
			want := naiveSeek(tx.lines, block, from, to)
			got := tx.seek(block, from, to)
			require.Equal(t, want, got, "case %d/%d: lines %q block %q from %d to %d", i, k, tx.lines, block, from, to)
		}
	}
}
