package main

import (
	"net/url"
	"strings"

	"github.com/agentloop/agentloop/responses"
)

// clientOptions resolves the provider, key and base URL: the settings win
// over the environment. A missing key is a usage error that says exactly
// what to set.
func clientOptions(s settings, getenv func(string) string) (*responses.ClientOptions, string, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	or := func(v, def string) string {
		if v != "" {
			return v
		}
		return def
	}
	provider := s.Provider
	if provider == "" {
		provider = "openai"
		if env("SGP_API_KEY") != "" {
			provider = "sgp"
		}
	}
	o := &responses.ClientOptions{}
	switch provider {
	case "sgp":
		o.Provider = responses.SGP
		o.APIKey = env("SGP_API_KEY")
		o.AccountID = env("SGP_ACCOUNT_ID")
		o.BaseURL = or(s.BaseURL, env("SGP_CLIENT_BASE_URL"))
		if o.APIKey == "" {
			return nil, provider, usagef("no API key for the Scale GenAI Platform: set SGP_API_KEY (and SGP_ACCOUNT_ID for your account)")
		}
	default:
		o.Provider = responses.OpenAI
		o.APIKey = env("OPENAI_API_KEY")
		o.BaseURL = or(s.BaseURL, env("OPENAI_BASE_URL"))
		if o.APIKey == "" {
			return nil, provider, usagef("no API key: set OPENAI_API_KEY (or SGP_API_KEY and SGP_ACCOUNT_ID for the Scale GenAI Platform)")
		}
	}
	if o.BaseURL != "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, provider, usagef("base URL %q: want an http or https URL such as https://api.example.com/v1", o.BaseURL)
		}
		o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	}
	return o, provider, nil
}
