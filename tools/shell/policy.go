package shell

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/agentloop/agentloop/tools"
)

// maxDepth bounds how deep scripts inside scripts (bash -c, eval, sudo,
// xargs, find -exec) are followed; deeper nesting asks.
const maxDepth = 8

// Policy decides whether a command runs without asking, asks the agent's
// approver, or is refused.
//
// A command line is parsed with a real shell parser into the simple
// commands it runs: every command of a chain, pipeline, subshell, loop,
// command or process substitution and here-document, the commands run by
// wrappers (sudo, env, timeout, nice, nohup, xargs, find -exec, ...) and the
// scripts given to bash -c, sh -c and eval. Each is judged:
//
//   - a command matching a Deny prefix is refused, and one refused command
//     refuses the whole call (deny wins);
//   - a command matching an Allow prefix runs without asking;
//   - a command of the built-in read-only list runs without asking: ls, cat,
//     head, tail, wc, grep, rg (without --pre), find (without -exec of a
//     command that is not itself read-only, -delete or -fprint), sed
//     (without -i, w or e), sort (without -o), git status, diff, log, show,
//     blame, grep, ls-files, rev-parse and other read-only git commands,
//     pwd, echo, printf, cd, and others of their kind;
//   - anything else asks.
//
// Whatever the commands, a call also asks when it writes a file through a
// redirection (other than /dev/null), runs a command whose name is computed
// ($(...), variables, globs), gives a command an environment variable that
// can change what programs run (PATH, LD_PRELOAD, GIT_*, ...; locale and
// lowercase variables are fine), defines a function, uses sudo, or cannot
// be parsed.
//
// The policy does not sandbox: it decides what to ask about. Pair it with a
// sandboxed [Executor]. Read-only git commands trust the repository's own
// configuration, which can name programs git runs (core.fsmonitor,
// core.pager, diff.external); the sandbox still confines them.
//
// A nil *Policy is the default policy: no user rules. A Policy is
// immutable and safe for concurrent use.
type Policy struct {
	allow, deny [][]string
	noSafe      bool
}

// PolicyOptions configures [NewPolicy].
type PolicyOptions struct {
	// Allow and Deny are argv prefixes of plain words, e.g. "go test",
	// "git push", "rm -rf". A prefix matches a command whose first words
	// are exactly these. Deny rules also match a command run through a
	// path ("/bin/rm" for "rm").
	Allow []string
	Deny  []string
	// NoSafeList makes the built-in read-only commands ask too.
	NoSafeList bool
}

// NewPolicy returns a policy with the user's rules. It returns an error for
// an empty rule or one that is not plain words (quotes, $, globs,
// operators). A nil opts is the default policy.
func NewPolicy(opts *PolicyOptions) (*Policy, error) {
	p := &Policy{}
	if opts == nil {
		return p, nil
	}
	p.noSafe = opts.NoSafeList
	for _, list := range []struct {
		dst  *[][]string
		src  []string
		kind string
	}{{&p.allow, opts.Allow, "allow"}, {&p.deny, opts.Deny, "deny"}} {
		for _, r := range list.src {
			words := strings.Fields(r)
			if len(words) == 0 {
				return nil, fmt.Errorf("shell: empty %s rule", list.kind)
			}
			if strings.ContainsAny(r, "\"'`$\\;&|<>(){}*?[]#~=") {
				return nil, fmt.Errorf("shell: %s rule %q: write a command prefix of plain words", list.kind, r)
			}
			*list.dst = append(*list.dst, words)
		}
	}
	return p, nil
}

// Verdict is a policy's decision on a command.
type Verdict struct {
	Decision tools.Decision
	// Reason says why the command asks or is refused; empty when allowed.
	Reason string
	// Key is what "approve always" remembers: "shell:" and the argv prefix
	// of every command that asks (joined by " && " when several do), for
	// example "shell:git commit" or "shell:rm". The prefix is the first
	// word, or the first two for commands with subcommands (git, go, npm,
	// cargo, docker, make, ...) and interpreters (python script.py). It is
	// empty when the call cannot be remembered safely: a write redirection,
	// sudo, a computed command name, a risky environment variable, or
	// flags where a subcommand was expected.
	Key string
}

