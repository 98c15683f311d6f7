package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/applypatch"
	"github.com/agentloop/agentloop/tools/shell"
)

// baseInstructions are the built-in coding-agent instructions.
const baseInstructions = `You are a coding agent working in the user's repository through a shell and the apply_patch tool, on the user's machine.

- Work in the workspace directory; paths are relative to it. Read before you edit: look at the files and their tests first.
- Edit files with apply_patch, never with shell redirections, sed -i or heredocs. Keep changes small and focused on the task; follow the code's existing style.
- Run commands with the shell tool. Prefer fast, read-only commands (rg, ls, cat, git status, git diff) to explore. Run the project's tests or build after a change when they exist.
- Commands run in a sandbox: writes outside the workspace and network access may fail. If a command is refused or declined, do not retry it in another form; explain what you needed and continue or stop.
- Do not commit, push or rewrite git history unless asked.
- When you are done, answer briefly: what you changed, and anything the user must check or do.`

// killGrace is the time a stopped command gets between SIGTERM and
// SIGKILL. It is short because Ctrl-C must stop the task within a second,
// even when a command ignores SIGTERM.
const killGrace = 300 * time.Millisecond

// workspaceTools builds the shell and apply_patch tools rooted at root.
// Neither sandboxed commands nor patches may read the paths of denyRead.
func workspaceTools(root string, sandbox shell.SandboxMode, network bool, approval string, sc *shellConfig, denyRead []string) ([]tools.Tool, error) {
	x := &shell.Executor{Root: root, Sandbox: sandbox, Network: network, KillGrace: killGrace, DenyRead: slices.Clone(denyRead)}
	var pol *shell.Policy
	if sc != nil && (len(sc.Allow) > 0 || len(sc.Deny) > 0) {
		p, err := shell.NewPolicy(&shell.PolicyOptions{Allow: slices.Clone(sc.Allow), Deny: slices.Clone(sc.Deny)})
		if err != nil {
			return nil, &usageError{"config: shell: " + err.Error()}
		}
		pol = p
	}
	ws, err := applypatch.NewWorkspace(root, &applypatch.Options{DenyRead: slices.Clone(denyRead)})
	if err != nil {
		return nil, err
	}
	// Patches never leave the workspace (the Workspace refuses it), so
	// they need a person only when the policy trusts nothing, or when the
	// sandbox says the workspace is read-only.
	ap := applypatch.ApproveNever
	if approval == approveUntrusted || sandbox == shell.ReadOnly {
		ap = applypatch.ApproveAlways
	}
	patch, err := applypatch.NewTool(ws, &applypatch.ToolOptions{Approval: ap})
	if err != nil {
		return nil, err
	}
	return []tools.Tool{&shell.Tool{Executor: x, Policy: pol}, patch}, nil
}

// repoRoot returns the nearest directory at or above dir that holds .git
// (a directory, or a file as in a worktree), and whether there is one.
func repoRoot(dir string) (string, bool) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// instructions returns the built-in instructions followed by every
// AGENTS.md from the repository root (the nearest directory with .git) down
// to dir. Without a repository only dir's own AGENTS.md is read. AGENTS.md
// is text for the model, not workspace configuration: it loads whether or
// not the folder is trusted.
func instructions(dir string) (string, error) {
	chain := []string{dir} // dir and its parents up to the repository root
	if root, ok := repoRoot(dir); ok {
		for d := dir; d != root; {
			d = filepath.Dir(d)
			chain = append(chain, d)
		}
	}
	var b strings.Builder
	b.WriteString(baseInstructions)
	for i := len(chain) - 1; i >= 0; i-- {
		path := filepath.Join(chain[i], "AGENTS.md")
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(&b, "\n\n# Instructions from %s\n\n%s", filepath.ToSlash(rel), strings.TrimSpace(string(data)))
	}
	return b.String(), nil
}
