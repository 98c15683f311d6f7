// Package sse decodes a server-sent-event stream (the text/event-stream
// format of the WHATWG HTML standard) as the Responses API sends it.
//
// Lines may end in "\n" or "\r\n" and may be of any length: a line is read in
// pieces and held only once, so memory grows with the largest event, not with
// the stream. Comment lines (":" first) are skipped, several data lines of one
// event are joined with "\n", and one space after the colon is removed.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"sync"
)

// Event is one dispatched event. Data aliases the decoder's buffer and is
// valid only until the next call to [Decoder.Next].
type Event struct {
	Name string // the "event:" field; "" when absent
	ID   string // the last "id:" field seen, as the standard says
	Data []byte // the "data:" lines joined with "\n"
}

// Decoder reads events from a stream. It is not safe for concurrent use.
type Decoder struct {
	r       *bufio.Reader
	line    []byte // the current line when it spans several buffer reads
	data    []byte
	name    string
	id      string
	hasData bool
	partial bool // the stream ended inside a line
	started bool
}

// readers holds the read buffers of released decoders.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// NewDecoder returns a decoder reading from r. [Decoder.Release] gives its
// buffer back for the next decoder.
func NewDecoder(r io.Reader) *Decoder {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return &Decoder{r: br}
}

// Release returns the decoder's read buffer for reuse. The decoder, and
// the Data of the last event it returned, must not be used afterwards.
func (d *Decoder) Release() {
	if d.r == nil {
		return
	}
	d.r.Reset(nil)
	readers.Put(d.r)
	d.r = nil
}

// Next returns the next event that carries data. It returns io.EOF when the
// stream ends cleanly; an event whose final blank line is missing is still
// dispatched if its last line was complete. A truncated last line is dropped
// and reported as io.ErrUnexpectedEOF. Other errors come from the reader.
func (d *Decoder) Next() (Event, error) {
	if !d.started {
		d.started = true
		if b, _ := d.r.Peek(len(bom)); bytes.Equal(b, bom) {
			_, _ = d.r.Discard(len(bom))
		}
	}
	for {
		line, err := d.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if d.partial {
					d.reset()
					return Event{}, io.ErrUnexpectedEOF
				}
				if d.hasData {
					ev := d.event()
					d.reset()
					return ev, nil
				}
				return Event{}, io.EOF
			}
			return Event{}, err
		}
		if line == nil {
			continue // a long data line, already appended
		}
		if len(line) == 0 { // blank line: dispatch
			if !d.hasData {
				d.name = ""
				continue
			}
			ev := d.event()
			d.reset()
			return ev, nil
		}
		d.field(line)
	}
}

var bom = []byte("\xef\xbb\xbf")

func (d *Decoder) event() Event {
	return Event{Name: d.name, ID: d.id, Data: d.data}
}

func (d *Decoder) reset() {
	d.data = d.data[:0]
	d.name = ""
	d.hasData = false
	d.partial = false
}

// field processes one non-empty line.
func (d *Decoder) field(line []byte) {
	if line[0] == ':' {
		return // comment or keep-alive
	}
	name, value := fieldOf(line)
	switch string(name) {
	case "data":
		d.appendData(value)
	case "event":
		if string(value) != d.name {
			d.name = string(value)
		}
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != d.id {
			d.id = string(value)
		}
	}
	// "retry" and unknown fields are ignored.
}

// fieldOf splits a line into its field name and value.
func fieldOf(line []byte) (name, value []byte) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return line, nil
	}
	name, value = line[:i], line[i+1:]
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	return name, value
}

func (d *Decoder) appendData(value []byte) {
	if d.hasData {
		d.data = append(d.data, '\n')
	}
	d.data = append(d.data, value...)
	d.hasData = true
}

// readLine returns the next line without its terminator. A data line longer
// than the read buffer is appended to the event's data as it is read, so it
// is held only once; then readLine returns a nil line. At the end of the
// stream err is io.EOF, and d.partial reports an unterminated last line.
func (d *Decoder) readLine() (line []byte, err error) {
	chunk, err := d.r.ReadSlice('\n')
	if err == nil {
		return trimEOL(chunk), nil // common case: the line fits in the buffer
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		d.partial = len(chunk) > 0
		return nil, err
	}
	if name, value := fieldOf(chunk); string(name) == "data" && len(name) < len(chunk) {
		d.appendData(value)
		for {
			chunk, err = d.r.ReadSlice('\n')
			d.data = appendDoubling(d.data, chunk)
			if err == nil {
				d.data = trimEOL(d.data)
				return nil, nil
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				d.partial = true
				return nil, err
			}
		}
	}
	d.line = append(d.line[:0], chunk...)
	for {
		chunk, err = d.r.ReadSlice('\n')
		d.line = appendDoubling(d.line, chunk)
		if err == nil {
			return trimEOL(d.line), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			d.partial = true
			return nil, err
		}
	}
}

// appendDoubling appends b to buf, doubling buf's capacity when it is full
// (append's own growth is slower for large slices and copies more).
func appendDoubling(buf, b []byte) []byte {
	if len(buf)+len(b) > cap(buf) {
		buf = slices.Grow(buf, max(len(b), len(buf)))
	}
	return append(buf, b...)
}

// trimEOL removes a trailing "\n" or "\r\n".
func trimEOL(b []byte) []byte {
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
