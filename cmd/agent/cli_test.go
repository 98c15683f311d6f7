package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/cmd/agent/internal/session"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/shell"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		check   func(t *testing.T, f *flags)
		wantErr string
	}{
		{"prompt and flags after it", []string{"fix it", "-m", "gpt-x", "--json"}, func(t *testing.T, f *flags) {
			assert.Equal(t, []string{"fix it"}, f.args)
			assert.Equal(t, "gpt-x", *f.set.Model)
			assert.True(t, f.json)
		}, ""},
		{"long and short forms", []string{"--cd", "/tmp", "-s", "read-only", "--ask-for-approval=never", "x"}, func(t *testing.T, f *flags) {
			assert.Equal(t, "/tmp", f.dir)
			assert.Equal(t, "read-only", *f.set.Sandbox)
			assert.Equal(t, "never", *f.set.AskForApproval)
		}, ""},
		{"resume with id and prompt", []string{"resume", "20260101T000000-abcdef", "go on", "--stateless"}, func(t *testing.T, f *flags) {
			assert.True(t, f.resume)
			assert.Equal(t, []string{"20260101T000000-abcdef", "go on"}, f.args)
			assert.True(t, *f.set.Stateless)
		}, ""},
		{"double dash", []string{"--", "-m is not a flag here"}, func(t *testing.T, f *flags) {
			assert.Equal(t, []string{"-m is not a flag here"}, f.args)
			assert.Nil(t, f.set.Model)
		}, ""},
		{"unset options stay nil", []string{"x"}, func(t *testing.T, f *flags) {
			assert.Nil(t, f.set.Model)
			assert.Nil(t, f.set.Sandbox)
			assert.Nil(t, f.set.Stateless)
			assert.Nil(t, f.set.MaxTurns)
		}, ""},
		{"help", []string{"-h"}, func(t *testing.T, f *flags) { assert.True(t, f.help) }, ""},
		{"trust workspace", []string{"--trust-workspace", "x"}, func(t *testing.T, f *flags) {
			assert.True(t, f.trustWorkspace)
			assert.False(t, f.trust)
		}, ""},
		{"trust a folder", []string{"trust", "some/dir"}, func(t *testing.T, f *flags) {
			assert.True(t, f.trust)
			assert.Equal(t, []string{"some/dir"}, f.args)
		}, ""},
		{"trust list", []string{"trust", "--list"}, func(t *testing.T, f *flags) { assert.True(t, f.trust && f.trustList) }, ""},
		{"trust revoke", []string{"trust", "--revoke", "/src/x"}, func(t *testing.T, f *flags) { assert.Equal(t, "/src/x", *f.trustRevoke) }, ""},
		{"resume a task named trust", []string{"resume", "trust"}, func(t *testing.T, f *flags) {
			assert.True(t, f.resume)
			assert.False(t, f.trust)
		}, ""},
		{"list without trust", []string{"--list", "x"}, nil, "go with the trust command"},
		{"list and revoke", []string{"trust", "--list", "--revoke", "/a"}, nil, "not both"},
		{"list with a folder", []string{"trust", "--list", "/a"}, nil, `unexpected argument "/a"`},
		{"revoke nothing", []string{"trust", "--revoke="}, nil, "--revoke needs a folder"},
		{"unknown flag", []string{"--nope"}, nil, "unknown flag --nope"},
		{"unknown flag near a known one", []string{"--sandbx", "x"}, nil, "unknown flag --sandbx (did you mean --sandbox?)"},
		{"unknown single-dash flag", []string{"-sandbox=x", "y", "-modle", "m"}, nil, "unknown flag -modle (did you mean --model?)"},
		{"exec", []string{"exec", "--full-auto", "say hi"}, func(t *testing.T, f *flags) {
			assert.True(t, f.exec)
			assert.Equal(t, []string{"say hi"}, f.args)
			assert.Equal(t, "workspace-write", *f.set.Sandbox)
			assert.Equal(t, "on-request", *f.set.AskForApproval)
		}, ""},
		{"exec bypass", []string{"exec", "--dangerously-bypass-approvals-and-sandbox", "-"}, func(t *testing.T, f *flags) {
			assert.Equal(t, "danger-full-access", *f.set.Sandbox)
			assert.Equal(t, "never", *f.set.AskForApproval)
		}, ""},
		{"full auto and sandbox", []string{"exec", "--full-auto", "-s", "read-only", "x"}, nil, "without -s/--sandbox"},
		{"overrides and profile", []string{"-c", "model=x", "--config", "sandbox='read-only'", "--profile", "fast", "x"}, func(t *testing.T, f *flags) {
			assert.Equal(t, []string{"model=x", "sandbox='read-only'"}, f.overrides)
			assert.Equal(t, "fast", f.profile)
		}, ""},
		{"budgets", []string{"--max-turns", "0", "--max-tokens", "1000", "--max-duration", "1h", "x"}, func(t *testing.T, f *flags) {
			assert.Equal(t, 0, *f.set.MaxTurns)
			assert.Equal(t, int64(1000), *f.set.MaxTokens)
			assert.Equal(t, "1h", *f.set.MaxDuration)
		}, ""},
		{"bad duration", []string{"--max-duration", "soon", "x"}, nil, "--max-duration: want a duration"},
		{"missing value", []string{"x", "-m"}, nil, "-m needs a value"},
		{"empty model", []string{"-m", " ", "x"}, nil, "needs a model name"},
		{"bad max turns", []string{"--max-turns", "-1", "x"}, nil, "--max-turns: want a whole number"},
		{"bad provider", []string{"--provider", "azure", "x"}, nil, `--provider: unknown value "azure"`},
		{"bad sandbox", []string{"-s", "yes", "x"}, nil, "--sandbox: unknown value"},
		{"empty dir", []string{"-C", "", "x"}, nil, "needs a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseFlags(tc.args)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				var ue *usageError
				assert.ErrorAs(t, err, &ue)
				return
			}
			require.NoError(t, err)
			tc.check(t, f)
		})
	}
}

