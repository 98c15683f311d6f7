package shell

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// DefaultEnvExclude lists the patterns of environment variable names that
// are not passed to commands unless [Executor.EnvExclude] is set: secrets
// and the credentials of model providers. Patterns are [path.Match] globs,
// matched case-insensitively against the whole name.
var DefaultEnvExclude = []string{
	"*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*", "*COOKIE*",
	"OPENAI_*", "SGP_*", "ANTHROPIC_*", "AZURE_OPENAI_*",
}

// envFilter decides which variables of the base environment a command sees.
type envFilter struct {
	include, exclude []string // upper-cased patterns
}

func newEnvFilter(include, exclude []string) (envFilter, error) {
	if exclude == nil {
		exclude = DefaultEnvExclude
	}
	var f envFilter
	for _, list := range []struct {
		dst *[]string
		src []string
	}{{&f.include, include}, {&f.exclude, exclude}} {
		for _, p := range list.src {
			up := strings.ToUpper(p)
			if _, err := path.Match(up, ""); err != nil {
				return envFilter{}, fmt.Errorf("env pattern %q: %w", p, err)
			}
			*list.dst = append(*list.dst, up)
		}
	}
	return f, nil
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// keep reports whether the variable called name is passed on.
func (f envFilter) keep(name string) bool {
	up := strings.ToUpper(name)
	if len(f.include) > 0 && !matchAny(f.include, up) {
		return false
	}
	return !matchAny(f.exclude, up)
}

// filter returns base filtered by f, sorted by name, without duplicate
// names (a later duplicate wins, as in the kernel's getenv).
func (f envFilter) filter(base []string) []string {
	m := make(map[string]string, len(base))
	for _, kv := range base {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || !f.keep(k) {
			continue
		}
		m[k] = v
	}
	return sortedEnv(m)
}

// merge returns env (sorted, from filter) with set on top; set wins and
// is not filtered.
func merge(env []string, set map[string]string) []string {
	if len(set) == 0 {
		return env
	}
	m := make(map[string]string, len(env)+len(set))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	for k, v := range set {
		m[k] = v
	}
	return sortedEnv(m)
}

func sortedEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// validEnvName reports whether name can be a variable name in an exec'd
// environment: non-empty, without '=' or NUL.
func validEnvName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "=\x00")
}

// withoutVar returns env without the variable name.
func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
