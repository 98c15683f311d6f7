package applypatch

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchInput returns a file of n distinct lines and a diff with one hunk
// per 100 lines (500 for 50,000 lines): two lines of context before, the
// replaced line, one line after. With fuzzy, the context lines of the diff
// lose their indentation, so every hunk needs the third matching pass.
func benchInput(n int, fuzzy bool) (file, diff string) {
	var f, d strings.Builder
	for i := range n {
		fmt.Fprintf(&f, "\tvalue%d := compute(%d, \"line %d\")\n", i, i*7, i)
	}
	line := func(i int) string { return fmt.Sprintf("\tvalue%d := compute(%d, \"line %d\")", i, i*7, i) }
	for h := 0; h < n/100; h++ {
		at := h*100 + 50
		ctx := func(i int) string {
			if fuzzy {
				return strings.TrimSpace(line(i))
			}
			return line(i)
		}
		fmt.Fprintf(&d, "@@\n %s\n %s\n-%s\n+\tvalue%d := changed()\n %s\n", ctx(at-2), ctx(at-1), line(at), at, ctx(at+1))
	}
	return f.String(), d.String()
}

// floor is the cheapest full pass over the file: split into lines and join
// them again.
func floor(file []byte) []byte {
	return bytes.Join(bytes.Split(file, []byte("\n")), []byte("\n"))
}

// BenchmarkApplyDiff parses and applies the diff in memory. It reports
// ns/line and the ratio to the floor (bytes.Split+Join of the same file,
// measured in the same run): a constant ratio across sizes means linear
// time.
func BenchmarkApplyDiff(b *testing.B) {
	for _, tc := range []struct {
		lines int
		fuzzy bool
	}{{12500, false}, {25000, false}, {50000, false}, {50000, true}} {
		name := fmt.Sprintf("lines=%d", tc.lines)
		if tc.fuzzy {
			name += "/fuzzy"
		}
		b.Run(name, func(b *testing.B) {
			file, diff := benchInput(tc.lines, tc.fuzzy)
			if _, err := ApplyDiff(file, diff); err != nil {
				b.Fatal(err)
			}
			// Time the floor and the apply alternately, so that both see the
			// same machine; report medians, which shrug off noise.
			fb := []byte(file)
			var applies, floors []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				t0 := time.Now()
				floor(fb)
				floors = append(floors, time.Since(t0))
				b.StartTimer()
				t1 := time.Now()
				if _, err := ApplyDiff(file, diff); err != nil {
					b.Fatal(err)
				}
				applies = append(applies, time.Since(t1))
			}
			med := func(d []time.Duration) float64 {
				slices.Sort(d)
				return float64(d[len(d)/2].Nanoseconds())
			}
			a, f := med(applies), med(floors)
			b.ReportMetric(a/1e6, "median-ms")
			b.ReportMetric(a/float64(tc.lines), "ns/line")
			b.ReportMetric(a/f, "x-floor")
		})
	}
}
