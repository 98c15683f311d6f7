package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/agentloop/agentloop/cmd/agent/internal/session"
	"github.com/agentloop/agentloop/tools/shell"
)

// settings are the resolved settings of one invocation: plain values, no
// side effects. newApp builds the agent from them.
type settings struct {
	Model    string
	Provider string // "" chooses by the environment (sgp when SGP_API_KEY is set)
	BaseURL  string // "" uses the environment's, else the provider's
	Sandbox  shell.SandboxMode
	Approval string
	Effort   string // "" leaves it to the model
	// Stateless sends the whole transcript every turn.
	Stateless bool
	Network   bool
	// Budgets of one task; zero means none.
	MaxTurns    int
	MaxTokens   int64
	MaxDuration time.Duration
	// Profile is the profile applied, "" for none.
	Profile string
}

// sources are the settings' sources; resolve takes the first that sets a
// value, in this order: flags, -c overrides, the resumed session, the
// profile, the config file, the defaults.
type sources struct {
	flags     layer
	overrides layer // -c key=value at the top level of the config
	session   *session.Header
	cfg       *config // with the -c overrides merged in (profiles use them)
	profile   string  // --profile; "" uses the config's profile key
}

// resolve returns the settings of src. Its only errors are an unknown
// profile and a resumed session that cannot switch mode; both are usage
// errors.
func resolve(src sources) (settings, error) {
	cfg := src.cfg
	if cfg == nil {
		cfg = &config{}
	}
	var s settings
	var prof layer
	s.Profile = src.profile
	if s.Profile == "" {
		s.Profile = cfg.Profile
	}
	if s.Profile != "" {
		p, ok := cfg.Profiles[s.Profile]
		if !ok {
			names := sortedKeys(cfg.Profiles)
			have := "the config file has none"
			if len(names) > 0 {
				have = "profiles: " + strings.Join(names, ", ")
			}
			return s, usagef("--profile %s: no such profile in the config file's [profiles] (%s)", s.Profile, have)
		}
		if p != nil {
			prof = *p
		}
	}
	var sess layer
	if h := src.session; h != nil {
		if h.Model != "" {
			sess.Model = &h.Model
		}
		sess.Stateless = &h.Stateless
		if src.flags.Stateless != nil && *src.flags.Stateless != h.Stateless {
			return s, usagef("resume: session %s is %s; it cannot switch to %s", h.ID, modeName(h.Stateless), modeName(*src.flags.Stateless))
		}
	}
	// Lowest first. A session's mode cannot be switched (a flag that tries
	// is refused above; a -c override or the config is ignored).
	l := overlay(overlay(overlay(overlay(cfg.layer, prof), sess), src.overrides), src.flags)
	if src.session != nil {
		l.Stateless = sess.Stateless
	}

	str := func(p *string, def string) string {
		if p != nil {
			return *p
		}
		return def
	}
	s.Model = str(l.Model, defaultModel)
	s.Provider = str(l.Provider, "")
	s.BaseURL = str(l.BaseURL, "")
	s.Sandbox = shell.SandboxMode(str(l.Sandbox, string(shell.WorkspaceWrite)))
	s.Approval = str(l.AskForApproval, approveOnRequest)
	s.Effort = str(l.ReasoningEffort, "")
	s.Stateless = l.Stateless != nil && *l.Stateless
	s.Network = l.Network != nil && *l.Network
	if l.MaxTurns != nil {
		s.MaxTurns = *l.MaxTurns
	}
	if l.MaxTokens != nil {
		s.MaxTokens = *l.MaxTokens
	}
	if l.MaxDuration != nil {
		d, err := time.ParseDuration(*l.MaxDuration)
		if err != nil {
			return s, usagef("max duration %q: %v", *l.MaxDuration, err)
		}
		s.MaxDuration = d
	}
	return s, nil
}

func modeName(stateless bool) string {
	if stateless {
		return "stateless"
	}
	return "chained (previous_response_id)"
}

// overridesOf parses the -c overrides in order (a later one wins) into one
// config.
func overridesOf(kvs []string) (*config, error) {
	all := &config{}
	for _, kv := range kvs {
		c, err := parseOverride(kv)
		if err != nil {
			return nil, err
		}
		all.merge(c)
	}
	return all, nil
}

// describeBudget says which budget ended a task, for its final message.
func describeBudget(reason string, s settings) string {
	switch reason {
	case "max_tokens":
		return fmt.Sprintf("the token budget (%d tokens, max_tokens)", s.MaxTokens)
	case "max_duration":
		return fmt.Sprintf("the time budget (%s, max_duration)", s.MaxDuration)
	case "max_turns":
		return fmt.Sprintf("the turn limit (--max-turns %d)", s.MaxTurns)
	}
	return reason
}
