package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

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
}

func (a *approver) Approve(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
	switch judge(a.policy, a.sandbox, req) {
	case allowCall:
		return agent.Approve, nil
	case refuseCall:
		a.ui.declined(req.CallID, "--ask-for-approval never: nobody is asked")
		return agent.Deny("the approval policy is to never ask the user, and this call needs approval. Do not retry it; do what you can without it, and say what you needed."), nil
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
	fmt.Fprintf(&b, "  %s yes  %s no%s  — or type a reason to decline: ", c.bold("y"), c.bold("n"), always)
	for {
		u.prompt(b.String())
		line, err := a.in.readLine(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return agent.Approval{}, ctx.Err()
			}
			if err == io.EOF {
				a.in = nil // no more input: decline from now on
			}
			return agent.Deny("declined: the user did not answer"), nil
		}
		ans := strings.TrimSpace(line)
		switch strings.ToLower(ans) {
		case "":
			b.Reset()
			b.WriteString("  y, n, a, or a reason: ")
			continue
		case "y", "yes":
			return agent.Approve, nil
		case "a", "always":
			if req.Key == "" {
				return agent.Approve, nil
			}
			return agent.Approval{Approved: true, Always: true}, nil
		case "n", "no":
			return agent.Deny(""), nil
		}
		return agent.Deny("the user said: " + ans), nil
	}
}

// lineReader reads lines from the terminal on its own goroutine, so that a
// caller waiting for a line can give up when its context ends.
type lineReader struct {
	lines chan string
	err   error // set before lines is closed
	want  chan struct{}
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string), want: make(chan struct{}, 1)}
	go func() {
		br := bufio.NewReader(r)
		defer close(lr.lines)
		for range lr.want {
			s, err := br.ReadString('\n')
			if s != "" || err == nil {
				lr.lines <- strings.TrimRight(s, "\r\n")
			}
			if err != nil {
				lr.err = err
				return
			}
		}
	}()
	return lr
}

// readLine returns the next line. It reads only when asked, so that input
// typed while the model works is kept for the next prompt.
func (lr *lineReader) readLine(ctx context.Context) (string, error) {
	select {
	case lr.want <- struct{}{}:
	default: // a read is already pending
	}
	select {
	case s, ok := <-lr.lines:
		if !ok {
			if lr.err != nil {
				return "", lr.err
			}
			return "", io.EOF
		}
		return s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
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
