package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// layer is one source of settings: the command line, -c overrides, a
// resumed session, a profile, the config file. A nil field is not set by
// that source.
type layer struct {
	Model           *string `toml:"model" json:"model,omitempty"`
	Provider        *string `toml:"provider" json:"provider,omitempty"`
	BaseURL         *string `toml:"base_url" json:"base_url,omitempty"`
	Sandbox         *string `toml:"sandbox" json:"sandbox,omitempty"`
	AskForApproval  *string `toml:"ask_for_approval" json:"ask_for_approval,omitempty"`
	ReasoningEffort *string `toml:"reasoning_effort" json:"reasoning_effort,omitempty"`
	Stateless       *bool   `toml:"stateless" json:"stateless,omitempty"`
	Network         *bool   `toml:"network" json:"network,omitempty"`
	// MaxTurns bounds the requests of one task; 0 means no bound.
	MaxTurns *int `toml:"max_turns" json:"max_turns,omitempty"`
	// MaxTokens bounds the tokens of one task; 0 means no bound.
	MaxTokens *int64 `toml:"max_tokens" json:"max_tokens,omitempty"`
	// MaxDuration bounds the time of one task, as a Go duration ("20m").
	MaxDuration *string `toml:"max_duration" json:"max_duration,omitempty"`
}

// config is the config file (config.toml, or the deprecated config.json)
// with the -c overrides applied: defaults that flags override.
type config struct {
	layer
	// Profile is the profile used when --profile is not given.
	Profile string `toml:"profile"`
	// Profiles are named sets of settings chosen with --profile.
	Profiles  map[string]*layer `toml:"profiles"`
	MCPConfig string            `toml:"mcp_config"`
	Shell     *shellConfig      `toml:"shell"`
	// TrustedFolders are folders (absolute, or starting with ~/) whose
	// workspace configuration loads without asking, whatever its content,
	// in them and in every folder below them.
	TrustedFolders []string `toml:"trusted_folders"`
	// Hooks are the user's hooks; see hooks.go.
	Hooks *hooksConfig `toml:"hooks"`
}

type shellConfig struct {
	Allow []string `toml:"allow" json:"allow,omitempty"` // argv prefixes that run without asking
	Deny  []string `toml:"deny" json:"deny,omitempty"`   // argv prefixes that are refused
}

// jsonConfig is the deprecated config.json.
type jsonConfig struct {
	Model           string       `json:"model,omitempty"`
	Provider        string       `json:"provider,omitempty"`
	BaseURL         string       `json:"base_url,omitempty"`
	Sandbox         string       `json:"sandbox,omitempty"`
	AskForApproval  string       `json:"ask_for_approval,omitempty"`
	Stateless       bool         `json:"stateless,omitempty"`
	Network         bool         `json:"network,omitempty"`
	MaxTurns        int          `json:"max_turns,omitempty"`
	ReasoningEffort string       `json:"reasoning_effort,omitempty"`
	MCPConfig       string       `json:"mcp_config,omitempty"`
	Shell           *shellConfig `json:"shell,omitempty"`
	TrustedFolders  []string     `json:"trusted_folders,omitempty"`
}

func (j *jsonConfig) config() *config {
	s := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	c := &config{MCPConfig: j.MCPConfig, Shell: j.Shell, TrustedFolders: j.TrustedFolders}
	c.Model, c.Provider, c.BaseURL = s(j.Model), s(j.Provider), s(j.BaseURL)
	c.Sandbox, c.AskForApproval, c.ReasoningEffort = s(j.Sandbox), s(j.AskForApproval), s(j.ReasoningEffort)
	if j.Stateless {
		c.Stateless = &j.Stateless
	}
	if j.Network {
		c.Network = &j.Network
	}
	if j.MaxTurns != 0 {
		c.MaxTurns = &j.MaxTurns
	}
	return c
}

const defaultModel = "gpt-5-codex"

// configDir returns the directory of config.toml and the user's mcp.json.
func configDir(getenv func(string) string) (string, error) {
	if d := getenv("AGENTLOOP_CONFIG_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "agentloop"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (set AGENTLOOP_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "agentloop"), nil
}

// stateDir returns the directory sessions are saved in.
func stateDir(getenv func(string) string) (string, error) {
	if d := getenv("AGENTLOOP_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "agentloop"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory (set AGENTLOOP_STATE_DIR): %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "agentloop"), nil
}

// configError is a mistake in a config file or a -c override: where it is
// and which key. It is a usage error (exit status 2).
type configError struct {
	file string // the file, or "-c" for an override
	line int    // 1-based; 0 when unknown
	key  string // dotted; "" when the file does not parse
	msg  string
}

func (e *configError) Error() string {
	var b strings.Builder
	b.WriteString(e.file)
	if e.line > 0 {
		fmt.Fprintf(&b, ":%d", e.line)
	}
	if e.key != "" {
		b.WriteString(": " + e.key)
	}
	b.WriteString(": " + e.msg)
	return b.String()
}

// loadConfig reads config.toml in dir, or else the deprecated config.json
// (deprecated is then a message to show once); a missing file is an empty
// config. Unknown keys are errors, so a typo does not go unnoticed.
func loadConfig(dir string) (c *config, path, deprecated string, err error) {
	path = filepath.Join(dir, "config.toml")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return loadJSONConfig(dir)
	}
	if err != nil {
		return nil, path, "", err
	}
	c, err = parseConfig(path, data)
	return c, path, "", err
}

func loadJSONConfig(dir string) (*config, string, string, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &config{}, "", "", nil
	}
	if err != nil {
		return nil, path, "", err
	}
	var j jsonConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, path, "", &configError{file: path, msg: err.Error()}
	}
	c := j.config()
	if err := c.check(); err != nil {
		err.file = path
		return nil, path, "", err
	}
	note := fmt.Sprintf("%s is deprecated: move its settings to config.toml in the same directory (same key names; see agent --help)", path)
	return c, path, note, nil
}

