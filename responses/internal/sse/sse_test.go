package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ev struct{ Name, ID, Data string }

// decodeAll returns the events of s and the error that ended the stream
// (nil for a clean io.EOF).
func decodeAll(r io.Reader) ([]ev, error) {
	d := NewDecoder(r)
	var out []ev
	for {
		e, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev{e.Name, e.ID, string(e.Data)})
	}
}

func TestDecoder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []ev
		wantErr error
	}{
		{"one event", "event: a\ndata: {\"x\":1}\n\n", []ev{{"a", "", `{"x":1}`}}, nil},
		{"no space after colon", "event:a\ndata:{}\n\n", []ev{{"a", "", `{}`}}, nil},
		{"only one space stripped", "data:  two\n\n", []ev{{"", "", " two"}}, nil},
		{"crlf", "event: a\r\ndata: x\r\n\r\ndata: y\r\n\r\n", []ev{{"a", "", "x"}, {"", "", "y"}}, nil},
		{"multi data lines joined", "data: a\ndata: b\ndata:\ndata: c\n\n", []ev{{"", "", "a\nb\n\nc"}}, nil},
		{"comments and keep-alives", ": ping\n\n:\ndata: x\n: inside\n\n", []ev{{"", "", "x"}}, nil},
		{"event without data is not dispatched", "event: a\n\ndata: x\n\n", []ev{{"", "", "x"}}, nil},
		{"field without colon", "data\n\n", []ev{{"", "", ""}}, nil},
		{"unknown fields and retry ignored", "retry: 10\nfoo: bar\ndata: x\n\n", []ev{{"", "", "x"}}, nil},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\n", []ev{{"", "7", "a"}, {"", "7", "b"}}, nil},
		{"id with NUL ignored", "id: a\x00b\ndata: a\n\n", []ev{{"", "", "a"}}, nil},
		{"BOM stripped", "\xef\xbb\xbfdata: a\n\n", []ev{{"", "", "a"}}, nil},
		{"blank lines between events", "\n\n\ndata: a\n\n\n\ndata: b\n\n", []ev{{"", "", "a"}, {"", "", "b"}}, nil},
		{"missing final blank line", "data: a\n", []ev{{"", "", "a"}}, nil},
		{"truncated last line", "data: a\n\ndata: {\"par", []ev{{"", "", "a"}}, io.ErrUnexpectedEOF},
		{"empty stream", "", nil, nil},
		{"DONE passed through", "data: [DONE]\n\n", []ev{{"", "", "[DONE]"}}, nil},
		{"colon in value kept", "data: a: b\n\n", []ev{{"", "", "a: b"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tc.in)},
				{"byte by byte", iotest.OneByteReader(strings.NewReader(tc.in))},
			} {
				got, err := decodeAll(r.r)
				if tc.wantErr != nil {
					assert.ErrorIs(t, err, tc.wantErr, r.name)
				} else {
					assert.NoError(t, err, r.name)
				}
				assert.Equal(t, tc.want, got, r.name)
			}
		})
	}
}

func TestDecoderHugeEvent(t *testing.T) {
	big := strings.Repeat("x", 5<<20)
	in := "event: big\ndata: " + big + "\r\n\r\ndata: after\n\n"
	got, err := decodeAll(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, len(big), len(got[0].Data))
	assert.True(t, got[0].Data == big)
	assert.Equal(t, "after", got[1].Data)
}

func TestDecoderLongLines(t *testing.T) {
	long := strings.Repeat("y", 100<<10) // longer than the read buffer
	for _, tc := range []struct {
		name    string
		in      string
		want    []ev
		wantErr error
	}{
		{"long comment skipped", ": " + long + "\ndata: a\n\n", []ev{{"", "", "a"}}, nil},
		{"long event name", "event: " + long + "\r\ndata: a\n\n", []ev{{long, "", "a"}}, nil},
		{"long second data line", "data: a\ndata: " + long + "\r\n\n", []ev{{"", "", "a\n" + long}}, nil},
		{"long data without space", "data:" + long + "\n\n", []ev{{"", "", long}}, nil},
		{"long field without colon", long + "\ndata: a\n\n", []ev{{"", "", "a"}}, nil},
		{"long data truncated", "data: a\n\ndata: " + long, []ev{{"", "", "a"}}, io.ErrUnexpectedEOF},
		{"long comment truncated", "data: a\n\n: " + long, []ev{{"", "", "a"}}, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeAll(strings.NewReader(tc.in))
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				assert.NoError(t, err)
			}
			require.Len(t, got, len(tc.want))
			for i := range got {
				assert.True(t, tc.want[i] == got[i], "event %d differs", i)
			}
		})
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom))
	got, err := decodeAll(r)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, []ev{{"", "", "a"}}, got)
}

