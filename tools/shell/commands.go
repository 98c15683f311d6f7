package shell

import (
	"slices"
	"strings"
)

// This file is the policy's knowledge of particular commands: the wrappers
// that run another command, and the read-only commands.

// wrapper judges commands that run other commands (sudo, env, timeout,
// xargs, bash -c, eval, ...) by what they run. It reports whether words was
// such a command. allowed says a user rule allows the wrapper itself.
func (c *checker) wrapper(words []arg, allowed bool) bool {
	name := words[0].s
	args := words[1:]
	switch name {
	case "sudo", "doas":
		if !allowed {
			c.ask("", "runs with elevated privileges (%s)", name)
		}
		inner := skipOptions(args, "ugCDhprtUT", nil)
		if len(inner) == 0 || (len(args) > 0 && hasAnyFlag(args, "-s", "-i", "--shell", "--login", "-e", "--edit")) {
			c.ask("", "%s without a plain command", name)
			return true
		}
		c.command(inner)
	case "env":
		i := 0
		for ; i < len(args); i++ {
			a := args[i]
			if !a.lit {
				c.ask("", "env with computed arguments")
				return true
			}
			switch {
			case a.s == "-u" || a.s == "-C" || a.s == "--unset" || a.s == "--chdir":
				i++
			case a.s == "-S" || strings.HasPrefix(a.s, "--split-string") || strings.HasPrefix(a.s, "-S"):
				c.ask("", "env -S splits a command line")
				return true
			case strings.HasPrefix(a.s, "-"):
			case strings.Contains(a.s, "="):
				n, _, _ := strings.Cut(a.s, "=")
				if !harmlessVar(n) {
					c.ask("", "runs a command with %s set", n)
				}
			default:
				c.command(args[i:])
				return true
			}
		}
		// env alone prints the environment.
	case "timeout":
		inner := skipOptions(args, "sk", []string{"--signal", "--kill-after"})
		if len(inner) > 0 {
			inner = inner[1:] // the duration
		}
		c.innerOrAsk(name, inner)
	case "nice":
		c.innerOrAsk(name, skipOptions(args, "n", []string{"--adjustment"}))
	case "nohup", "builtin":
		c.innerOrAsk(name, args)
	case "stdbuf":
		c.innerOrAsk(name, skipOptions(args, "ioe", []string{"--input", "--output", "--error"}))
	case "ionice":
		if hasAnyFlag(args, "-p", "-P", "-u", "--pid", "--pgid", "--uid") {
			return false
		}
		c.innerOrAsk(name, skipOptions(args, "cnt", []string{"--class", "--classdata"}))
	case "exec":
		if inner := skipOptions(args, "a", nil); len(inner) > 0 {
			c.command(inner)
		}
	case "command":
		if hasAnyFlag(args, "-v", "-V") {
			return true // looks a command up
		}
		c.innerOrAsk(name, skipOptions(args, "", nil))
	case "time":
		if hasAnyFlag(args, "-o", "--output", "-a", "--append") || hasPrefixFlag(args, "--output=") {
			c.ask("", "time -o writes a file")
		}
		c.innerOrAsk(name, skipOptions(args, "fo", []string{"--format", "--output"}))
	case "xargs":
		inner := skipOptions(args, "ILnPsdEaeil", []string{"--arg-file", "--delimiter", "--max-args",
			"--max-procs", "--max-chars", "--max-lines", "--replace", "--eof", "--process-slot-var"})
		if len(inner) == 0 {
			inner = []arg{{s: "echo", lit: true}}
		}
		c.command(append(slices.Clone(inner), unknownArg))
	case "bash", "sh", "zsh", "dash", "ksh", "mksh":
		for i, a := range args {
			if !a.lit {
				break
			}
			if a.s == "--" || !strings.HasPrefix(a.s, "-") && !strings.HasPrefix(a.s, "+") {
				break
			}
			if !strings.HasPrefix(a.s, "--") && strings.Contains(a.s, "c") {
				if i+1 >= len(args) || !args[i+1].lit {
					c.ask("", "%s -c with a computed script", name)
					return true
				}
				c.script(args[i+1].s)
				return true
			}
		}
		return false // a script file or stdin: asks as an unknown command
	case "trap":
		// The handler is a script run later: judge it now.
		if len(args) > 0 && args[0].lit && !strings.HasPrefix(args[0].s, "-") {
			c.script(args[0].s)
		} else if len(args) > 0 && !args[0].lit {
			c.ask("", "trap with a computed handler")
		}
	case "eval":
		var parts []string
		for _, a := range args {
			if !a.lit {
				c.ask("", "eval of a computed string")
				return true
			}
			parts = append(parts, a.s)
		}
		c.script(strings.Join(parts, " "))
	default:
		return false
	}
	return true
}

