package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

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

// flags are the parsed command line. The settings flags fill a layer whose
// nil fields were not given, so the config file can supply them.
type flags struct {
	set            layer
	dir            string
	mcpConfig      *string
	json, noColor  bool
	timeline       string // --timeline FILE (timeline.go)
	logLevel       string // --log-level (logging.go)
	logFile        string // --log-file
	help, version  bool
	trustWorkspace bool     // load the workspace configuration without asking
	overrides      []string // -c key=value, in order
	profile        string
	images         []string // -i FILE

	// agent exec
	exec              bool
	lastMessage       string // --output-last-message FILE
	outputSchema      string // --output-schema FILE
	skipGitRepoCheck  bool
	fullAuto          bool
	dangerouslyBypass bool

	resume      bool     // the "resume" subcommand
	last        bool     // resume --last: the latest session, without the picker
	trust       bool     // the "trust" subcommand
	trustList   bool     // trust --list
	trustRevoke *string  // trust --revoke PATH
	mcpServer   bool     // the "mcp-server" subcommand
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
	if _, err := fmt.Sscan(s, &v); err != nil || v < 0 || fmt.Sprint(v) != s {
		return fmt.Errorf("want a whole number, 0 for no limit, got %q", s)
	}
	*o.p = &v
	return nil
}

type optInt64 struct{ p **int64 }

func (o optInt64) String() string { return "" }
func (o optInt64) Set(s string) error {
	var v int64
	if _, err := fmt.Sscan(s, &v); err != nil || v < 0 || fmt.Sprint(v) != s {
		return fmt.Errorf("want a whole number, 0 for no limit, got %q", s)
	}
	*o.p = &v
	return nil
}

type optDuration struct{ p **string }

func (o optDuration) String() string { return "" }
func (o optDuration) Set(s string) error {
	if d, err := time.ParseDuration(s); err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 30m or 1h30m, got %q", s)
	}
	*o.p = &s
	return nil
}

type strList struct{ p *[]string }

func (o strList) String() string     { return "" }
func (o strList) Set(s string) error { *o.p = append(*o.p, s); return nil }

// flagNames are the long flags, for "did you mean".
var flagNames []string

// newFlagSet returns the flag set that fills f.
func newFlagSet(f *flags, dir **string) *flag.FlagSet {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	both := func(short, long string, v flag.Value) {
		if short != "" {
			fs.Var(v, short, "")
		}
		fs.Var(v, long, "")
	}
	l := &f.set
	both("m", "model", optString{&l.Model})
	both("", "provider", optString{&l.Provider})
	both("", "base-url", optString{&l.BaseURL})
	both("C", "cd", optString{dir})
	both("s", "sandbox", optString{&l.Sandbox})
	both("a", "ask-for-approval", optString{&l.AskForApproval})
	both("", "mcp-config", optString{&f.mcpConfig})
	both("", "reasoning-effort", optString{&l.ReasoningEffort})
	both("", "stateless", optBool{&l.Stateless})
	both("", "network", optBool{&l.Network})
	both("", "max-turns", optInt{&l.MaxTurns})
	both("", "max-tokens", optInt64{&l.MaxTokens})
	both("", "max-duration", optDuration{&l.MaxDuration})
	both("c", "config", strList{&f.overrides})
	fs.StringVar(&f.profile, "profile", "", "")
	fs.StringVar(&f.profile, "p", "", "")
	both("i", "image", strList{&f.images})
	fs.BoolVar(&f.trustWorkspace, "trust-workspace", false, "")
	fs.BoolVar(&f.trustList, "list", false, "")
	both("", "revoke", optString{&f.trustRevoke})
	fs.BoolVar(&f.json, "json", false, "")
	fs.StringVar(&f.timeline, "timeline", "", "")
	fs.StringVar(&f.logLevel, "log-level", "", "")
	fs.StringVar(&f.logFile, "log-file", "", "")
	fs.StringVar(&f.lastMessage, "output-last-message", "", "")
	fs.StringVar(&f.lastMessage, "o", "", "")
	fs.StringVar(&f.outputSchema, "output-schema", "", "")
	fs.BoolVar(&f.skipGitRepoCheck, "skip-git-repo-check", false, "")
	fs.BoolVar(&f.last, "last", false, "")
	fs.BoolVar(&f.fullAuto, "full-auto", false, "")
	fs.BoolVar(&f.dangerouslyBypass, "dangerously-bypass-approvals-and-sandbox", false, "")
	fs.BoolVar(&f.noColor, "no-color", false, "")
	fs.BoolVar(&f.help, "h", false, "")
	fs.BoolVar(&f.help, "help", false, "")
	fs.BoolVar(&f.version, "version", false, "")
	return fs
}

