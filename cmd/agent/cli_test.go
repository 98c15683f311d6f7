package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			assert.Equal(t, "gpt-x", *f.model)
			assert.True(t, f.json)
		}, ""},
		{"long and short forms", []string{"--cd", "/tmp", "-s", "read-only", "--ask-for-approval=never", "x"}, func(t *testing.T, f *flags) {
			assert.Equal(t, "/tmp", f.dir)
			assert.Equal(t, "read-only", *f.sandbox)
			assert.Equal(t, "never", *f.approval)
		}, ""},
		{"resume with id and prompt", []string{"resume", "20260101T000000-abcdef", "go on", "--stateless"}, func(t *testing.T, f *flags) {
			assert.True(t, f.resume)
			assert.Equal(t, []string{"20260101T000000-abcdef", "go on"}, f.args)
			assert.True(t, *f.stateless)
		}, ""},
		{"double dash", []string{"--", "-m is not a flag here"}, func(t *testing.T, f *flags) {
			assert.Equal(t, []string{"-m is not a flag here"}, f.args)
			assert.Nil(t, f.model)
		}, ""},
		{"unset options stay nil", []string{"x"}, func(t *testing.T, f *flags) {
			assert.Nil(t, f.model)
			assert.Nil(t, f.sandbox)
			assert.Nil(t, f.stateless)
			assert.Nil(t, f.maxTurns)
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
		{"unknown flag", []string{"--nope"}, nil, "unknown flag -nope"},
		{"missing value", []string{"x", "-m"}, nil, "-m needs a value"},
		{"empty model", []string{"-m", " ", "x"}, nil, "needs a model name"},
		{"bad max turns", []string{"--max-turns", "0", "x"}, nil, "positive whole number"},
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
	c, path, err := loadConfig(dir)
	require.NoError(t, err)
	assert.Empty(t, path)
	assert.Equal(t, &config{}, c)

	for _, tc := range []struct{ name, content, want string }{
		{"typo", `{"modle": "x"}`, `unknown field "modle"`},
		{"bad sandbox", `{"sandbox": "open"}`, `sandbox: unknown value "open"`},
		{"bad json", `{`, "unexpected EOF"},
		{"empty rule", `{"shell": {"allow": [""]}}`, "empty command prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.content), 0o644))
			_, _, err := loadConfig(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "config.json")
		})
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model": "m1", "sandbox": "read-only", "max_turns": 5}`), 0o644))
	c, _, err = loadConfig(dir)
	require.NoError(t, err)
	assert.Equal(t, "m1", pick(nil, c.Model, defaultModel))
	flag := "m2"
	assert.Equal(t, "m2", pick(&flag, c.Model, defaultModel), "flags win")
	assert.Equal(t, defaultModel, pick(nil, "", defaultModel))
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
			o, _, err := clientOptions(f, &config{}, func(k string) string { return tc.env[k] })
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
