package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/agentloop/agentloop/tools/shell"
)

// usageError is a mistake in the command line or the config: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// Approval policies, as --ask-for-approval spells them.
const (
	approveUntrusted = "untrusted"
	approveOnRequest = "on-request"
	approveNever     = "never"
)

// reasoningEfforts are the values of --reasoning-effort.
var reasoningEfforts = []string{"none", "minimal", "low", "medium", "high", "xhigh"}

// flags are the parsed command line. Pointers distinguish "not given" from
// a zero value, so the config file can supply defaults.
type flags struct {
	model, provider, baseURL *string
	dir                      string
	sandbox, approval        *string
	mcpConfig                *string
	effort                   *string
	stateless                *bool
	network                  *bool
	maxTurns                 *int
	json, noColor            bool
	timeline                 string // --timeline FILE (timeline.go)
	help, version            bool
	trustWorkspace           bool // load the workspace configuration without asking

	resume      bool     // the "resume" subcommand
	trust       bool     // the "trust" subcommand
	trustList   bool     // trust --list
	trustRevoke *string  // trust --revoke PATH
	args        []string // positional arguments
}

type optString struct{ p **string }

func (o optString) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return **o.p
}
func (o optString) Set(s string) error { *o.p = &s; return nil }

type optBool struct{ p **bool }

func (o optBool) String() string   { return "" }
func (o optBool) IsBoolFlag() bool { return true }
func (o optBool) Set(s string) error {
	v, err := parseBool(s)
	if err != nil {
		return err
	}
	*o.p = &v
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "t", "true", "yes":
		return true, nil
	case "0", "f", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("want true or false, got %q", s)
}

type optInt struct{ p **int }

func (o optInt) String() string { return "" }
func (o optInt) Set(s string) error {
	var v int
	if _, err := fmt.Sscan(s, &v); err != nil || v <= 0 || fmt.Sprint(v) != s {
		return fmt.Errorf("want a positive whole number, got %q", s)
	}
	*o.p = &v
	return nil
}

// parseFlags parses args. Flags may come before or after the positional
// arguments; "--" ends the flags.
func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	both := func(short, long string, v flag.Value) {
		if short != "" {
			fs.Var(v, short, "")
		}
		fs.Var(v, long, "")
	}
	both("m", "model", optString{&f.model})
	both("", "provider", optString{&f.provider})
	both("", "base-url", optString{&f.baseURL})
	var dir *string
	both("C", "cd", optString{&dir})
	both("s", "sandbox", optString{&f.sandbox})
	both("a", "ask-for-approval", optString{&f.approval})
	both("", "mcp-config", optString{&f.mcpConfig})
	both("", "reasoning-effort", optString{&f.effort})
	both("", "stateless", optBool{&f.stateless})
	both("", "network", optBool{&f.network})
	both("", "max-turns", optInt{&f.maxTurns})
	fs.BoolVar(&f.trustWorkspace, "trust-workspace", false, "")
	fs.BoolVar(&f.trustList, "list", false, "")
	both("", "revoke", optString{&f.trustRevoke})
	fs.BoolVar(&f.json, "json", false, "")
	fs.StringVar(&f.timeline, "timeline", "", "")
	fs.BoolVar(&f.noColor, "no-color", false, "")
	fs.BoolVar(&f.help, "h", false, "")
	fs.BoolVar(&f.help, "help", false, "")
	fs.BoolVar(&f.version, "version", false, "")

	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.help = true
				return f, nil
			}
			msg := strings.TrimPrefix(err.Error(), "flag ")
			if name, ok := strings.CutPrefix(msg, "provided but not defined: "); ok {
				msg = "unknown flag " + name
			}
			if name, ok := strings.CutPrefix(msg, "needs an argument: "); ok {
				msg = name + " needs a value"
			}
			return nil, usagef("%s", msg)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stops at the first positional argument, or after "--".
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			f.args = append(f.args, rest...)
			break
		}
		f.args = append(f.args, rest[0])
		rest = rest[1:]
	}
	if dir != nil {
		f.dir = *dir
		if f.dir == "" {
			return nil, usagef("-C/--cd needs a directory")
		}
	}
	if len(f.args) > 0 && f.args[0] == "resume" {
		f.resume = true
		f.args = f.args[1:]
	}
	if len(f.args) > 0 && f.args[0] == "trust" && !f.resume {
		f.trust = true
		f.args = f.args[1:]
	}
	switch {
	case !f.trust && (f.trustList || f.trustRevoke != nil):
		return nil, usagef("--list and --revoke go with the trust command: agent trust --list, agent trust --revoke PATH")
	case f.trustList && f.trustRevoke != nil:
		return nil, usagef("trust: give --list or --revoke, not both")
	case (f.trustList || f.trustRevoke != nil) && len(f.args) > 0:
		return nil, usagef("trust: unexpected argument %q", f.args[0])
	case f.trustRevoke != nil && *f.trustRevoke == "":
		return nil, usagef("trust: --revoke needs a folder")
	}
	if err := checkChoice("--sandbox", f.sandbox, string(shell.ReadOnly), string(shell.WorkspaceWrite), string(shell.DangerFullAccess)); err != nil {
		return nil, err
	}
	if err := checkChoice("--ask-for-approval", f.approval, approveUntrusted, approveOnRequest, approveNever); err != nil {
		return nil, err
	}
	if err := checkChoice("--reasoning-effort", f.effort, reasoningEfforts...); err != nil {
		return nil, err
	}
	if err := checkChoice("--provider", f.provider, "openai", "sgp"); err != nil {
		return nil, err
	}
	if f.model != nil && strings.TrimSpace(*f.model) == "" {
		return nil, usagef("-m/--model needs a model name")
	}
	return f, nil
}

func checkChoice(name string, v *string, choices ...string) error {
	if v == nil {
		return nil
	}
	for _, c := range choices {
		if *v == c {
			return nil
		}
	}
	return usagef("%s: unknown value %q (choose %s)", name, *v, strings.Join(choices, ", "))
}

//go:embed doc.go
var docSource string

// usageText returns the package documentation of doc.go as plain text.
func usageText() string {
	var b strings.Builder
	for _, l := range strings.Split(docSource, "\n") {
		if strings.HasPrefix(l, "package ") {
			break
		}
		l, ok := strings.CutPrefix(l, "//")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(l, "\t"):
			l = "  " + l[1:]
		default:
			l = strings.TrimPrefix(l, " ")
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