// Check judges one shell command line.
func (p *Policy) Check(line string) Verdict { return p.CheckLines([]string{line}) }

// CheckLines judges the command lines of one call together: the call is
// refused if any command is, asks if any command asks, and runs otherwise.
func (p *Policy) CheckLines(lines []string) Verdict {
	c := newChecker(p)
	for _, l := range lines {
		c.script(l)
	}
	return c.verdict()
}

// CheckArgv judges an argv executed directly (a local_shell_call). An argv
// that runs a shell script (bash -c "...") is judged by that script.
func (p *Policy) CheckArgv(argv []string) Verdict {
	c := newChecker(p)
	words := make([]arg, len(argv))
	for i, a := range argv {
		words[i] = arg{s: a, lit: true}
	}
	if len(words) == 0 {
		c.ask("", "empty command")
	}
	c.command(words)
	return c.verdict()
}

// arg is one word of a command: its value when it is a literal, else its
// source text.
type arg struct {
	s   string
	lit bool
}

// unknownArg stands for arguments only known when the command runs (xargs
// input, find's {}).
var unknownArg = arg{s: "…", lit: false}

type checker struct {
	p       *Policy
	denies  []string
	asks    []string
	keys    []string
	noKey   bool
	depth   int
	printer *syntax.Printer
}

func newChecker(p *Policy) *checker {
	if p == nil {
		p = &Policy{}
	}
	return &checker{p: p, printer: syntax.NewPrinter()}
}

func (c *checker) ask(key, format string, a ...any) {
	c.asks = append(c.asks, fmt.Sprintf(format, a...))
	if key == "" {
		c.noKey = true
	} else {
		c.keys = append(c.keys, key)
	}
}

func (c *checker) deny(format string, a ...any) {
	c.denies = append(c.denies, fmt.Sprintf(format, a...))
}

func (c *checker) verdict() Verdict {
	uniq := func(s []string) []string {
		out := []string{}
		for _, x := range s {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
		return out
	}
	switch {
	case len(c.denies) > 0:
		return Verdict{Decision: tools.Deny, Reason: strings.Join(uniq(c.denies), "; ")}
	case len(c.asks) > 0:
		v := Verdict{Decision: tools.Ask, Reason: strings.Join(uniq(c.asks), "; ")}
		if !c.noKey {
			keys := uniq(c.keys)
			slices.Sort(keys)
			v.Key = "shell:" + strings.Join(keys, " && ")
		}
		return v
	}
	return Verdict{Decision: tools.Allow}
}

// script parses src and judges everything it runs.
func (c *checker) script(src string) {
	if c.depth >= maxDepth {
		c.ask("", "scripts nested too deeply")
		return
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		c.ask("", "the command could not be parsed (%v)", err)
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CallExpr:
			c.callExpr(n)
		case *syntax.Redirect:
			c.redirect(n)
		case *syntax.FuncDecl:
			c.ask("", "defines a shell function")
		case *syntax.DeclClause:
			for _, a := range n.Args {
				if a.Name != nil && !harmlessVar(a.Name.Value) {
					c.ask("", "%s sets %s", n.Variant.Value, a.Name.Value)
				}
			}
		case *syntax.CoprocClause:
			c.ask("", "starts a coprocess")
		case *syntax.TestDecl:
			c.ask("", "declares a test")
		}
		return true // substitutions inside are judged as the walk reaches them
	})
}

func (c *checker) source(n syntax.Node) string {
	var b strings.Builder
	_ = c.printer.Print(&b, n)
	return b.String()
}

