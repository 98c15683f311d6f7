package main

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// hooksConfig are the user's hooks: commands run at points of a task, in
// the convention Claude Code users know.
type hooksConfig struct {
	PreToolUse       []hookSpec `toml:"pre_tool_use" json:"pre_tool_use,omitempty"`
	PostToolUse      []hookSpec `toml:"post_tool_use" json:"post_tool_use,omitempty"`
	UserPromptSubmit []hookSpec `toml:"user_prompt_submit" json:"user_prompt_submit,omitempty"`
	Stop             []hookSpec `toml:"stop" json:"stop,omitempty"`
}

// hookSpec is one hook command.
type hookSpec struct {
	// Matcher is a glob (path.Match) of the tool names the hook is for
	// ("shell", "apply_patch", "mcp__*"); empty matches every tool. Only
	// the tool hooks use it.
	Matcher string `toml:"matcher" json:"matcher,omitempty"`
	// Command is run with bash -c, the event as JSON on its stdin.
	Command string `toml:"command" json:"command"`
	// Timeout bounds the command (a Go duration); empty means 60s.
	Timeout string `toml:"timeout" json:"timeout,omitempty"`
}

const defaultHookTimeout = 60 * time.Second

func (h *hooksConfig) check() *configError {
	for _, ev := range []struct {
		name  string
		specs []hookSpec
	}{
		{"pre_tool_use", h.PreToolUse}, {"post_tool_use", h.PostToolUse},
		{"user_prompt_submit", h.UserPromptSubmit}, {"stop", h.Stop},
	} {
		for i, s := range ev.specs {
			key := fmt.Sprintf("hooks.%s", ev.name)
			if strings.TrimSpace(s.Command) == "" {
				return &configError{key: key, msg: fmt.Sprintf("hook %d has no command", i+1)}
			}
			if s.Matcher != "" {
				if _, err := path.Match(s.Matcher, ""); err != nil {
					return &configError{key: key, msg: fmt.Sprintf("matcher %q: %v", s.Matcher, err)}
				}
			}
			if s.Timeout != "" {
				if d, err := time.ParseDuration(s.Timeout); err != nil || d <= 0 {
					return &configError{key: key, msg: fmt.Sprintf("timeout %q is not a duration such as \"30s\"", s.Timeout)}
				}
			}
		}
	}
	return nil
}

func (s hookSpec) timeout() time.Duration {
	if d, err := time.ParseDuration(s.Timeout); err == nil && d > 0 {
		return d
	}
	return defaultHookTimeout
}
