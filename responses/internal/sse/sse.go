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
	started bool
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 32<<10)}
}

// Next returns the next event that carries data. It returns io.EOF when the
// stream ends cleanly; an event whose final blank line is missing is still
// dispatched if its last line was complete. A truncated last line is dropped
// and reported as io.ErrUnexpectedEOF. Other errors come from the reader.
func (d *Decoder) Next() (Event, error) {
	for {
		line, complete, err := d.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(line) > 0 && !complete {
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

func (d *Decoder) event() Event {
	return Event{Name: d.name, ID: d.id, Data: d.data}
}

func (d *Decoder) reset() {
	d.data = d.data[:0]
	d.name = ""
	d.hasData = false
}

// field processes one non-empty line.
func (d *Decoder) field(line []byte) {
	if line[0] == ':' {
		return // comment or keep-alive
	}
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if d.hasData {
			d.data = append(d.data, '\n')
		}
		d.data = append(d.data, value...)
		d.hasData = true
	case "event":
		d.name = string(value)
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			d.id = string(value)
		}
	}
	// "retry" and unknown fields are ignored.
}

// readLine returns the next line without its terminator. complete reports
// whether the line ended with "\n"; at the end of the stream err is io.EOF
// and line holds whatever followed the last terminator.
func (d *Decoder) readLine() (line []byte, complete bool, err error) {
	d.line = d.line[:0]
	for {
		chunk, err := d.r.ReadSlice('\n')
		switch {
		case err == nil && len(d.line) == 0:
			line = chunk // common case: the line fits in the buffer
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
			d.line = append(d.line, chunk...)
			if err != nil {
				continue
			}
			line = d.line
		default:
			d.line = append(d.line, chunk...)
			return d.line, false, err
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if !d.started {
			d.started = true
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		return line, true, nil
	}
}
