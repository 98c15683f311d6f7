package mcp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookupMap(m map[string]string) LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfig(t *testing.T) {
	env := lookupMap(map[string]string{"HOME": "/home/u", "TOKEN": "t0k", "EMPTY": ""})
	cfg, err := ParseConfig([]byte(`{
	  "mcpServers": {
	    "files": {"command": "node", "args": ["server.js", "${HOME}/src", "$$5", "${MISSING:-dflt}"],
	              "env": {"API_TOKEN": "${TOKEN}", "E": "${EMPTY:-x}"}, "cwd": "${HOME}",
	              "allowedTools": ["read_*"], "deniedTools": ["**/danger"],
	              "startupTimeout": "10s", "callTimeout": 90000,
	              "approval": {"mode": "never", "always": ["write_*"], "annotations": true}},
	    "docs": {"url": "https://docs.example.test/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
	    "old": {"type": "sse", "url": "http://127.0.0.1:3001/sse", "disabled": true},
	    "off": {"command": "x", "enabled": false, "someOtherClientsKey": {"ignored": true}}
	  },
	  "otherTopLevelKey": 1
	}`), env)
	require.NoError(t, err)
	files := cfg.Servers["files"]
	assert.Equal(t, []string{"server.js", "/home/u/src", "$5", "dflt"}, files.Args)
	assert.Equal(t, map[string]string{"API_TOKEN": "t0k", "E": "x"}, files.Env)
	assert.Equal(t, "/home/u", files.Cwd)
	assert.Equal(t, Duration(10*time.Second), files.StartupTimeout)
	assert.Equal(t, Duration(90*time.Second), files.CallTimeout)
	assert.Equal(t, TransportStdio, files.transport())
	assert.True(t, files.offers("read_file"))
	assert.False(t, files.offers("write_file"))
	docs, old, off := cfg.Servers["docs"], cfg.Servers["old"], cfg.Servers["off"]
	assert.Equal(t, "Bearer t0k", docs.Headers["Authorization"])
	assert.Equal(t, TransportHTTP, docs.transport())
	assert.Equal(t, TransportSSE, old.transport())
	assert.False(t, old.enabled())
	assert.False(t, off.enabled())
	assert.True(t, docs.enabled())
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, server, field, want string }{
		{"not json", `{`, "", "", "not a JSON object"},
		{"no servers", `{"servers": {}}`, "", "mcpServers", "missing"},
		{"server not object", `{"mcpServers": {"a": 1}}`, "a", "", "not a JSON object"},
		{"no command or url", `{"mcpServers": {"a": {}}}`, "a", "command", "needs a command or a url"},
		{"both", `{"mcpServers": {"a": {"command": "x", "url": "http://h/"}}}`, "a", "url", "not both"},
		{"args type", `{"mcpServers": {"a": {"command": "x", "args": "one"}}}`, "a", "args", "want an array of strings"},
		{"env type", `{"mcpServers": {"a": {"command": "x", "env": {"K": 1}}}}`, "a", "env", "want"},
		{"undefined var", `{"mcpServers": {"a": {"command": "x", "args": ["ok", "${NOPE}"]}}}`, "a", "args[1]", "undefined variable NOPE"},
		{"bad var name", `{"mcpServers": {"a": {"command": "${1X}"}}}`, "a", "command", "invalid variable name"},
		{"unterminated", `{"mcpServers": {"a": {"command": "x", "headers": {}, "cwd": "${HOME"}}}`, "a", "cwd", "unterminated"},
		{"header var", `{"mcpServers": {"a": {"url": "http://h/", "headers": {"Authorization": "${KEY}"}}}}`, "a", "headers.Authorization", "undefined variable KEY"},
		{"bad scheme", `{"mcpServers": {"a": {"url": "ftp://h/x"}}}`, "a", "url", "not http or https"},
		{"no host", `{"mcpServers": {"a": {"url": "http:///x"}}}`, "a", "url", "no host"},
		{"type stdio with url", `{"mcpServers": {"a": {"type": "stdio", "url": "http://h/"}}}`, "a", "type", "stdio server has a url"},
		{"unknown type", `{"mcpServers": {"a": {"type": "ws", "url": "http://h/"}}}`, "a", "type", "unknown transport"},
		{"http without url", `{"mcpServers": {"a": {"type": "http", "command": "x"}}}`, "a", "url", "missing for a http server"},
		{"headers on stdio", `{"mcpServers": {"a": {"command": "x", "headers": {"A": "b"}}}}`, "a", "headers", "http and sse servers only"},
		{"args on http", `{"mcpServers": {"a": {"url": "http://h/", "args": ["x"]}}}`, "a", "args", "stdio servers only"},
		{"bad pattern", `{"mcpServers": {"a": {"command": "x", "allowedTools": ["[a"]}}}`, "a", "allowedTools[0]", "invalid pattern"},
		{"bad denied", `{"mcpServers": {"a": {"command": "x", "deniedTools": ["ok", "{a"]}}}`, "a", "deniedTools[1]", "invalid pattern"},
		{"bad duration", `{"mcpServers": {"a": {"command": "x", "callTimeout": "soon"}}}`, "a", "callTimeout", "invalid duration"},
		{"negative duration", `{"mcpServers": {"a": {"command": "x", "startupTimeout": -5}}}`, "a", "startupTimeout", "out of range"},
		{"bad mode", `{"mcpServers": {"a": {"command": "x", "approval": {"mode": "sometimes"}}}}`, "a", "approval.mode", "unknown mode"},
		{"approval typo", `{"mcpServers": {"a": {"command": "x", "approval": {"allways": ["x"]}}}}`, "a", "approval", "unknown field"},
		{"bad approval pattern", `{"mcpServers": {"a": {"command": "x", "approval": {"never": ["[x"]}}}}`, "a", "approval.never[0]", "invalid pattern"},
		{"enabled type", `{"mcpServers": {"a": {"command": "x", "enabled": "yes"}}}`, "a", "enabled", "want a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json), lookupMap(map[string]string{"HOME": "/h"}))
			require.Error(t, err)
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "error %T %v", err, err)
			assert.Equal(t, tc.server, ce.Server)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), tc.want)
			if tc.server != "" {
				assert.Contains(t, err.Error(), `server "`+tc.server+`"`)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mcp.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"mcpServers": {"a": {"command": "${CMD}"}}}`), 0o600))
	cfg, err := LoadConfig(p, lookupMap(map[string]string{"CMD": "server"}))
	require.NoError(t, err)
	assert.Equal(t, "server", cfg.Servers["a"].Command)

	_, err = LoadConfig(filepath.Join(t.TempDir(), "missing.json"), nil)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, os.ErrNotExist)

	_, err = ParseConfig([]byte(`{"mcpServers": {"a": {"command": "${CMD}"}}}`), nil)
	assert.ErrorContains(t, err, "undefined variable CMD", "a nil lookup defines no variables")
}

func TestExpandVars(t *testing.T) {
	lookup := lookupMap(map[string]string{"A": "x", "EMPTY": ""})
	for _, tc := range []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"${A}", "x", ""},
		{"a${A}b${A}", "axbx", ""},
		{"$A and $", "$A and $", ""},
		{"$${A}", "${A}", ""},
		{"${EMPTY}", "", ""},
		{"${EMPTY:-d}", "d", ""},
		{"${UNSET:-}", "", ""},
		{"${UNSET:-a:-b}", "a:-b", ""},
		{"${UNSET}", "", "undefined variable UNSET"},
		{"${}", "", "invalid variable name"},
		{"${A", "", "unterminated"},
		{"é${A}ü", "éxü", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := expandVars(tc.in, lookup)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"mcpServers": {"a": {"command": "x", "args": ["${A}"]}}}`,
		`{"mcpServers": {"a": {"url": "http://127.0.0.1:1/mcp", "headers": {"K": "${A:-v}"}}}}`,
		`{"mcpServers": {"a": {"type": "sse", "url": "https://h/sse", "approval": {"mode": "never"}, "callTimeout": "1s"}}}`,
		`{"mcpServers": {"": {"command": "x"}}}`,
		`{"mcpServers": null}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	lookup := lookupMap(map[string]string{"A": "1"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, lookup)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a *ConfigError: %T %v", err, err)
			}
			return
		}
		for name, sc := range cfg.Servers {
			if err := sc.Validate(name); err != nil {
				t.Fatalf("parsed server %q does not validate: %v", name, err)
			}
		}
	})
}

func FuzzExpandVars(f *testing.F) {
	for _, s := range []string{"${A}", "$${A}", "${B:-x}", "${", "$", "a${A}b"} {
		f.Add(s)
	}
	lookup := lookupMap(map[string]string{"A": "1"})
	f.Fuzz(func(t *testing.T, s string) {
		got, err := expandVars(s, lookup)
		if err == nil && !containsDollarBrace(s) && got != s {
			t.Fatalf("expandVars(%q) = %q without any reference", s, got)
		}
	})
}

func containsDollarBrace(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && (s[i+1] == '{' || s[i+1] == '$') {
			return true
		}
	}
	return false
}