func (c *checker) innerOrAsk(name string, inner []arg) {
	if len(inner) == 0 {
		c.ask("", "%s without a command", name)
		return
	}
	c.command(inner)
}

// skipOptions returns args after the leading options. Short options whose
// letter is in withValue, and the long options in long (unless written
// --opt=value), take the next argument as their value.
func skipOptions(args []arg, withValue string, long []string) []arg {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.lit || !strings.HasPrefix(a.s, "-") || a.s == "-" {
			return args[i:]
		}
		if a.s == "--" {
			return args[i+1:]
		}
		if strings.HasPrefix(a.s, "--") {
			if slices.Contains(long, a.s) {
				i++
			}
			continue
		}
		// A short cluster: a value letter at the end takes the next arg.
		last := a.s[len(a.s)-1:]
		if len(a.s) == 2 && strings.Contains(withValue, last) {
			i++
		}
	}
	return nil
}

func hasAnyFlag(args []arg, flags ...string) bool {
	for _, a := range args {
		if a.lit && slices.Contains(flags, a.s) {
			return true
		}
	}
	return false
}

func hasPrefixFlag(args []arg, prefixes ...string) bool {
	for _, a := range args {
		for _, p := range prefixes {
			if a.lit && strings.HasPrefix(a.s, p) {
				return true
			}
		}
	}
	return false
}

// pureReadOnly are commands that cannot write files or run other programs
// whatever their arguments.
var pureReadOnly = map[string]bool{
	"ls": true, "cat": true, "head": true, "tail": true, "wc": true, "grep": true, "egrep": true,
	"fgrep": true, "pwd": true, "echo": true, "printf": true, "true": true, "false": true, "test": true,
	"[": true, ":": true, "which": true, "whoami": true, "id": true, "uname": true, "stat": true,
	"du": true, "df": true, "basename": true, "dirname": true, "realpath": true, "readlink": true,
	"nl": true, "cut": true, "tr": true, "diff": true, "cmp": true, "comm": true, "printenv": true,
	"seq": true, "sleep": true, "cd": true, "pushd": true, "popd": true, "dirs": true, "type": true,
	"rev": true, "tac": true, "od": true, "hexdump": true, "md5sum": true, "sha1sum": true,
	"sha256sum": true, "sha512sum": true, "b2sum": true, "cksum": true, "jq": true, "strings": true,
	"nproc": true, "arch": true, "groups": true, "expr": true, "ps": true, "free": true, "uptime": true,
	"column": true, "fold": true, "locale": true, "tty": true, "wait": true, "exit": true,
	"return": true, "shift": true, "break": true, "continue": true, "set": true, "read": true,
	"paste": true, "join": true, "fmt": true, "expand": true, "unexpand": true, "look": true,
	"getconf": true, "lsb_release": true,
}

