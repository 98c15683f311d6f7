package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// config is the config file: defaults that flags override.
type config struct {
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
	// TrustedFolders are folders (absolute, or starting with ~/) whose
	// workspace configuration loads without asking, whatever its content,
	// in them and in every folder below them.
	TrustedFolders []string `json:"trusted_folders,omitempty"`
}

type shellConfig struct {
	Allow []string `json:"allow,omitempty"` // argv prefixes that run without asking
	Deny  []string `json:"deny,omitempty"`  // argv prefixes that are refused
}

const (
	defaultModel    = "gpt-5-codex"
	defaultMaxTurns = 64
)

// configDir returns the directory of config.json and the user's mcp.json.
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

// loadConfig reads config.json in dir; a missing file is an empty config.
// Unknown keys are errors, so a typo does not go unnoticed.
func loadConfig(dir string) (*config, string, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &config{}, "", nil
	}
	if err != nil {
		return nil, path, err
	}
	var c config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, path, fmt.Errorf("%s: %v", path, err)
	}
	for _, ch := range []struct{ name, v string }{
		{"provider", c.Provider}, {"sandbox", c.Sandbox}, {"ask_for_approval", c.AskForApproval},
		{"reasoning_effort", c.ReasoningEffort},
	} {
		ok := ch.v == ""
		for _, allowed := range map[string][]string{
			"provider":         {"openai", "sgp"},
			"sandbox":          {"read-only", "workspace-write", "danger-full-access"},
			"ask_for_approval": {approveUntrusted, approveOnRequest, approveNever},
			"reasoning_effort": reasoningEfforts,
		}[ch.name] {
			ok = ok || ch.v == allowed
		}
		if !ok {
			return nil, path, fmt.Errorf("%s: %s: unknown value %q", path, ch.name, ch.v)
		}
	}
	if c.MaxTurns < 0 {
		return nil, path, fmt.Errorf("%s: max_turns must be positive", path)
	}
	if c.Shell != nil {
		for _, p := range append(append([]string(nil), c.Shell.Allow...), c.Shell.Deny...) {
			if strings.TrimSpace(p) == "" {
				return nil, path, fmt.Errorf("%s: shell: empty command prefix", path)
			}
		}
	}
	for _, p := range c.TrustedFolders {
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, "~/") {
			return nil, path, fmt.Errorf("%s: trusted_folders: %q is not an absolute path (or one starting with ~/)", path, p)
		}
	}
	return &c, path, nil
}

// pick returns the flag's value if given, else the config's, else def.
func pick(flag *string, cfg, def string) string {
	if flag != nil {
		return *flag
	}
	if cfg != "" {
		return cfg
	}
	return def
}
