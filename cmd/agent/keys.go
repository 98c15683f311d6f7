package main

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// pending returns the bytes the terminal holds unread (not counting what
// the reader buffered); 0 when the input is not a terminal.
func (lr *lineReader) pending() int {
	if lr.f == nil {
		return 0
	}
	n, err := unix.IoctlGetInt(int(lr.f.Fd()), unix.TIOCINQ)
	if err != nil {
		return 0
	}
	return n
}

// keyWatchInterval is how often the terminal is looked at while a task
// runs.
const keyWatchInterval = 25 * time.Millisecond

// keyWatcher reads the terminal while a task runs: Esc interrupts the
// task, and lines typed meanwhile are queued as the next messages (and
// shown as queued). It never blocks on the terminal: it polls for pending
// bytes and reads only those, so a question (an approval) can take the
// terminal by pausing it.
type keyWatcher struct {
	a      *app
	esc    func() // interrupts the task
	mu     sync.Mutex
	line   []byte // typed, not yet ended with Enter
	inSeq  bool   // inside an escape sequence (an arrow key)
	stop   chan struct{}
	wg     sync.WaitGroup
	paused bool
}

// watchKeys starts a watcher for the running task when the input is a
// terminal; the returned function stops it, queueing an unfinished line.
func (a *app) watchKeys(esc func()) (stop func()) {
	if a.in == nil || a.in.f == nil {
		return func() {}
	}
	w := &keyWatcher{a: a, esc: esc, stop: make(chan struct{})}
	w.line, a.draft = []byte(a.draft), "" // typing goes on where it stopped
	restore := a.in.cbreak()
	a.approver.pause = w.pause
	w.wg.Go(w.loop)
	return func() {
		close(w.stop)
		w.wg.Wait()
		a.approver.pause = nil
		w.mu.Lock()
		if a.interactive {
			a.draft = string(w.line) // an unfinished line starts the next prompt
			w.line = w.line[:0]
		}
		w.flushLocked()
		w.mu.Unlock()
		restore()
	}
}

func (w *keyWatcher) loop() {
	t := time.NewTicker(keyWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		if !w.paused {
			if n := w.a.in.pending(); n > 0 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				s, err := w.a.in.do(ctx, readReq{kind: readDrain, n: n})
				cancel()
				if err == nil {
					w.keysLocked(s)
				}
			}
		}
		w.mu.Unlock()
	}
}

// keysLocked handles the bytes typed.
func (w *keyWatcher) keysLocked(s string) {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if w.inSeq {
			// CSI and SS3 sequences end with a byte in 0x40..0x7e.
			if b >= 0x40 && b <= 0x7e && b != '[' && b != 'O' {
				w.inSeq = false
			}
			continue
		}
		switch {
		case b == 0x1b:
			if i+1 < len(s) && (s[i+1] == '[' || s[i+1] == 'O') {
				w.inSeq = true
				continue
			}
			w.esc()
		case b == '\n' || b == '\r':
			w.flushLocked()
		case b == 0x7f || b == 0x08:
			if len(w.line) > 0 {
				_, size := utf8.DecodeLastRune(w.line)
				w.line = w.line[:len(w.line)-size]
			}
		case b == 0x15: // Ctrl-U
			w.line = w.line[:0]
		case b < 0x20 && b != '\t':
		default:
			w.line = append(w.line, b)
		}
	}
}

// flushLocked queues the line typed so far, if any.
func (w *keyWatcher) flushLocked() {
	text := strings.TrimSpace(string(w.line))
	w.line = w.line[:0]
	if text == "" {
		return
	}
	if w.a.interactive {
		w.a.ui.line(w.a.ui.colors.dim("  queued: " + oneLine(text, 120)))
	}
	w.a.queue(text)
}

// pause stops the watcher while a question has the terminal; what was
// typed so far is queued (it must not answer the question).
func (w *keyWatcher) pause() (resume func()) {
	w.mu.Lock()
	w.paused = true
	w.flushLocked()
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		w.paused = false
		w.mu.Unlock()
	}
}

// readPrompt reads a chat line at the terminal with a small line editor:
// Tab completes a slash command, Backspace and Ctrl-U edit, Ctrl-D on an
// empty line ends the input (io.EOF). Without a terminal it reads a line.
func (a *app) readPrompt(ctx context.Context, prompt string) (string, error) {
	if a.in.f == nil {
		a.ui.prompt(prompt)
		return a.in.readLine(ctx)
	}
	restore := a.in.cbreak()
	defer restore()
	line := []byte(a.draft)
	a.draft = ""
	a.ui.prompt(prompt + string(line))
	var keys []byte
	for {
		if len(keys) == 0 {
			k, err := a.in.readKey(ctx)
			if err != nil {
				return "", err
			}
			keys = append(keys, k...)
		}
		b := keys[0]
		keys = keys[1:]
		switch {
		case b == '\n' || b == '\r':
			a.ui.prompt("\n")
			return string(line), nil
		case b == 0x04: // Ctrl-D
			if len(line) == 0 {
				return "", io.EOF
			}
		case b == 0x7f || b == 0x08:
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				line = line[:len(line)-size]
				a.ui.prompt("\b \b")
			}
		case b == 0x15: // Ctrl-U
			a.ui.prompt(strings.Repeat("\b \b", utf8.RuneCount(line)))
			line = line[:0]
		case b == '\t':
			line = a.complete(prompt, line)
		case b == 0x1b:
			// An arrow or function key: its sequence is not text. The
			// terminal sends it at once: it is buffered or pending.
			if len(keys) == 0 {
				rest, err := a.in.do(ctx, readReq{kind: readDrain, n: a.in.pending()})
				if err != nil {
					return "", err
				}
				keys = append(keys, rest...)
			}
			if len(keys) > 0 && (keys[0] == '[' || keys[0] == 'O') {
				i := 1
				for i < len(keys) && (keys[i] < 0x40 || keys[i] > 0x7e) {
					i++
				}
				keys = keys[min(i+1, len(keys)):]
			}
		case b < 0x20:
		default:
			line = append(line, b)
			a.ui.prompt(string(b))
		}
	}
}

// complete completes the slash command being typed in line.
func (a *app) complete(prompt string, line []byte) []byte {
	s := string(line)
	if !strings.HasPrefix(s, "/") || strings.ContainsRune(s, ' ') {
		return line
	}
	opts := completeSlash(s)
	switch len(opts) {
	case 0:
		return line
	case 1:
		add := strings.TrimPrefix(opts[0], s) + " "
		a.ui.prompt(add)
		return append(line, add...)
	}
	common := opts[0]
	for _, o := range opts[1:] {
		for !strings.HasPrefix(o, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(s) {
		add := common[len(s):]
		a.ui.prompt(add)
		return append(line, add...)
	}
	a.ui.prompt("\n" + strings.Join(opts, "  ") + "\n" + prompt + s)
	return line
}