// readOnly judges the commands of the built-in read-only list. It returns
// known=false for other commands, and a reason to ask when a known
// command's arguments make it write or run something.
func (c *checker) readOnly(w []arg) (why string, known bool) {
	name, args := w[0].s, w[1:]
	if pureReadOnly[name] {
		return "", true
	}
	literalArgs := func() bool {
		for _, a := range args {
			if !a.lit {
				return false
			}
		}
		return true
	}
	positional := func() []string {
		var out []string
		for _, a := range args {
			if !strings.HasPrefix(a.s, "-") || a.s == "-" {
				out = append(out, a.s)
			}
		}
		return out
	}
	switch name {
	case "find":
		return c.find(args), true
	case "git":
		return gitReadOnly(args), true
	case "sed":
		return sedReadOnly(args), true
	case "rg":
		if !literalArgs() {
			return "rg with computed arguments may run a program (--pre)", true
		}
		if hasAnyFlag(args, "--pre", "--pre-glob") || hasPrefixFlag(args, "--pre=", "--pre-glob=") {
			return "rg --pre runs a program on every file", true
		}
		return "", true
	case "sort":
		if !literalArgs() {
			return "sort with computed arguments may write a file (-o)", true
		}
		for _, a := range args {
			if a.s == "--output" || strings.HasPrefix(a.s, "--output=") || strings.HasPrefix(a.s, "--compress-program") ||
				(strings.HasPrefix(a.s, "-") && !strings.HasPrefix(a.s, "--") && strings.Contains(a.s, "o")) {
				return "sort -o writes a file", true
			}
		}
		return "", true
	case "uniq", "xxd":
		if !literalArgs() || len(positional()) > 1 {
			return name + " with an output file writes it", true
		}
		return "", true
	case "tee":
		for _, a := range args {
			if !a.lit || !strings.HasPrefix(a.s, "-") && a.s != "/dev/null" && a.s != "/dev/stdout" && a.s != "/dev/stderr" {
				return "tee writes files", true
			}
		}
		return "", true
	case "tree":
		if hasAnyFlag(args, "-o") || !literalArgs() {
			return "tree -o writes a file", true
		}
		return "", true
	case "file":
		if hasAnyFlag(args, "-C", "--compile") {
			return "file -C writes a file", true
		}
		return "", true
	case "date":
		if !literalArgs() {
			return "date with computed arguments may set the clock", true
		}
		for i, a := range args {
			prev := ""
			if i > 0 {
				prev = args[i-1].s
			}
			if strings.HasPrefix(a.s, "-s") || strings.HasPrefix(a.s, "--set") ||
				(!strings.HasPrefix(a.s, "-") && !strings.HasPrefix(a.s, "+") && !slices.Contains([]string{"-d", "--date", "-r", "--reference", "-f", "--file"}, prev)) {
				return "date may set the clock", true
			}
		}
		return "", true
	case "hostname":
		for _, a := range args {
			if !a.lit || !strings.HasPrefix(a.s, "-") {
				return "hostname NAME sets the host name", true
			}
		}
		return "", true
	case "go":
		if len(args) == 0 {
			return "", true
		}
		switch args[0].s {
		case "version", "doc":
			return "", true
		case "env":
			if hasAnyFlag(args, "-w", "-u") || !literalArgs() {
				return "go env -w changes the Go configuration", true
			}
			return "", true
		}
		return "", false
	}
	return "", false
}

// find judges find's actions: -exec and -ok run their command (judged in
// turn), -delete and -fprint* write.
func (c *checker) find(args []arg) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.lit {
			return "find with computed arguments may delete or run commands"
		}
		switch a.s {
		case "-exec", "-execdir", "-ok", "-okdir":
			j := i + 1
			for j < len(args) && !(args[j].lit && (args[j].s == ";" || args[j].s == "+")) {
				j++
			}
			inner := slices.Clone(args[i+1 : j])
			for k := range inner {
				if inner[k].lit && strings.Contains(inner[k].s, "{}") {
					inner[k] = unknownArg
				}
			}
			if len(inner) == 0 {
				return "find " + a.s + " without a command"
			}
			c.command(inner)
			i = j
		case "-delete", "-fprint", "-fprint0", "-fprintf", "-fls":
			return "find " + a.s + " writes or deletes files"
		}
	}
	return ""
}

