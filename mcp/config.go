package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Config is a set of MCP servers in the JSON format other MCP clients keep:
//
//	{"mcpServers": {
//	  "files": {"command": "node", "args": ["server.js", "${HOME}/src"], "env": {"TOKEN": "${TOKEN}"}},
//	  "docs":  {"url": "https://docs.example.test/mcp", "headers": {"Authorization": "Bearer ${DOCS_KEY}"}},
//	  "old":   {"type": "sse", "url": "http://127.0.0.1:3001/sse", "enabled": false}
//	}}
//
// Keys this package does not know are ignored, so one file can serve several
// clients. Build one with [ParseConfig] or [LoadConfig], or fill it in Go.
type Config struct {
	Servers map[string]ServerConfig `json:"mcpServers"`
}

// Transport names of [ServerConfig.Type].
const (
	TransportStdio = "stdio"
	TransportHTTP  = "http" // streamable HTTP
	TransportSSE   = "sse"  // the legacy HTTP+SSE transport
)

// ServerConfig is one server of a [Config]. A server is either a command
// speaking MCP on stdin/stdout (Command set) or a remote server (URL set).
type ServerConfig struct {
	// Type is "stdio", "http" (streamable HTTP; "streamable-http" and
	// "streamableHttp" are accepted) or "sse". Empty means stdio when Command
	// is set and http when URL is set.
	Type string `json:"type,omitempty"`

	// Command is the server's program. A name without a slash is looked up
	// in the PATH of the server's environment (or, without one there, in
	// this process's PATH); a relative path is relative to Cwd.
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"` // added to [Options.Env]
	Cwd     string            `json:"cwd,omitempty"` // empty: [Options.Root], else the current directory

	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`

	// Enabled false leaves the server out. Nil means enabled. The key
	// "disabled": true, which other clients use, is accepted too.
	Enabled *bool `json:"enabled,omitempty"`

	// AllowedTools and DeniedTools are doublestar patterns matched against
	// the server's own tool names. A tool is offered to the model when it
	// matches an allowed pattern (or AllowedTools is empty) and no denied
	// pattern.
	AllowedTools []string `json:"allowedTools,omitempty"`
	DeniedTools  []string `json:"deniedTools,omitempty"`

	// StartupTimeout bounds starting and initialising the server; CallTimeout
	// bounds each tool call. Zero means the [Options] default. In JSON either
	// a Go duration string ("90s") or a number of milliseconds.
	StartupTimeout Duration `json:"startupTimeout,omitzero"`
	CallTimeout    Duration `json:"callTimeout,omitzero"`

	// Approval says which calls need a person's approval.
	Approval ApprovalPolicy `json:"approval,omitzero"`

	// Instructions false leaves the server's instructions out of
	// [Set.Instructions]. Nil means included.
	Instructions *bool `json:"instructions,omitempty"`
}

// Duration is a [time.Duration] that reads a Go duration string or a number
// of milliseconds from JSON, and writes a duration string.
type Duration time.Duration

// UnmarshalJSON accepts "1m30s" or 90000.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q (want a Go duration such as \"30s\", or milliseconds)", s)
		}
		if v < 0 {
			return fmt.Errorf("negative duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("invalid duration %s (want a Go duration such as \"30s\", or milliseconds)", b)
	}
	if ms < 0 || ms > float64(1<<62)/1e6 {
		return fmt.Errorf("duration %s out of range", b)
	}
	*d = Duration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// ApprovalPolicy decides which calls of a server's tools ask the agent's
// approver before they run. The rules apply in this order, first match wins:
// a tool matching Always asks; a tool matching Never runs without asking;
// with Annotations, a tool whose destructiveHint is true asks and one whose
// readOnlyHint is true runs without asking; otherwise Mode decides.
//
// Patterns are doublestar patterns matched against the server's own tool
// names. The zero policy asks for every call.
type ApprovalPolicy struct {
	// Mode is "ask" (the default: every call asks) or "never" (no call
	// asks). "always" is accepted as a synonym of "ask".
	Mode   string   `json:"mode,omitempty"`
	Always []string `json:"always,omitempty"`
	Never  []string `json:"never,omitempty"`
	// Annotations honours the server's readOnlyHint and destructiveHint.
	// Hints come from the server, so enable this only for servers you trust.
	Annotations bool `json:"annotations,omitempty"`
}

// Approval modes of [ApprovalPolicy.Mode].
const (
	ApprovalAsk   = "ask"
	ApprovalNever = "never"
)

// ConfigError reports a malformed server entry.
type ConfigError struct {
	Server string // the server's name; empty for errors of the whole file
	Field  string // the JSON field, such as "args[1]" or "headers.Authorization"
	Err    error
}

func (e *ConfigError) Error() string {
	switch {
	case e.Server == "" && e.Field == "":
		return "mcp config: " + e.Err.Error()
	case e.Server == "":
		return fmt.Sprintf("mcp config: %s: %v", e.Field, e.Err)
	case e.Field == "":
		return fmt.Sprintf("mcp config: server %q: %v", e.Server, e.Err)
	}
	return fmt.Sprintf("mcp config: server %q: field %s: %v", e.Server, e.Field, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LookupFunc returns the value of a variable named in a ${VAR} reference,
// like [os.LookupEnv]. This package never reads the environment itself.
type LookupFunc func(name string) (string, bool)

// LoadConfig reads the file at path and parses it with [ParseConfig].
func LoadConfig(path string, lookup LookupFunc) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	return ParseConfig(b, lookup)
}

// ParseConfig parses a {"mcpServers": {...}} document, expands ${VAR} and
// ${VAR:-default} references in every string value (command, args, env,
// cwd, url, headers) through lookup, and validates each server. A nil lookup
// defines no variables. "$$" stands for a literal "$". A reference to an
// undefined variable without a default is an error. Every error is a
// *[ConfigError] naming the server and field.
func ParseConfig(data []byte, lookup LookupFunc) (*Config, error) {
	var raw struct {
		Servers map[string]json.RawMessage `json:"mcpServers"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("not a JSON object with an \"mcpServers\" object: %w", err)}
	}
	if raw.Servers == nil {
		return nil, &ConfigError{Field: "mcpServers", Err: errors.New("missing (want {\"mcpServers\": {\"name\": {...}}})")}
	}
	cfg := &Config{Servers: make(map[string]ServerConfig, len(raw.Servers))}
	names := make([]string, 0, len(raw.Servers))
	for name := range raw.Servers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sc, err := parseServer(name, raw.Servers[name], lookup)
		if err != nil {
			return nil, err
		}
		cfg.Servers[name] = sc
	}
	return cfg, nil
}