func TestJudge(t *testing.T) {
	shellReq := tools.ApprovalRequest{Kind: "shell"}
	patchReq := tools.ApprovalRequest{Kind: "apply_patch"}
	mcpReq := tools.ApprovalRequest{Kind: "mcp"}
	for _, tc := range []struct {
		policy  string
		sandbox shell.SandboxMode
		req     tools.ApprovalRequest
		want    verdict
	}{
		{approveUntrusted, shell.WorkspaceWrite, shellReq, askPerson},
		{approveUntrusted, shell.WorkspaceWrite, patchReq, askPerson},
		{approveUntrusted, shell.WorkspaceWrite, mcpReq, askPerson},
		{approveOnRequest, shell.WorkspaceWrite, shellReq, allowCall},
		{approveOnRequest, shell.ReadOnly, shellReq, allowCall},
		{approveOnRequest, shell.DangerFullAccess, shellReq, askPerson},
		{approveOnRequest, shell.ReadOnly, patchReq, askPerson},
		{approveOnRequest, shell.WorkspaceWrite, mcpReq, askPerson},
		{approveNever, shell.WorkspaceWrite, shellReq, allowCall},
		{approveNever, shell.DangerFullAccess, shellReq, refuseCall},
		{approveNever, shell.ReadOnly, patchReq, refuseCall},
		{approveNever, shell.WorkspaceWrite, mcpReq, refuseCall},
	} {
		t.Run(tc.policy+"/"+string(tc.sandbox)+"/"+tc.req.Kind, func(t *testing.T) {
			assert.Equal(t, tc.want, judge(tc.policy, tc.sandbox, tc.req))
		})
	}
}