// parseConfig decodes a TOML config; file names it in errors.
func parseConfig(file string, data []byte) (*config, error) {
	var c config
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, tomlError(file, err)
	}
	if err := c.check(); err != nil {
		err.file = file
		err.line = keyLine(data, err.key)
		return nil, err
	}
	return &c, nil
}

// tomlError turns a decoding error into a *configError with its line and
// key.
func tomlError(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		de := strict.Errors[0]
		line, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		return &configError{file: file, line: line, key: key, msg: "unknown key" + didYouMean(lastPart(key), configKeys)}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		return &configError{file: file, line: line, key: strings.Join(de.Key(), "."), msg: plainTOMLError(de.Error())}
	}
	return &configError{file: file, msg: plainTOMLError(err.Error())}
}

// tomlTypeError matches go-toml's message for a value of the wrong type,
// which names Go types.
var tomlTypeError = regexp.MustCompile(`cannot decode TOML (\w+) into .*?(?:of type |into )(\S+)$`)

// plainTOMLError says a decoding error in the config's words: "want a
// string (in quotes), not an integer" rather than Go's field and types.
func plainTOMLError(msg string) string {
	msg = strings.TrimPrefix(msg, "toml: ")
	m := tomlTypeError.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := map[string]string{
		"string": "a string (in quotes)", "bool": "true or false", "int": "a whole number", "int64": "a whole number",
		"[]string": `a list of strings, such as ["a", "b"]`,
	}[m[2]]
	if want == "" && strings.HasPrefix(strings.TrimPrefix(m[2], "*"), "main.") {
		want = "a table"
	}
	if want == "" {
		return msg
	}
	article := "a"
	if strings.ContainsAny(m[1][:1], "aeiou") {
		article = "an"
	}
	return fmt.Sprintf("want %s, not %s %s", want, article, m[1])
}

func lastPart(key string) string { return key[strings.LastIndex(key, ".")+1:] }

// configKeys are the keys a config file may set at its top, for "did you
// mean".
var configKeys = []string{
	"model", "provider", "base_url", "sandbox", "ask_for_approval", "reasoning_effort", "stateless",
	"network", "max_turns", "max_tokens", "max_duration", "profile", "profiles", "mcp_config", "shell",
	"trusted_folders", "hooks", "allow", "deny",
}

// Allowed values of the settings that are choices.
var (
	providers = []string{"openai", "sgp"}
	sandboxes = []string{"read-only", "workspace-write", "danger-full-access"}
	policies  = []string{approveUntrusted, approveOnRequest, approveNever}
)

// check validates the values of c; the error's file and line are left for
// the caller.
func (c *config) check() *configError {
	if err := c.layer.check(""); err != nil {
		return err
	}
	for _, name := range sortedKeys(c.Profiles) {
		if p := c.Profiles[name]; p != nil {
			if err := p.check("profiles." + name + "."); err != nil {
				return err
			}
		}
	}
	if c.Profile != "" && c.Profiles[c.Profile] == nil {
		return &configError{key: "profile", msg: fmt.Sprintf("no profile %q in [profiles]", c.Profile)}
	}
	if c.Shell != nil {
		for _, p := range append(slices.Clone(c.Shell.Allow), c.Shell.Deny...) {
			if strings.TrimSpace(p) == "" {
				return &configError{key: "shell", msg: "empty command prefix"}
			}
		}
	}
	for _, p := range c.TrustedFolders {
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~/") {
			return &configError{key: "trusted_folders", msg: fmt.Sprintf("%q is not an absolute path (or one starting with ~/)", p)}
		}
	}
	if c.Hooks != nil {
		if err := c.Hooks.check(); err != nil {
			return err
		}
	}
	return nil
}