func parseServer(name string, b json.RawMessage, lookup LookupFunc) (ServerConfig, error) {
	fail := func(field string, err error) (ServerConfig, error) {
		return ServerConfig{}, &ConfigError{Server: name, Field: field, Err: err}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return fail("", errors.New("not a JSON object"))
	}
	// Decode field by field so an error names the field.
	var sc ServerConfig
	targets := map[string]any{
		"type": &sc.Type, "command": &sc.Command, "args": &sc.Args, "env": &sc.Env, "cwd": &sc.Cwd,
		"url": &sc.URL, "headers": &sc.Headers, "enabled": &sc.Enabled,
		"allowedTools": &sc.AllowedTools, "deniedTools": &sc.DeniedTools,
		"startupTimeout": &sc.StartupTimeout, "callTimeout": &sc.CallTimeout,
		"approval": &sc.Approval, "instructions": &sc.Instructions,
	}
	var disabled bool
	targets["disabled"] = &disabled
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t, ok := targets[k]
		if !ok || string(fields[k]) == "null" {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(fields[k]))
		if k == "approval" {
			dec.DisallowUnknownFields()
		}
		if err := dec.Decode(t); err != nil {
			return fail(k, jsonTypeError(err))
		}
	}
	if disabled && sc.Enabled == nil {
		sc.Enabled = new(bool)
	}
	if err := sc.expand(name, lookup); err != nil {
		return ServerConfig{}, err
	}
	if err := sc.validate(name); err != nil {
		return ServerConfig{}, err
	}
	return sc, nil
}

func jsonTypeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("want %s, got JSON %s", goTypeName(te.Type.String()), te.Value)
	}
	return err
}

func goTypeName(t string) string {
	switch t {
	case "string":
		return "a string"
	case "[]string":
		return "an array of strings"
	case "map[string]string":
		return "an object of strings"
	case "*bool", "bool":
		return "a boolean"
	}
	return t
}

// expand replaces ${VAR} references in every string field.
func (sc *ServerConfig) expand(name string, lookup LookupFunc) error {
	var err error
	one := func(field string, s *string) {
		if err != nil {
			return
		}
		v, e := expandVars(*s, lookup)
		if e != nil {
			err = &ConfigError{Server: name, Field: field, Err: e}
			return
		}
		*s = v
	}
	one("type", &sc.Type)
	one("command", &sc.Command)
	for i := range sc.Args {
		one(fmt.Sprintf("args[%d]", i), &sc.Args[i])
	}
	for _, k := range sortedKeys(sc.Env) {
		v := sc.Env[k]
		one("env."+k, &v)
		sc.Env[k] = v
	}
	one("cwd", &sc.Cwd)
	one("url", &sc.URL)
	for _, k := range sortedKeys(sc.Headers) {
		v := sc.Headers[k]
		one("headers."+k, &v)
		sc.Headers[k] = v
	}
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// expandVars expands ${VAR}, ${VAR:-default} and $$ in s.
func expandVars(s string, lookup LookupFunc) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if i+1 >= len(s) || s[i+1] != '{' {
			b.WriteByte('$') // a lone $ is literal
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ at offset %d", i)
		}
		ref := s[i+2 : i+2+end]
		varName, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(varName) {
			return "", fmt.Errorf("invalid variable name %q in ${%s}", varName, ref)
		}
		v, ok := "", false
		if lookup != nil {
			v, ok = lookup(varName)
		}
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			return "", fmt.Errorf("undefined variable %s", varName)
		}
		i += 2 + end
	}
	return b.String(), nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// transport returns the normalised transport name.