// FuzzDecoder checks that any input decodes without panic, that chunking
// does not change the result, and that re-encoding the events decodes to
// the same events.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"event: a\ndata: {\"x\":1}\n\n",
		"data: a\r\ndata: b\r\n\r\n",
		": ping\n\ndata:x\n\n",
		"\xef\xbb\xbfid: 1\ndata\n\n",
		"data: a\n",
		"data: [DONE]\n\n",
		"data: {\"par",
		"\r\n\r\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		whole, errWhole := decodeAll(strings.NewReader(in))
		bytewise, errBytes := decodeAll(iotest.OneByteReader(strings.NewReader(in)))
		require.Equal(t, whole, bytewise)
		require.Equal(t, errWhole == nil, errBytes == nil)
		var buf bytes.Buffer
		for _, e := range whole {
			for _, l := range strings.Split(e.Data, "\n") {
				l = strings.TrimSuffix(l, "\r")
				buf.WriteString("data: " + l + "\n")
			}
			buf.WriteString("\n")
		}
		again, err := decodeAll(&buf)
		require.NoError(t, err)
		require.Len(t, again, len(whole))
		for i := range whole {
			if !strings.Contains(whole[i].Data, "\r") {
				require.Equal(t, whole[i].Data, again[i].Data)
			}
		}
	})
}

// benchStream is a realistic stream: many small delta events and one large
// completed event.
func benchStream() []byte {
	var b bytes.Buffer
	for i := range 2000 {
		b.WriteString("event: response.output_text.delta\n")
		b.WriteString(`data: {"type":"response.output_text.delta","sequence_number":`)
		b.WriteString(strings.Repeat("1", 1+i%4))
		b.WriteString(`,"item_id":"msg_02","output_index":1,"content_index":0,"delta":"Done and dusted","logprobs":[]}`)
		b.WriteString("\n\n")
	}
	b.WriteString("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"output\":\"")
	b.WriteString(strings.Repeat("a", 1<<20))
	b.WriteString("\"}}\n\n")
	return b.Bytes()
}

// floorSplit only splits data into lines with a bufio.Scanner whose limit is
// raised to 32 MiB (what the official Go SDK does): the least an SSE decoder
// must do.
func floorSplit(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 32<<10), 32<<20)
	for sc.Scan() {
		_ = sc.Bytes()
	}
}

// ratio runs floor and f alternately n times each and returns the fastest
// run of f divided by the fastest run of floor.
func ratio(n int, floor, f func()) float64 {
	bestFloor, best := time.Duration(1<<63-1), time.Duration(1<<63-1)
	for range n {
		start := time.Now()
		floor()
		bestFloor = min(bestFloor, time.Since(start))
		start = time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return float64(best) / float64(bestFloor)
}

// BenchmarkDecoder decodes a stream of 2,000 small deltas and one 1 MiB
// event and reports its time per stream as a ratio to a floor measured in
// the same run, which only splits the same bytes into lines (x_floor 1.0
// would mean SSE parsing costs nothing beyond line splitting).
func BenchmarkDecoder(b *testing.B) {
	data := benchStream()
	decode := func() {
		d := NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Next(); err != nil {
				return
			}
		}
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		decode()
	}
	b.StopTimer()
	b.ReportMetric(ratio(30, func() { floorSplit(data) }, decode), "x_floor")
}

// A released decoder's buffer serves the next decoder: nothing of the
// first stream (a half-read line, buffered bytes) leaks into the second.
func TestReleaseReuse(t *testing.T) {
	for range 3 {
		d := NewDecoder(strings.NewReader("data: first\n\ndata: unread tail that stays in the buffer"))
		e, err := d.Next()
		require.NoError(t, err)
		assert.Equal(t, "first", string(e.Data))
		d.Release()
		d.Release() // twice is harmless

		got, err := decodeAll(strings.NewReader("event: b\ndata: second\n\n"))
		require.NoError(t, err)
		assert.Equal(t, []ev{{Name: "b", Data: "second"}}, got)
	}
}
