package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

// verdict is what the approval policy says about a call its tool wants
// approved.
type verdict int

const (
	allowCall  verdict = iota // run it
	askPerson                 // ask the person at the terminal
	refuseCall                // decline without asking
)

// judge applies --ask-for-approval to a request that a tool's own policy
// (the shell's command policy, an MCP server's approval config, the patch
// tool's settings) sent to the approver.
func judge(policy string, sandbox shell.SandboxMode, req tools.ApprovalRequest) verdict {
	v := askPerson
	if policy == approveOnRequest || policy == approveNever {
		// The sandbox contains the command: on-request runs it there.
		if req.Kind == "shell" && sandbox != shell.DangerFullAccess {
			v = allowCall
		}
	}
	if v == askPerson && policy == approveNever {
		v = refuseCall
	}
	return v
}

// approver is the CLI's agent.Approver: the approval policy first, then the
// person at the terminal, if there is one.
type approver struct {
	policy  string
	sandbox shell.SandboxMode
	ui      *ui
	in      *lineReader // nil without a terminal
	// typedAhead receives text typed before a question appeared; nil
	// drops it.
	typedAhead func(string)
	// pause, when set, stops the key watcher of a running task while a
	// question has the terminal; it returns what resumes it.
	pause func() (resume func())
	// remote, when set, asks instead of the terminal (agent mcp-server:
	// the MCP client answers).
	remote func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error)
}

func (a *approver) Approve(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
	switch judge(a.policy, a.sandbox, req) {
	case allowCall:
		return agent.Approve, nil
	case refuseCall:
		a.ui.declined(req.CallID, "--ask-for-approval never: nobody is asked")
		return agent.Deny("the approval policy is to never ask the user, and this call needs approval. Do not retry it; do what you can without it, and say what you needed."), nil
	}
	if a.remote != nil {
		return a.remote(ctx, req)
	}
	if a.in == nil {
		a.ui.declined(req.CallID, "it needs approval and there is no terminal to ask (run in a terminal, or change --ask-for-approval or --sandbox)")
		return agent.Deny("it needs the user's approval, and the user is not at a terminal to give it. Do not retry it; do what you can without it, and say what you needed."), nil
	}
	return a.ask(ctx, req)
}

// describe is a short, one-line name for a request.
func describe(req tools.ApprovalRequest) string {
	switch req.Kind {
	case "shell":
		return "command " + oneLine(strings.Join(req.Command, " && "), 80)
	case "apply_patch":
		return "patch of " + strings.Join(req.Paths, ", ")
	case "mcp", "hosted_mcp":
		return "MCP tool " + req.Tool
	}
	if req.Tool != "" {
		return req.Tool
	}
	return req.Summary
}

// ask shows req at the terminal and reads the answer.
func (a *approver) ask(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
	u := a.ui
	u.hold()
	defer u.release()
	var b strings.Builder
	c := u.colors
	switch req.Kind {
	case "shell":
		fmt.Fprintf(&b, "%s run this command?\n", c.yellow("?"))
		for _, l := range req.Command {
			fmt.Fprintf(&b, "  %s %s\n", c.dim("$"), c.bold(l))
		}
		fmt.Fprintf(&b, "  %s\n", c.dim(fmt.Sprintf("in %s · sandbox %s", req.Dir, req.Sandbox)))
	case "apply_patch":
		fmt.Fprintf(&b, "%s apply this patch?\n", c.yellow("?"))
		b.WriteString(colorDiff(c, req.Diff))
	case "mcp", "hosted_mcp":
		fmt.Fprintf(&b, "%s call MCP tool %s?\n", c.yellow("?"), c.bold(req.Tool))
		if len(req.Arguments) > 0 {
			var pretty bytes.Buffer
			if json.Indent(&pretty, req.Arguments, "  ", "  ") != nil {
				pretty.Reset()
				pretty.Write(req.Arguments)
			}
			fmt.Fprintf(&b, "  %s\n", clip(pretty.String(), 2000))
		}
	default:
		fmt.Fprintf(&b, "%s %s?\n", c.yellow("?"), req.Summary)
		if len(req.Arguments) > 0 {
			fmt.Fprintf(&b, "  %s\n", clip(string(req.Arguments), 2000))
		}
	}
	always := "" // "approve always" needs a key to remember
	if req.Key != "" {
		always = fmt.Sprintf("  %s always %s", c.bold("a"), strings.TrimPrefix(strings.TrimPrefix(req.Key, "shell:"), "mcp:"))
	}
	fmt.Fprintf(&b, "  %s %s yes  %s no%s  %s no, and explain why ", c.yellow("▌approve?"), c.bold("y"), c.bold("n"), always, c.bold("e"))

	// Keys typed before the question appeared never answer it: they are
	// taken first and kept as the next message.
	if a.pause != nil {
		defer a.pause()()
	}
	restore := a.in.cbreak()
	defer restore()
	prompt := b.String()
	if typed := strings.TrimSpace(a.in.typeAhead(ctx)); typed != "" && a.typedAhead != nil {
		a.typedAhead(typed)
		prompt = c.dim("  (what you typed is kept as your next message: "+oneLine(typed, 60)+")") + "\n" + prompt
	}
	u.prompt(prompt)
	for {
		key, err := a.in.readKey(ctx)
		if err != nil {
			u.prompt("\n")
			if ctx.Err() != nil {
				return agent.Approval{}, ctx.Err()
			}
			if err == io.EOF {
				a.in = nil // no more input: decline from now on
			}
			return agent.Deny("declined: the user did not answer"), nil
		}
		switch strings.ToLower(key) {
		case "y":
			u.prompt("yes\n")
			return agent.Approve, nil
		case "a":
			u.prompt("always\n")
			if req.Key == "" {
				return agent.Approve, nil
			}
			return agent.Approval{Approved: true, Always: true}, nil
		case "n":
			u.prompt("no\n")
			return agent.Deny(""), nil
		case "e":
			restore()
			u.prompt("no\n  why? ")
			line, err := a.in.readLine(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return agent.Approval{}, ctx.Err()
				}
				return agent.Deny(""), nil
			}
			if why := strings.TrimSpace(line); why != "" {
				return agent.Deny("the user said: " + why), nil
			}
			return agent.Deny(""), nil
		}
		// Any other key (Enter, a letter of a sentence) answers nothing.
	}
}