// check validates the values l sets; prefix starts its keys in errors.
func (l *layer) check(prefix string) *configError {
	choice := func(key string, v *string, allowed []string) *configError {
		if v == nil || slices.Contains(allowed, *v) {
			return nil
		}
		return &configError{key: prefix + key, msg: fmt.Sprintf("unknown value %q (choose %s)", *v, strings.Join(allowed, ", "))}
	}
	for _, e := range []*configError{
		choice("provider", l.Provider, providers),
		choice("sandbox", l.Sandbox, sandboxes),
		choice("ask_for_approval", l.AskForApproval, policies),
		choice("reasoning_effort", l.ReasoningEffort, reasoningEfforts),
	} {
		if e != nil {
			return e
		}
	}
	if l.Model != nil && strings.TrimSpace(*l.Model) == "" {
		return &configError{key: prefix + "model", msg: "empty model name"}
	}
	if l.MaxTurns != nil && *l.MaxTurns < 0 {
		return &configError{key: prefix + "max_turns", msg: "must be 0 (no limit) or more"}
	}
	if l.MaxTokens != nil && *l.MaxTokens < 0 {
		return &configError{key: prefix + "max_tokens", msg: "must be 0 (no limit) or more"}
	}
	if l.MaxDuration != nil {
		if d, err := time.ParseDuration(*l.MaxDuration); err != nil || d < 0 {
			return &configError{key: prefix + "max_duration", msg: fmt.Sprintf("%q is not a duration such as \"30m\" or \"1h30m\"", *l.MaxDuration)}
		}
	}
	return nil
}

// keyLine returns the line of a TOML document that sets the dotted key, or
// 0. It follows [table] headers and dotted keys; it is a best effort for
// error messages, not a parser.
func keyLine(data []byte, key string) int {
	if key == "" {
		return 0
	}
	norm := func(s string) string {
		parts := strings.Split(s, ".")
		for i, p := range parts {
			parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
		}
		return strings.Join(parts, ".")
	}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "[["):
			table = norm(strings.Trim(l, "[] "))
			if table == key {
				return n // the first of an array of tables
			}
			continue
		case strings.HasPrefix(l, "["):
			end := strings.Index(l, "]")
			if end < 0 {
				continue
			}
			table = norm(l[1:end])
			if table == key {
				return n
			}
			continue
		}
		k, _, ok := strings.Cut(l, "=")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		full := norm(k)
		if table != "" {
			full = table + "." + full
		}
		if full == key || strings.HasPrefix(key, full+".") {
			return n
		}
	}
	return 0
}

// parseOverride parses one -c key=value: a dotted key and a TOML value. A
// value that is not TOML is taken as a string, so -c model=gpt-5 works
// without quotes.
func parseOverride(kv string) (*config, error) {
	key, value, ok := strings.Cut(kv, "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	if !ok || key == "" {
		return nil, &configError{file: "-c " + kv, msg: "want key=value, such as -c model=\"gpt-5\" or -c profiles.fast.model=gpt-5-mini"}
	}
	var probe map[string]any
	if toml.Unmarshal([]byte("v = "+value), &probe) != nil {
		b, err := toml.Marshal(map[string]string{"v": value})
		if err != nil {
			return nil, &configError{file: "-c " + kv, msg: err.Error()}
		}
		value = strings.TrimSpace(strings.TrimPrefix(string(b), "v = "))
	}
	doc := []byte(key + " = " + value + "\n")
	c, err := parseConfig("-c "+kv, doc)
	if err != nil {
		var ce *configError
		if errors.As(err, &ce) {
			ce.line = 0 // the document is ours, not the user's
		}
		return nil, err
	}
	return c, nil
}

// merge sets in c everything o sets: -c overrides over the file.
func (c *config) merge(o *config) {
	c.layer = overlay(c.layer, o.layer)
	if o.Profile != "" {
		c.Profile = o.Profile
	}
	for name, p := range o.Profiles {
		if c.Profiles == nil {
			c.Profiles = map[string]*layer{}
		}
		base := layer{}
		if old := c.Profiles[name]; old != nil {
			base = *old
		}
		merged := overlay(base, *p)
		c.Profiles[name] = &merged
	}
	if o.MCPConfig != "" {
		c.MCPConfig = o.MCPConfig
	}
	if o.Shell != nil {
		c.Shell = o.Shell
	}
	if o.TrustedFolders != nil {
		c.TrustedFolders = o.TrustedFolders
	}
	if o.Hooks != nil {
		c.Hooks = o.Hooks
	}
}

// overlay returns base with every field top sets replacing base's.
func overlay(base, top layer) layer {
	set := func(dst **string, src *string) {
		if src != nil {
			*dst = src
		}
	}
	set(&base.Model, top.Model)
	set(&base.Provider, top.Provider)
	set(&base.BaseURL, top.BaseURL)
	set(&base.Sandbox, top.Sandbox)
	set(&base.AskForApproval, top.AskForApproval)
	set(&base.ReasoningEffort, top.ReasoningEffort)
	set(&base.MaxDuration, top.MaxDuration)
	if top.Stateless != nil {
		base.Stateless = top.Stateless
	}
	if top.Network != nil {
		base.Network = top.Network
	}
	if top.MaxTurns != nil {
		base.MaxTurns = top.MaxTurns
	}
	if top.MaxTokens != nil {
		base.MaxTokens = top.MaxTokens
	}
	return base
}