func (sc *ServerConfig) transport() string {
	switch strings.ToLower(sc.Type) {
	case "":
		if sc.URL != "" && sc.Command == "" {
			return TransportHTTP
		}
		return TransportStdio
	case "http", "streamable-http", "streamablehttp", "streamable_http":
		return TransportHTTP
	case "sse":
		return TransportSSE
	case "stdio":
		return TransportStdio
	}
	return sc.Type
}

func (sc *ServerConfig) enabled() bool { return sc.Enabled == nil || *sc.Enabled }

// Validate reports the first problem of the server entry named name, as a
// *[ConfigError]. [ParseConfig] validates every server; call Validate for
// configurations built in Go ([Connect] does).
func (sc *ServerConfig) Validate(name string) error { return sc.validate(name) }

func (sc *ServerConfig) validate(name string) error {
	fail := func(field, format string, args ...any) error {
		return &ConfigError{Server: name, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if name == "" {
		return &ConfigError{Field: "mcpServers", Err: errors.New("empty server name")}
	}
	switch tr := sc.transport(); tr {
	case TransportStdio:
		if sc.Command == "" {
			if sc.URL != "" {
				return fail("type", "stdio server has a url; set \"type\": \"http\" or \"sse\", or give a command")
			}
			return fail("command", "missing (a server needs a command or a url)")
		}
		if sc.URL != "" {
			return fail("url", "a server has either a command or a url, not both")
		}
		if len(sc.Headers) > 0 {
			return fail("headers", "headers apply to http and sse servers only")
		}
	case TransportHTTP, TransportSSE:
		if sc.URL == "" {
			return fail("url", "missing for a %s server", tr)
		}
		if sc.Command != "" {
			return fail("command", "a server has either a command or a url, not both")
		}
		u, err := url.Parse(sc.URL)
		if err != nil {
			return fail("url", "%v", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fail("url", "scheme %q is not http or https", u.Scheme)
		}
		if u.Host == "" {
			return fail("url", "no host in %q", sc.URL)
		}
		if len(sc.Args) > 0 || len(sc.Env) > 0 || sc.Cwd != "" {
			return fail("args", "args, env and cwd apply to stdio servers only")
		}
	default:
		return fail("type", "unknown transport %q (want \"stdio\", \"http\" or \"sse\")", sc.Type)
	}
	for k := range sc.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fail("env", "invalid variable name %q", k)
		}
	}
	for i, p := range sc.AllowedTools {
		if !doublestar.ValidatePattern(p) {
			return fail(fmt.Sprintf("allowedTools[%d]", i), "invalid pattern %q", p)
		}
	}
	for i, p := range sc.DeniedTools {
		if !doublestar.ValidatePattern(p) {
			return fail(fmt.Sprintf("deniedTools[%d]", i), "invalid pattern %q", p)
		}
	}
	switch strings.ToLower(sc.Approval.Mode) {
	case "", ApprovalAsk, "always", ApprovalNever:
	default:
		return fail("approval.mode", "unknown mode %q (want \"ask\" or \"never\")", sc.Approval.Mode)
	}
	for i, p := range sc.Approval.Always {
		if !doublestar.ValidatePattern(p) {
			return fail(fmt.Sprintf("approval.always[%d]", i), "invalid pattern %q", p)
		}
	}
	for i, p := range sc.Approval.Never {
		if !doublestar.ValidatePattern(p) {
			return fail(fmt.Sprintf("approval.never[%d]", i), "invalid pattern %q", p)
		}
	}
	return nil
}

// offers reports whether the server's tool named tool is offered to the model.
func (sc *ServerConfig) offers(tool string) bool {
	if len(sc.AllowedTools) > 0 && !matchAny(sc.AllowedTools, tool) {
		return false
	}
	return !matchAny(sc.DeniedTools, tool)
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := doublestar.Match(p, name); ok {
			return true
		}
	}
	return false
}