// gitReadOnly returns "" for read-only git commands, else why it asks.
func gitReadOnly(args []arg) string {
	for _, a := range args {
		if !a.lit {
			return "git with computed arguments"
		}
		if a.s == "--output" || strings.HasPrefix(a.s, "--output=") || a.s == "-O" || strings.HasPrefix(a.s, "--open-files-in-pager") {
			return "git " + a.s + " writes a file or runs a pager"
		}
	}
	if len(args) == 0 {
		return ""
	}
	sub, rest := args[0].s, args[1:]
	if sub == "-c" || strings.HasPrefix(sub, "--config-env") {
		return "git -c changes configuration for the command"
	}
	only := func(allowed ...string) bool {
		for _, a := range rest {
			if !slices.Contains(allowed, a.s) && !strings.HasPrefix(a.s, "--sort=") && !strings.HasPrefix(a.s, "--format=") {
				return false
			}
		}
		return true
	}
	ok := false
	switch sub {
	case "status", "diff", "log", "show", "blame", "annotate", "ls-files", "ls-tree", "rev-parse",
		"describe", "shortlog", "cat-file", "rev-list", "merge-base", "name-rev", "grep",
		"count-objects", "whatchanged", "show-ref", "for-each-ref", "check-ignore", "check-attr",
		"version", "--version", "var", "show-branch", "cherry", "range-diff", "diff-tree", "diff-files", "diff-index":
		ok = true
	case "branch":
		ok = only("-a", "-r", "-v", "-vv", "--all", "--remotes", "--list", "-l", "--show-current", "--verbose", "--no-color", "--color", "--merged", "--no-merged")
	case "tag":
		ok = len(rest) == 0 || hasAnyFlag(rest, "-l", "--list") && !hasAnyFlag(rest, "-d", "--delete", "-a", "-s", "-f", "-m", "-F", "-u", "--annotate", "--sign", "--force")
	case "remote":
		ok = only("-v", "--verbose") || len(rest) > 0 && (rest[0].s == "get-url" || rest[0].s == "show")
	case "stash", "worktree":
		ok = len(rest) > 0 && (rest[0].s == "list" || sub == "stash" && rest[0].s == "show")
	case "submodule":
		ok = len(rest) > 0 && rest[0].s == "status"
	case "reflog":
		ok = len(rest) == 0 || rest[0].s == "show"
	case "config":
		ok = hasAnyFlag(rest, "--get", "--get-all", "--get-regexp", "--list", "-l") &&
			!hasAnyFlag(rest, "--add", "--unset", "--unset-all", "--replace-all", "--rename-section", "--remove-section", "-e", "--edit")
	}
	if ok {
		return ""
	}
	return "git " + sub + " may change the repository"
}

// sedReadOnly returns "" when sed only prints: no -i, no script file, and
// scripts without the w, W and e commands or the s///w and s///e flags.
func sedReadOnly(args []arg) string {
	var scripts []string
	explicit := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !a.lit {
			return "sed with computed arguments"
		}
		s := a.s
		switch {
		case s == "--":
			i = len(args)
		case strings.HasPrefix(s, "--in-place"), strings.HasPrefix(s, "--file"):
			return "sed " + s + " edits files or reads a script file"
		case strings.HasPrefix(s, "--expression="):
			scripts, explicit = append(scripts, strings.TrimPrefix(s, "--expression=")), true
		case s == "--expression":
			if i+1 < len(args) {
				scripts, explicit = append(scripts, args[i+1].s), true
				i++
			}
		case s == "--line-length":
			i++
		case strings.HasPrefix(s, "--"):
		case strings.HasPrefix(s, "-") && len(s) > 1:
			for k := 1; k < len(s); k++ {
				switch s[k] {
				case 'i', 'f':
					return "sed -" + string(s[k]) + " edits files or reads a script file"
				case 'e':
					explicit = true
					if k+1 < len(s) {
						scripts = append(scripts, s[k+1:])
					} else if i+1 < len(args) {
						scripts = append(scripts, args[i+1].s)
						i++
					}
					k = len(s)
				case 'l':
					if k+1 == len(s) {
						i++
					}
					k = len(s)
				}
			}
		default:
			if !explicit {
				scripts, explicit = append(scripts, s), true
			}
		}
	}
	for _, sc := range scripts {
		if !sedScriptReadOnly(sc) {
			return "the sed script may write files or run commands"
		}
	}
	return ""
}