func init() {
	var d *string
	newFlagSet(&flags{}, &d).VisitAll(func(fl *flag.Flag) {
		if len(fl.Name) > 1 {
			flagNames = append(flagNames, fl.Name)
		}
	})
}

// parseFlags parses args. Flags may come before or after the positional
// arguments; "--" ends the flags.
func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	var dir *string
	fs := newFlagSet(f, &dir)

	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.help = true
				return f, nil
			}
			return nil, flagError(err, rest)
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
	if len(f.args) > 0 {
		switch f.args[0] {
		case "resume":
			f.resume = true
		case "trust":
			f.trust = true
		case "exec":
			f.exec = true
		case "mcp-server":
			f.mcpServer = true
		}
		if f.resume || f.trust || f.exec || f.mcpServer {
			f.args = f.args[1:]
		}
	}
	if f.exec && len(f.args) > 0 && f.args[0] == "resume" {
		f.resume = true
		f.args = f.args[1:]
	}
	switch {
	case f.last && !f.resume:
		return nil, usagef("--last goes with the resume command: agent resume --last")
	case !f.trust && (f.trustList || f.trustRevoke != nil):
		return nil, usagef("--list and --revoke go with the trust command: agent trust --list, agent trust --revoke PATH")
	case f.trustList && f.trustRevoke != nil:
		return nil, usagef("trust: give --list or --revoke, not both")
	case (f.trustList || f.trustRevoke != nil) && len(f.args) > 0:
		return nil, usagef("trust: unexpected argument %q", f.args[0])
	case f.trustRevoke != nil && *f.trustRevoke == "":
		return nil, usagef("trust: --revoke needs a folder")
	case f.fullAuto && f.dangerouslyBypass:
		return nil, usagef("--full-auto and --dangerously-bypass-approvals-and-sandbox contradict each other: give one")
	case (f.fullAuto || f.dangerouslyBypass) && (f.set.Sandbox != nil || f.set.AskForApproval != nil):
		return nil, usagef("--full-auto and --dangerously-bypass-approvals-and-sandbox set the sandbox and the approval policy: give them without -s/--sandbox and -a/--ask-for-approval")
	}
	switch {
	case f.fullAuto:
		f.set.Sandbox, f.set.AskForApproval = ptr(string(shell.WorkspaceWrite)), ptr(approveOnRequest)
	case f.dangerouslyBypass:
		f.set.Sandbox, f.set.AskForApproval = ptr(string(shell.DangerFullAccess)), ptr(approveNever)
	}
	if err := checkChoice("--sandbox", f.set.Sandbox, sandboxes...); err != nil {
		return nil, err
	}
	if err := checkChoice("--ask-for-approval", f.set.AskForApproval, policies...); err != nil {
		return nil, err
	}
	if err := checkChoice("--reasoning-effort", f.set.ReasoningEffort, reasoningEfforts...); err != nil {
		return nil, err
	}
	if err := checkChoice("--provider", f.set.Provider, providers...); err != nil {
		return nil, err
	}
	if f.set.Model != nil && strings.TrimSpace(*f.set.Model) == "" {
		return nil, usagef("-m/--model needs a model name")
	}
	return f, nil
}

func ptr[T any](v T) *T { return &v }

// flagError rewrites an error of the flag package: the flag as the user
// typed it (the package drops a dash of --flag), and the closest known flag.
func flagError(err error, args []string) error {
	msg := strings.TrimPrefix(err.Error(), "flag ")
	typed := func(name string) string {
		for _, a := range args {
			if a == "--" {
				break
			}
			n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && n == name {
				a, _, _ = strings.Cut(a, "=")
				return a
			}
		}
		return "-" + name
	}
	if name, ok := strings.CutPrefix(msg, "provided but not defined: -"); ok {
		return usagef("unknown flag %s%s", typed(name), didYouMean(name, flagNames))
	}
	if name, ok := strings.CutPrefix(msg, "needs an argument: -"); ok {
		return usagef("%s needs a value", typed(name))
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		// invalid value "x" for flag -name: reason
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			name, reason, _ := strings.Cut(rest[i+len(" for flag -"):], ": ")
			return usagef("%s: %s", typed(name), reason)
		}
	}
	return usagef("%s", msg)
}

// didYouMean returns ` (did you mean --x?)` for the candidate closest to
// name, or "" when none is close.
func didYouMean(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(name, c)
		if strings.HasPrefix(c, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(name)/3) {
		return ""
	}
	if slices.Contains(flagNames, best) && slices.Equal(candidates, flagNames) {
		return " (did you mean --" + best + "?)"
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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
