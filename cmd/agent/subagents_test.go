package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rt "github.com/agentloop/agentloop/responses/responsestest"
)

func TestParseSubAgent(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *subAgentDef
		err      string
	}{
		{"full", "---\nname: reviewer\ndescription: \"Reviews: diffs\"\nmodel: gpt-5-mini\ntools: [shell, 'calc__*']\n---\n\nReview it.\n",
			&subAgentDef{Name: "reviewer", Description: "Reviews: diffs", Model: "gpt-5-mini", Tools: []string{"shell", "calc__*"}, Instructions: "Review it."}, ""},
		{"list and default name", "---\r\ndescription: d\r\ntools:\r\n  - shell\r\n  - apply_patch\r\n---\r\nBody\r\n",
			&subAgentDef{Name: "file", Description: "d", Tools: []string{"shell", "apply_patch"}, Instructions: "Body"}, ""},
		{"no tools", "---\ndescription: d\ntools: []\n---\nB",
			&subAgentDef{Name: "file", Description: "d", Tools: []string{}, Instructions: "B"}, ""},
		{"all tools", "---\ndescription: d\n# a comment\n---\nB",
			&subAgentDef{Name: "file", Description: "d", Instructions: "B"}, ""},
		{"no front matter", "Just text", nil, "x.md:1: no front matter"},
		{"unclosed", "---\nname: a\n", nil, "x.md:1: the front matter has no closing --- line"},
		{"unknown key", "---\ndescription: d\ntool: shell\n---\nB", nil, `x.md:3: unknown key "tool" (name, description, model, tools) (did you mean tools?)`},
		{"bad name", "---\nname: a b\ndescription: d\n---\nB", nil, `x.md: name "a b": use 1 to 64`},
		{"no description", "---\nname: a\n---\nB", nil, "x.md: no description"},
		{"no body", "---\ndescription: d\n---\n  \n", nil, "x.md: no instructions"},
		{"bad glob", "---\ndescription: d\ntools: [\"[\"]\n---\nB", nil, `tools: "["`},
		{"stray item", "---\ndescription: d\n- shell\n---\nB", nil, "x.md:3: a list item outside tools"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseSubAgent("x.md", "file", []byte(tc.in))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			tc.want.file = "x.md"
			assert.Equal(t, tc.want, d)
		})
	}
}

func FuzzParseSubAgent(f *testing.F) {
	f.Add("---\nname: reviewer\ndescription: d\nmodel: m\ntools: [shell]\n---\nBody")
	f.Add("---\ntools:\n - a\n - 'b'\n---\n")
	f.Add("---\n---")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := parseSubAgent("x.md", "x", []byte(in))
		if err != nil {
			return
		}
		if !subAgentName.MatchString(d.Name) || d.Description == "" || d.Instructions == "" {
			t.Fatalf("accepted an invalid definition: %+v", d)
		}
	})
}

const reviewerMD = `---
name: reviewer
description: Reviews the working tree's changes.
model: gpt-5-mini
tools: [shell]
---
You review changes and answer in one line.
`

func TestSubAgentsFromWorkspace(t *testing.T) {
	h := newHarness(t, map[string]string{".agents/reviewer.md": reviewerMD},
		rt.Output(rt.FunctionCall("call_1", "reviewer", `{"input":"review the change"}`)),
		rt.Output(rt.ShellCall("call_2", "echo from the sub-agent")),
		rt.Output(rt.Text("looks good")),
		rt.Output(rt.Text("The reviewer says: looks good.")),
	)
	res := h.run("--trust-workspace", "review my change")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "The reviewer says: looks good.\n", res.stdout)

	reqs := h.server.Requests()
	require.Len(t, reqs, 4)
	tools := func(n int) []string {
		var names []string
		for _, d := range reqs[n].Params.Tools {
			names = append(names, d.Type+":"+d.Name)
		}
		return names
	}
	assert.Contains(t, tools(0), "function:reviewer")
	assert.Equal(t, "gpt-5-codex", reqs[0].Params.Model)

	// The sub-agent: its model, its instructions, only the shell.
	assert.Equal(t, "gpt-5-mini", reqs[1].Params.Model)
	assert.Equal(t, "You review changes and answer in one line.", reqs[1].Params.Instructions)
	assert.Equal(t, []string{"shell:"}, tools(1))
	assert.Equal(t, "review the change", reqs[1].InputText())
	assert.Equal(t, "from the sub-agent\n", shellOutput(t, reqs[2], "call_2").Stdout)
	assert.Contains(t, callOutput(t, reqs[3], "call_1"), "looks good")
}