func (c *checker) callExpr(n *syntax.CallExpr) {
	for _, a := range n.Assigns {
		if a.Name != nil && !harmlessVar(a.Name.Value) {
			if len(n.Args) == 0 {
				c.ask("", "sets %s", a.Name.Value)
			} else {
				c.ask("", "runs a command with %s set", a.Name.Value)
			}
		}
	}
	if len(n.Args) == 0 {
		return
	}
	words := make([]arg, len(n.Args))
	for i, w := range n.Args {
		if s, ok := literal(w); ok {
			words[i] = arg{s: s, lit: true}
		} else {
			words[i] = arg{s: c.source(w)}
		}
	}
	c.command(words)
}

// redirect asks for redirections that write to a file.
func (c *checker) redirect(r *syntax.Redirect) {
	switch r.Op {
	case syntax.RdrOut, syntax.AppOut, syntax.RdrInOut, syntax.RdrClob, syntax.AppClob,
		syntax.RdrAll, syntax.AppAll, syntax.RdrAllClob, syntax.AppAllClob:
	case syntax.DplOut:
		if s, ok := literal(r.Word); ok && (s == "-" || isDigits(s)) {
			return // >&2, >&-
		}
	default:
		return // reads and here-documents
	}
	target, ok := literal(r.Word)
	if ok && (target == "/dev/null" || target == "/dev/stdout" || target == "/dev/stderr") {
		return
	}
	if !ok {
		target = c.source(r.Word)
	}
	c.ask("", "writes to %s", target)
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// literal returns the value of a word that needs no expansion: plain text
// and quoted text. Words with parameters, substitutions, globs or brace
// expansions are not literal.
func literal(w *syntax.Word) (string, bool) {
	if w == nil {
		return "", false
	}
	if s := w.Lit(); s == "[" || s == "]" || s == "[[" || s == "]]" {
		return s, true
	}
	var b strings.Builder
	for i, part := range w.Parts {
		switch p := part.(type) {
		case *syntax.Lit:
			v := p.Value
			if strings.ContainsAny(v, "*?[") || braceExpansion.MatchString(v) ||
				(i == 0 && strings.HasPrefix(v, "~")) {
				return "", false
			}
			b.WriteString(unescape(v, ""))
		case *syntax.SglQuoted:
			if p.Dollar && strings.Contains(p.Value, `\`) {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false
			}
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				b.WriteString(unescape(l.Value, "$`\"\\\n"))
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// braceExpansion matches text bash expands as {a,b} or {1..3}.
var braceExpansion = regexp.MustCompile(`\{[^{}]*(,|\.\.)[^{}]*\}`)

// unescape removes backslash escapes: any character when special is "",
// else only the characters in special (inside double quotes). A backslash
// before a newline joins lines.
func unescape(s, special string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (special == "" || strings.IndexByte(special, s[i+1]) >= 0) {
			i++
			if s[i] == '\n' {
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// harmlessVar reports whether setting the variable cannot change which
// programs run or how they are configured: locale and display variables,
// and lowercase names (shell locals by convention).
func harmlessVar(name string) bool {
	if strings.ToLower(name) == name && name != "" && !strings.HasPrefix(name, "ld_") {
		return true
	}
	switch name {
	case "LANG", "LANGUAGE", "TZ", "NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE",
		"TERM", "COLUMNS", "LINES", "COLORTERM":
		return true
	}
	return strings.HasPrefix(name, "LC_")
}

// matchRule reports whether rule matches the start of argv for sure, or
// might (a word there is only known when the command runs).
func matchRule(rule []string, argv []arg, byBase bool) (sure, maybe bool) {
	if len(argv) < len(rule) {
		return false, false
	}
	sure = true
	for i, r := range rule {
		a := argv[i]
		if !a.lit {
			sure = false
			continue
		}
		s := a.s
		if i == 0 && byBase {
			s = path.Base(s)
		}
		if s != r {
			return false, false
		}
	}
	return sure, !sure
}

// command judges one simple command.
func (c *checker) command(words []arg) {
	if len(words) == 0 {
		return
	}
	if c.depth > maxDepth {
		c.ask("", "commands nested too deeply")
		return
	}
	name := words[0]
	if !name.lit {
		c.ask("", "runs a command whose name is computed (%s)", name.s)
		return
	}
	norm := normalize(words)
	for _, r := range c.p.deny {
		sure, maybe := matchRule(r, norm, true)
		if sure {
			c.deny("%q is denied by the rule %q", display(words), strings.Join(r, " "))
			return
		}
		if maybe {
			c.ask("", "%q may match the deny rule %q", display(words), strings.Join(r, " "))
		}
	}
	allowed := false
	for _, r := range c.p.allow {
		if sure, _ := matchRule(r, norm, false); sure {
			allowed = true
		}
	}
	c.depth++
	defer func() { c.depth-- }()
	if c.wrapper(words, allowed) {
		return
	}
	if allowed {
		return
	}
	if !c.p.noSafe {
		if why, known := c.readOnly(norm); known {
			if why != "" {
				c.ask(keyFor(norm), "%s", why)
			}
			return
		}
	}
	c.ask(keyFor(norm), "%s is not a known read-only command", display(norm[:min(len(norm), 2)]))
}

func display(words []arg) string {
	s := make([]string, len(words))
	for i, w := range words {
		s[i] = w.s
	}
	return strings.Join(s, " ")
}

// normalize drops git's global options that do not change what runs, so
// rules and keys see "git commit" in "git -C dir --no-pager commit".
func normalize(words []arg) []arg {
	if !words[0].lit || words[0].s != "git" {
		return words
	}
	out := []arg{words[0]}
	i := 1
	for ; i < len(words); i++ {
		w := words[i]
		if !w.lit {
			break
		}
		switch {
		case w.s == "-C" && i+1 < len(words):
			i++
			continue
		case w.s == "--no-pager", w.s == "-P", w.s == "--no-optional-locks", w.s == "--literal-pathspecs",
			w.s == "--no-replace-objects", w.s == "--bare",
			strings.HasPrefix(w.s, "--git-dir="), strings.HasPrefix(w.s, "--work-tree="):
			continue
		}
		break
	}
	return append(out, words[i:]...)
}

// multiLevel are commands whose approval key includes the subcommand.
var multiLevel = map[string]bool{
	"git": true, "go": true, "npm": true, "npx": true, "yarn": true, "pnpm": true, "bun": true, "deno": true,
	"cargo": true, "rustup": true, "docker": true, "podman": true, "kubectl": true, "helm": true,
	"make": true, "gh": true, "pip": true, "pip3": true, "uv": true, "poetry": true, "apt": true,
	"apt-get": true, "brew": true, "dotnet": true, "mvn": true, "gradle": true, "./gradlew": true,
	"terraform": true, "systemctl": true, "conda": true, "gem": true, "bundle": true, "rake": true,
	"composer": true, "swift": true, "nix": true, "aws": true, "gcloud": true, "az": true, "just": true,
	"tox": true, "nox": true, "pdm": true, "hatch": true,
}

// interpreters run the script named by their second word; without one they
// run whatever arrives on stdin, which cannot be approved for good.
var interpreters = map[string]bool{
	"python": true, "python3": true, "node": true, "ruby": true, "perl": true, "php": true,
	"bash": true, "sh": true, "zsh": true, "dash": true, "ksh": true, "source": true, ".": true,
}

// keyFor returns the argv prefix that approve-always remembers for a
// command that asks, or "" if it cannot be remembered safely.
func keyFor(norm []arg) string {
	name := norm[0].s
	words := []string{name}
	if interpreters[name] && len(norm) == 1 {
		return ""
	}
	if (multiLevel[name] || interpreters[name]) && len(norm) > 1 {
		a := norm[1]
		switch {
		case strings.HasPrefix(name, "python") && a.lit && a.s == "-m" && len(norm) > 2 && norm[2].lit:
			words = append(words, "-m", norm[2].s)
		case !a.lit || strings.HasPrefix(a.s, "-"):
			return ""
		default:
			words = append(words, a.s)
		}
	}
	return strings.Join(words, " ")
}