func TestInstructionsFromAGENTSFiles(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "AGENTS.md") // above the repository: ignored
	repo := filepath.Join(root, "repo")
	sub := filepath.Join(repo, "svc", "api")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, ".git"), 0o755))
	require.NoError(t, os.MkdirAll(sub, 0o755))
	require.NoError(t, os.WriteFile(outside, []byte("OUTSIDE"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "AGENTS.md"), []byte("REPO RULES\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "AGENTS.md"), []byte("API RULES"), 0o644))

	got, err := instructions(sub)
	require.NoError(t, err)
	assert.Contains(t, got, baseInstructions)
	assert.NotContains(t, got, "OUTSIDE")
	repoAt, apiAt := indexOf(got, "REPO RULES"), indexOf(got, "API RULES")
	require.Positive(t, repoAt)
	require.Positive(t, apiAt)
	assert.Less(t, repoAt, apiAt, "the nearer file comes last")
	assert.Contains(t, got, "# Instructions from ../../AGENTS.md")

	// Outside a repository only the workspace's own file counts.
	lone := filepath.Join(root, "lone")
	require.NoError(t, os.MkdirAll(lone, 0o755))
	got, err = instructions(lone)
	require.NoError(t, err)
	assert.Equal(t, baseInstructions, got)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	c, path, note, err := loadConfig(dir)
	require.NoError(t, err)
	assert.Empty(t, path)
	assert.Empty(t, note)
	assert.Equal(t, &config{}, c)

	for _, tc := range []struct{ name, file, content, want string }{
		{"json typo", "config.json", `{"modle": "x"}`, `unknown field "modle"`},
		{"json bad sandbox", "config.json", `{"sandbox": "open"}`, `config.json: sandbox: unknown value "open"`},
		{"json bad", "config.json", `{`, "unexpected EOF"},
		{"json empty rule", "config.json", `{"shell": {"allow": [""]}}`, "shell: empty command prefix"},
		{"toml typo", "config.toml", "model = \"x\"\nmodle = \"y\"\n", `config.toml:2: modle: unknown key (did you mean model?)`},
		{"toml bad value", "config.toml", "# mine\n\nsandbox = \"open\"\n", `config.toml:3: sandbox: unknown value "open"`},
		{"toml bad profile value", "config.toml", "model = \"m\"\n[profiles.fast]\nmodel = \"f\"\nask_for_approval = \"sometimes\"\n", `config.toml:4: profiles.fast.ask_for_approval: unknown value "sometimes"`},
		{"toml wrong type", "config.toml", "max_turns = \"ten\"\n", `config.toml:1: max_turns: want a whole number, not a string`},
		{"toml string wanted", "config.toml", "\nsandbox = 3\n", `config.toml:2: sandbox: want a string (in quotes), not an integer`},
		{"toml bool wanted", "config.toml", "network = \"yes\"\n", `config.toml:1: network: want true or false, not a string`},
		{"toml list wanted", "config.toml", "[shell]\nallow = \"make\"\n", `config.toml:2: shell.allow: want a list of strings, such as ["a", "b"], not a string`},
		{"toml table wanted", "config.toml", "shell = 3\n", `config.toml:1: shell: want a table, not an integer`},
		{"toml syntax", "config.toml", "model = \n", `config.toml:1`},
		{"toml default profile missing", "config.toml", "profile = \"x\"\n", `config.toml:1: profile: no profile "x"`},
		{"toml bad duration", "config.toml", "max_duration = \"soon\"\n", `config.toml:1: max_duration: "soon" is not a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(d, tc.file), []byte(tc.content), 0o644))
			_, _, _, err := loadConfig(d)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var ce *configError
			assert.ErrorAs(t, err, &ce)
		})
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model": "m1", "sandbox": "read-only", "max_turns": 5}`), 0o644))
	c, _, note, err = loadConfig(dir)
	require.NoError(t, err)
	assert.Contains(t, note, "config.json is deprecated")
	assert.Equal(t, "m1", *c.Model)
	assert.Equal(t, 5, *c.MaxTurns)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte("model = \"t1\"\n"), 0o644))
	c, path, note, err = loadConfig(dir)
	require.NoError(t, err)
	assert.Empty(t, note, "config.toml wins, silently")
	assert.Equal(t, filepath.Join(dir, "config.toml"), path)
	assert.Equal(t, "t1", *c.Model)
}