// lineReader reads the terminal on its own goroutine, so that a caller
// waiting for input can give up when its context ends. It reads only when
// asked, so that input typed while the model works is kept for the next
// prompt.
type lineReader struct {
	f     *os.File // the terminal, for its modes; nil when not a file
	reqs  chan readReq
	resps chan readResp
	busy  bool // a request's answer has not been taken (its caller gave up)
	// busyKind is the kind of that request: a new request of the same
	// kind (a key, a line) takes its answer instead of dropping it.
	busyKind readKind
}

type readKind int

const (
	readLine  readKind = iota
	readKey            // one byte
	readDrain          // what is buffered and pending, without blocking
)

type readReq struct {
	kind readKind
	n    int // readDrain: bytes pending at the terminal
}

type readResp struct {
	s   string
	err error
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{reqs: make(chan readReq), resps: make(chan readResp)}
	lr.f, _ = r.(*os.File)
	go func() {
		br := bufio.NewReader(r)
		defer close(lr.resps)
		for req := range lr.reqs {
			var resp readResp
			switch req.kind {
			case readLine:
				s, err := br.ReadString('\n')
				if s == "" && err != nil {
					resp.err = err
				}
				resp.s = strings.TrimRight(s, "\r\n")
			case readKey:
				b, err := br.ReadByte()
				resp.s, resp.err = string(b), err
			case readDrain:
				n := br.Buffered() + req.n
				buf := make([]byte, n)
				_, err := io.ReadFull(br, buf)
				resp.s, resp.err = string(buf), err
			}
			lr.resps <- resp
			if resp.err != nil {
				return
			}
		}
	}()
	return lr
}

// do sends a request and waits for its answer or ctx. An answer to an
// earlier request whose caller gave up is dropped first.
func (lr *lineReader) do(ctx context.Context, req readReq) (string, error) {
	if lr.busy {
		select {
		case r, ok := <-lr.resps:
			if !ok {
				return "", io.EOF
			}
			lr.busy = false
			if req.kind == lr.busyKind && req.kind != readDrain {
				return r.s, r.err // what was typed is for this caller
			}
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	select {
	case lr.reqs <- req:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case r, ok := <-lr.resps:
		if !ok {
			return "", io.EOF
		}
		return r.s, r.err
	case <-ctx.Done():
		lr.busy, lr.busyKind = true, req.kind
		return "", ctx.Err()
	}
}

// readLine returns the next line.
func (lr *lineReader) readLine(ctx context.Context) (string, error) {
	return lr.do(ctx, readReq{kind: readLine})
}

// cbreak puts the terminal in character mode without echo (signals still
// work: Ctrl-C is SIGINT) and returns what restores it; it does nothing
// when the input is not a terminal.
func (lr *lineReader) cbreak() (restore func()) {
	if lr.f == nil {
		return func() {}
	}
	fd := int(lr.f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}
	}
	t := *old
	t.Lflag &^= unix.ICANON | unix.ECHO
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if unix.IoctlSetTermios(fd, unix.TCSETS, &t) != nil {
		return func() {}
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}

// typeAhead takes what was typed before a question appeared, finished
// lines or not, so that it cannot answer the question. Call it in cbreak
// mode, where an unfinished line is readable too.
func (lr *lineReader) typeAhead(ctx context.Context) string {
	n := 0
	if lr.f != nil {
		if v, err := unix.IoctlGetInt(int(lr.f.Fd()), unix.TIOCINQ); err == nil {
			n = v
		}
	}
	s, _ := lr.do(ctx, readReq{kind: readDrain, n: n})
	return s
}

// readKey returns the next key pressed.
func (lr *lineReader) readKey(ctx context.Context) (string, error) {
	return lr.do(ctx, readReq{kind: readKey})
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	return clip(s, n)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