func TestSubAgentsNeedTrust(t *testing.T) {
	h := newHarness(t, map[string]string{".agents/reviewer.md": reviewerMD}, rt.Output(rt.Text("hi")))
	res := h.run("hello")
	require.Equal(t, 0, res.code, res.stderr)
	ls := skipLines(res.stderr)
	require.Len(t, ls, 1, res.stderr)
	assert.Contains(t, ls[0], ".agents/reviewer.md")
	reqs := h.server.Requests()
	require.Len(t, reqs, 1)
	for _, d := range reqs[0].Params.Tools {
		assert.NotEqual(t, "reviewer", d.Name)
	}

	res = h.run("trust")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Contains(t, res.stdout, ".agents/reviewer.md  sub-agent reviewer (tools: shell): Reviews the working tree's changes.")

	// A broken definition in a trusted workspace is a usage error naming it.
	require.NoError(t, os.WriteFile(filepath.Join(h.ws, ".agents", "bad.md"), []byte("no front matter"), 0o644))
	res = h.run("--trust-workspace", "hello")
	assert.Equal(t, 2, res.code)
	assert.Contains(t, res.stderr, "bad.md:1: no front matter")
}

const helperMD = `---
name: helper
description: Does small jobs.
---
You help.
`

// /model switches the sub-agents that name no model of their own too, for
// the rest of the session; a sub-agent with its own model keeps it.
func TestModelSwitchesSubAgentsAtTerminal(t *testing.T) {
	h := newHarness(t, map[string]string{".agents/reviewer.md": reviewerMD, ".agents/helper.md": helperMD},
		rt.Output(rt.FunctionCall("c1", "helper", `{"input":"help"}`)),
		rt.Output(rt.Text("helped")),
		rt.Output(rt.FunctionCall("c2", "reviewer", `{"input":"review"}`)),
		rt.Output(rt.Text("reviewed")),
		rt.Output(rt.Text("all done")),
	)
	h.extraEnv = []string{"NO_COLOR=1"}
	p := h.startPTY("--trust-workspace")
	p.waitPrompt()
	p.send("/model gpt-new\n")
	p.waitFor("model: gpt-new (for the rest of this session); sub-agents helper too", 1)
	p.waitPrompt()
	p.send("delegate\n")
	p.waitFor("all done", 1)
	p.waitPrompt()
	p.send("\x04")
	require.Equal(t, 0, p.wait(), p.output())

	reqs := h.server.Requests()
	require.Len(t, reqs, 5)
	var models []string
	for _, r := range reqs {
		models = append(models, r.Params.Instructions[:min(8, len(r.Params.Instructions))]+"@"+r.Params.Model)
	}
	assert.Equal(t, "gpt-new", reqs[0].Params.Model, models)
	assert.Equal(t, "You help.", reqs[1].Params.Instructions)
	assert.Equal(t, "gpt-new", reqs[1].Params.Model, "the helper follows /model")
	assert.Equal(t, "You review changes and answer in one line.", reqs[3].Params.Instructions)
	assert.Equal(t, "gpt-5-mini", reqs[3].Params.Model, "the reviewer keeps its own model")
	assert.Equal(t, "gpt-new", reqs[4].Params.Model)
}