func TestOverrides(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kvs     []string
		check   func(t *testing.T, c *config)
		wantErr string
	}{
		{"quoted string", []string{`model="gpt-x"`}, func(t *testing.T, c *config) { assert.Equal(t, "gpt-x", *c.Model) }, ""},
		{"bare string", []string{`model=gpt-5.1-codex`}, func(t *testing.T, c *config) { assert.Equal(t, "gpt-5.1-codex", *c.Model) }, ""},
		{"later wins", []string{`model=a`, `model=b`}, func(t *testing.T, c *config) { assert.Equal(t, "b", *c.Model) }, ""},
		{"number and bool", []string{`max_turns=100`, `network=true`}, func(t *testing.T, c *config) {
			assert.Equal(t, 100, *c.MaxTurns)
			assert.True(t, *c.Network)
		}, ""},
		{"dotted key", []string{`profiles.fast.model="mini"`, `shell.allow=["go test", "make"]`}, func(t *testing.T, c *config) {
			assert.Equal(t, "mini", *c.Profiles["fast"].Model)
			assert.Equal(t, []string{"go test", "make"}, c.Shell.Allow)
		}, ""},
		{"unknown key", []string{`modle=x`}, nil, `-c modle=x: modle: unknown key (did you mean model?)`},
		{"bad value", []string{`sandbox=open`}, nil, `-c sandbox=open: sandbox: unknown value "open"`},
		{"wrong type", []string{`max_turns=many`}, nil, `-c max_turns=many: max_turns`},
		{"no equals", []string{`model`}, nil, `want key=value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := overridesOf(tc.kvs)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestResolve(t *testing.T) {
	s := func(v string) *string { return &v }
	b := func(v bool) *bool { return &v }
	n := func(v int) *int { return &v }
	cfg := &config{
		layer:    layer{Model: s("cfg-model"), Sandbox: s("read-only"), MaxTurns: n(10)},
		Profiles: map[string]*layer{"fast": {Model: s("prof-model"), AskForApproval: s("never")}},
	}
	for _, tc := range []struct {
		name    string
		src     sources
		want    settings
		wantErr string
	}{
		{"defaults", sources{}, settings{Model: defaultModel, Sandbox: "workspace-write", Approval: "on-request"}, ""},
		{"config", sources{cfg: cfg}, settings{Model: "cfg-model", Sandbox: "read-only", Approval: "on-request", MaxTurns: 10}, ""},
		{"profile over config", sources{cfg: cfg, profile: "fast"},
			settings{Model: "prof-model", Sandbox: "read-only", Approval: "never", MaxTurns: 10, Profile: "fast"}, ""},
		{"config's default profile", sources{cfg: &config{layer: cfg.layer, Profile: "fast", Profiles: cfg.Profiles}},
			settings{Model: "prof-model", Sandbox: "read-only", Approval: "never", MaxTurns: 10, Profile: "fast"}, ""},
		{"session over profile", sources{cfg: cfg, profile: "fast", session: &session.Header{Model: "sess-model", Stateless: true}},
			settings{Model: "sess-model", Sandbox: "read-only", Approval: "never", MaxTurns: 10, Profile: "fast", Stateless: true}, ""},
		{"-c over session", sources{cfg: cfg, overrides: layer{Model: s("c-model"), Stateless: b(false)}, session: &session.Header{Model: "sess-model", Stateless: true}},
			settings{Model: "c-model", Sandbox: "read-only", Approval: "on-request", MaxTurns: 10, Stateless: true}, ""},
		{"flag over all", sources{cfg: cfg, profile: "fast", flags: layer{Model: s("flag-model"), MaxTurns: n(0), MaxDuration: s("2m")}, overrides: layer{Model: s("c-model")}},
			settings{Model: "flag-model", Sandbox: "read-only", Approval: "never", Profile: "fast", MaxDuration: 2 * time.Minute}, ""},
		{"unknown profile", sources{cfg: cfg, profile: "slow"}, settings{}, "--profile slow: no such profile in the config file's [profiles] (profiles: fast)"},
		{"session mode is fixed", sources{flags: layer{Stateless: b(false)}, session: &session.Header{ID: "x", Stateless: true}}, settings{}, "cannot switch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(tc.src)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				var ue *usageError
				assert.ErrorAs(t, err, &ue)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestKeyLine(t *testing.T) {
	doc := []byte("model = 'a'\n\n[profiles.fast]\nmodel = 'b'\n[shell]\nallow = []\nprofiles.slow.sandbox = 'x'\n")
	assert.Equal(t, 1, keyLine(doc, "model"))
	assert.Equal(t, 4, keyLine(doc, "profiles.fast.model"))
	assert.Equal(t, 6, keyLine(doc, "shell.allow"))
	assert.Equal(t, 0, keyLine(doc, "nope"))
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("model = 'a'\n[profiles.x]\nsandbox = 'read-only'\n"))
	f.Add([]byte("[[hooks.pre_tool_use]]\ncommand = 'true'\ntimeout = '1s'\n"))
	f.Add([]byte("max_turns = -1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseConfig("config.toml", data)
		if err != nil {
			var ce *configError
			require.ErrorAs(t, err, &ce)
			return
		}
		// A config that loads resolves with each of its profiles.
		for name := range c.Profiles {
			_, err := resolve(sources{cfg: c, profile: name})
			require.NoError(t, err)
		}
		keyLine(data, "profiles.x.model")
	})
}

func TestClientOptionsFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		flags    []string
		provider responses.Provider
		base     string
		key      string
		wantErr  string
	}{
		{"openai", map[string]string{"OPENAI_API_KEY": "k"}, nil, responses.OpenAI, "", "k", ""},
		{"openai base", map[string]string{"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1/"}, nil, responses.OpenAI, "http://127.0.0.1:1/v1", "k", ""},
		{"sgp preferred", map[string]string{"OPENAI_API_KEY": "k", "SGP_API_KEY": "s", "SGP_CLIENT_BASE_URL": "https://sgp.example"}, nil, responses.SGP, "https://sgp.example", "s", ""},
		{"flag wins", map[string]string{"OPENAI_API_KEY": "k", "SGP_API_KEY": "s"}, []string{"--provider", "openai", "--base-url", "http://127.0.0.1:2"}, responses.OpenAI, "http://127.0.0.1:2", "k", ""},
		{"no key", nil, nil, 0, "", "", "set OPENAI_API_KEY"},
		{"bad url", map[string]string{"OPENAI_API_KEY": "k"}, []string{"--base-url", "localhost:8080"}, 0, "", "", "want an http or https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseFlags(append(tc.flags, "x"))
			require.NoError(t, err)
			set, err := resolve(sources{flags: f.set})
			require.NoError(t, err)
			o, _, err := clientOptions(set, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.provider, o.Provider)
			assert.Equal(t, tc.base, o.BaseURL)
			assert.Equal(t, tc.key, o.APIKey)
		})
	}
}

func TestPatchSummary(t *testing.T) {
	c := colors{}
	got := patchSummary(c, "Success. Updated the following files:\nM a.go (+3 -1)\nA new/b.md (+2 -0)\nD old.txt (+0 -7)\nM x -> y (+0 -0)\n")
	assert.Equal(t, "patched a.go +3 −1, added new/b.md +2 −0, deleted old.txt +0 −7, patched x -> y +0 −0", got)
}

func TestUsageTextIsTheDocComment(t *testing.T) {
	u := usageText()
	assert.Contains(t, u, "  agent resume [ID] [PROMPT]")
	assert.NotContains(t, u, "//")
	assert.NotContains(t, u, "package main")
}

// Every flag is described in the help text (agent --help, agent exec
// --help): a new flag cannot go undocumented.
func TestHelpDescribesEveryFlag(t *testing.T) {
	u := usageText()
	var d *string
	newFlagSet(&flags{}, &d).VisitAll(func(fl *flag.Flag) {
		want := `(?m)^  .*--` + regexp.QuoteMeta(fl.Name) + `( |,|$)`
		if len(fl.Name) == 1 {
			want = `(?m)^  -` + fl.Name + `, --`
		}
		assert.Regexp(t, want, u, "flag -%s is not described in the help text (doc.go)", fl.Name)
	})
}

// Every chat command is named in the help text too.
func TestHelpNamesEverySlashCommand(t *testing.T) {
	u := usageText()
	for _, c := range slashCommands {
		assert.Regexp(t, regexp.QuoteMeta("/"+c.name)+`\b`, u, "/%s is not in the help text (doc.go)", c.name)
	}
}
