package main

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/tools"
)

// subAgentDef is a sub-agent defined in a workspace's .agents/NAME.md:
// front matter between --- lines (name, description, model, tools), then
// its instructions.
//
//	---
//	name: reviewer
//	description: Reviews the working tree's changes for bugs.
//	model: gpt-5-mini
//	tools: [shell]
//	---
//	You review changes. Run git diff, read the code, list the bugs you find.
type subAgentDef struct {
	file         string // as shown in errors
	Name         string
	Description  string
	Model        string   // "" uses the main agent's
	Tools        []string // names or globs of the main agent's tools; nil: all of them
	Instructions string
}

var subAgentName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// parseSubAgent parses a sub-agent file; defName is its file name without
// .md, the name when the front matter has none.
func parseSubAgent(file, defName string, data []byte) (*subAgentDef, error) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	d := &subAgentDef{file: file, Name: defName}
	fail := func(line int, format string, args ...any) error {
		return &configError{file: file, line: line, msg: fmt.Sprintf(format, args...)}
	}
	if !strings.HasPrefix(text, "---\n") {
		return nil, fail(1, "no front matter: start the file with a --- line, then name, description, model and tools, then a --- line")
	}
	lines := strings.Split(text, "\n")
	end := -1
	for i := 1; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " \t") == "---" {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, fail(1, "the front matter has no closing --- line")
	}
	var listKey string // the key whose "- item" lines follow
	for i := 1; i < end; i++ {
		n, raw := i+1, lines[i]
		l := strings.TrimSpace(raw)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if item, ok := strings.CutPrefix(l, "- "); ok || l == "-" {
			if listKey != "tools" {
				return nil, fail(n, "a list item outside tools")
			}
			d.Tools = append(d.Tools, unquote(strings.TrimSpace(item)))
			continue
		}
		key, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fail(n, "want key: value, not %q", oneLine(l, 60))
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		listKey = ""
		switch key {
		case "name":
			d.Name = unquote(value)
		case "description":
			d.Description = unquote(value)
		case "model":
			d.Model = unquote(value)
		case "tools":
			d.Tools = []string{} // set, maybe empty
			listKey = key
			v := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(value, "["), "]"))
			for _, t := range strings.Split(v, ",") {
				if t = unquote(strings.TrimSpace(t)); t != "" {
					d.Tools = append(d.Tools, t)
				}
			}
		default:
			return nil, fail(n, "unknown key %q (name, description, model, tools)%s", key, didYouMean(key, []string{"name", "description", "model", "tools"}))
		}
	}
	d.Instructions = strings.TrimSpace(strings.Join(lines[end+1:], "\n"))
	switch {
	case !subAgentName.MatchString(d.Name):
		return nil, fail(0, "name %q: use 1 to 64 letters, digits, _ or -", d.Name)
	case d.Description == "":
		return nil, fail(0, "no description: the main agent reads it to know when to call %s", d.Name)
	case d.Instructions == "":
		return nil, fail(0, "no instructions: write them after the front matter")
	}
	for _, t := range d.Tools {
		if _, err := path.Match(t, ""); err != nil {
			return nil, fail(0, "tools: %q: %v", t, err)
		}
	}
	return d, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"') {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// allows reports whether the sub-agent may use the tool named name.
func (d *subAgentDef) allows(name string) bool {
	if d.Tools == nil {
		return true
	}
	for _, t := range d.Tools {
		if ok, _ := path.Match(t, name); ok {
			return true
		}
	}
	return false
}

// toolName returns the name a tool is allowed by: its function name, or
// its type (shell, apply_patch).
func toolName(t tools.Tool) string {
	def := t.Definition()
	if def.Name != "" {
		return def.Name
	}
	return def.Type
}

// withSubAgents returns base and, after it, the workspace's sub-agents as
// agent tools; each sub-agent gets the tools of base (and of the MCP
// servers) its definition allows, and the main agent's middleware, so
// hooks and tracing see its calls too.
func (a *app) withSubAgents(base []tools.Tool) ([]tools.Tool, error) {
	out := slices.Clone(base)
	for _, d := range a.subAgents {
		var tl []tools.Tool
		for _, t := range base {
			if d.allows(toolName(t)) {
				tl = append(tl, t)
			}
		}
		var sets []tools.Toolset
		for _, s := range a.opts.Toolsets {
			sets = append(sets, filteredToolset{s, d})
		}
		model := d.Model
		if model == "" {
			model = a.model
		}
		opts := &agent.Options{
			Name:           d.Name,
			Description:    d.Description,
			Instructions:   d.Instructions,
			Tools:          tl,
			Toolsets:       sets,
			Request:        a.opts.Request,
			MaxTurns:       a.opts.MaxTurns,
			MaxTotalTokens: a.opts.MaxTotalTokens,
			MaxDuration:    a.opts.MaxDuration,
			Stateless:      a.stateless,
			Middleware:     slices.Clone(a.opts.Middleware),
		}
		sub := agent.New(a.client, model, opts)
		t := sub.AsTool(d.Name, d.Description)
		for _, o := range out {
			if toolName(o) == d.Name {
				return nil, &usageError{fmt.Sprintf("%s: sub-agent %s has the name of a tool; rename it", d.file, d.Name)}
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// subAgentsFollowing names the sub-agents that use the main agent's model
// (their definitions name none), "" for none.
func (a *app) subAgentsFollowing() string {
	var names []string
	for _, d := range a.subAgents {
		if d.Model == "" {
			names = append(names, d.Name)
		}
	}
	return strings.Join(names, ", ")
}

// filteredToolset is an MCP toolset limited to a sub-agent's tools.
type filteredToolset struct {
	set tools.Toolset
	def *subAgentDef
}

func (f filteredToolset) Tools(ctx context.Context) ([]tools.Tool, error) {
	all, err := f.set.Tools(ctx)
	return slices.DeleteFunc(all, func(t tools.Tool) bool { return !f.def.allows(toolName(t)) }), err
}

// loadSubAgents parses the sub-agent files of a trusted workspace.
func loadSubAgents(wc *workspaceConfig) ([]*subAgentDef, error) {
	var defs []*subAgentDef
	seen := map[string]string{}
	for _, f := range wc.filesOf(kindAgent) {
		base := strings.TrimSuffix(path.Base(f.rel), ".md")
		d, err := parseSubAgent(f.path, base, f.data)
		if err != nil {
			return nil, configUsage(err)
		}
		if other, ok := seen[d.Name]; ok {
			return nil, usagef("%s: sub-agent %s is also defined in %s", f.path, d.Name, other)
		}
		seen[d.Name] = f.path
		defs = append(defs, d)
	}
	return defs, nil
}

// subAgentSummary describes a sub-agent file for the trust question.
func subAgentSummary(data []byte) []string {
	d, err := parseSubAgent("", "agent", data)
	if err != nil {
		return []string{"not a valid sub-agent: " + oneLine(err.Error(), 120)}
	}
	tl := "all tools"
	if d.Tools != nil {
		tl = "tools: " + strings.Join(d.Tools, ", ")
		if len(d.Tools) == 0 {
			tl = "no tools"
		}
	}
	return []string{fmt.Sprintf("sub-agent %s (%s): %s", d.Name, tl, oneLine(d.Description, 200))}
}
