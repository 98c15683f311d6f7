package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentloop/agentloop/cmd/agent/internal/trust"
)

// Workspace configuration is every file the workspace supplies that can
// run programs or widen permissions when it is loaded. It is read in one
// place, loadWorkspaceConfig, and nothing of it is used before the folder is
// trusted. AGENTS.md is not part of it: it is text for the model and loads
// whether or not the folder is trusted. The user's config directory is not
// part of it either.
//
// A new kind of workspace configuration (project hooks, settings, sub-agent
// definitions) is added to workspaceConfigFiles, with a summary of what it
// would do, and is then gated like .mcp.json: hashed, shown in the
// question, and skipped in an untrusted folder.
var workspaceConfigFiles = []struct {
	name    string // relative to the workspace directory
	kind    string
	summary func(data []byte) []string // what loading it would do, one line each
}{
	{".mcp.json", kindMCP, mcpSummary},
	{".agents/hooks.toml", kindHooks, hooksSummary},
	{".agents/*.md", kindAgent, subAgentSummary}, // a glob: every file it matches
}

const (
	kindMCP   = "mcp"
	kindHooks = "hooks"
	kindAgent = "agent"
)

// workspaceFile is one file of the workspace configuration, read once: the
// bytes that are hashed and shown are the bytes that are loaded.
type workspaceFile struct {
	kind    string
	rel     string // slash-separated, relative to the trust root
	path    string // absolute
	data    []byte
	summary []string
}

// workspaceConfig is the workspace configuration of a workspace directory.
type workspaceConfig struct {
	root  string // the folder trust is asked for: the repository root, or the workspace
	files []workspaceFile
}

// loadWorkspaceConfig reads the workspace configuration of dir (absolute).
func loadWorkspaceConfig(dir string) (*workspaceConfig, error) {
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	wc := &workspaceConfig{root: trustRoot(dir)}
	for _, c := range workspaceConfigFiles {
		paths := []string{filepath.Join(dir, c.name)}
		if strings.ContainsRune(c.name, '*') {
			var err error
			if paths, err = filepath.Glob(paths[0]); err != nil {
				return nil, fmt.Errorf("workspace configuration: %w", err)
			}
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("workspace configuration: %w", err)
			}
			rel, err := filepath.Rel(wc.root, path)
			if err != nil {
				return nil, fmt.Errorf("workspace configuration: %w", err)
			}
			wc.files = append(wc.files, workspaceFile{
				kind: c.kind, rel: filepath.ToSlash(rel), path: path, data: data, summary: c.summary(data),
			})
		}
	}
	return wc, nil
}

// trustRoot returns the folder trust is asked for: the repository root
// (the nearest directory holding .git) above dir, or dir without one.
func trustRoot(dir string) string {
	if root, ok := repoRoot(dir); ok {
		return root
	}
	return dir
}

// hooksSummary describes the hooks of a project's .agents/hooks.toml:
// `pre_tool_use hook (shell): COMMAND`.
func hooksSummary(data []byte) []string {
	h, err := parseProjectHooks(".agents/hooks.toml", data)
	if err != nil {
		return []string{"not a valid hooks file: " + oneLine(err.Error(), 120)}
	}
	var out []string
	for _, k := range h.kinds() {
		for _, s := range k.specs {
			m := ""
			if s.Matcher != "" {
				m = " (" + s.Matcher + ")"
			}
			out = append(out, fmt.Sprintf("%s hook%s: %s", k.name, m, oneLine(s.Command, 300)))
		}
	}
	if len(out) == 0 {
		out = append(out, "no hooks")
	}
	return out
}

// file returns the file of the given kind, or nil.
func (wc *workspaceConfig) file(kind string) *workspaceFile {
	for i := range wc.files {
		if wc.files[i].kind == kind {
			return &wc.files[i]
		}
	}
	return nil
}

// filesOf returns the files of the given kind.
func (wc *workspaceConfig) filesOf(kind string) []workspaceFile {
	var out []workspaceFile
	for _, f := range wc.files {
		if f.kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// drop leaves out the file of the given kind (it will not be loaded, so it
// needs no trust).
func (wc *workspaceConfig) drop(kind string) {
	wc.files = slices.DeleteFunc(wc.files, func(f workspaceFile) bool { return f.kind == kind })
}

// hashes returns the content hash of each file, by relative path.
func (wc *workspaceConfig) hashes() map[string]string {
	m := make(map[string]string, len(wc.files))
	for _, f := range wc.files {
		m[f.rel] = trust.Hash(f.data)
	}
	return m
}

// brief names the files and what they hold, for one line:
// ".mcp.json (MCP servers calc, evil)".
func (wc *workspaceConfig) brief() string {
	var parts []string
	for _, f := range wc.files {
		s := f.rel
		if f.kind == kindMCP {
			var names []string
			for _, l := range f.summary {
				if n, _, ok := strings.Cut(l, ":"); ok {
					names = append(names, strings.TrimPrefix(n, "MCP server "))
				}
			}
			if len(names) > 0 {
				s += " (MCP servers " + strings.Join(names, ", ") + ")"
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// mcpSummary describes the servers of an MCP config as the file spells
// them (${VAR} references are not expanded): `MCP server NAME: COMMAND
// ARGS...` or `MCP server NAME: URL`.
func mcpSummary(data []byte) []string {
	var doc struct {
		Servers map[string]struct {
			Command  string   `json:"command"`
			Args     []string `json:"args"`
			URL      string   `json:"url"`
			Enabled  *bool    `json:"enabled"`
			Disabled bool     `json:"disabled"`
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return []string{"not a valid MCP config: " + oneLine(err.Error(), 120)}
	}
	var out []string
	for _, name := range sortedKeys(doc.Servers) {
		s := doc.Servers[name]
		what := s.URL
		if s.Command != "" {
			what = shellJoin(append([]string{s.Command}, s.Args...))
		}
		if (s.Enabled != nil && !*s.Enabled) || s.Disabled {
			what += " (disabled)"
		}
		out = append(out, fmt.Sprintf("MCP server %s: %s", name, oneLine(what, 300)))
	}
	if len(out) == 0 {
		out = append(out, "no MCP servers")
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// shellJoin joins args as a shell would need them typed.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// trustStore is the user's store of trusted folders.
func trustStore(stDir string) *trust.Store {
	return trust.NewStore(filepath.Join(stDir, "trusted.json"))
}

// configTrusts reports whether config.json's trusted_folders lists root or
// a folder above it.
func configTrusts(cfg *config, root string, getenv func(string) string) bool {
	for _, p := range cfg.TrustedFolders {
		p = expandHome(p, getenv)
		if rel, err := filepath.Rel(p, root); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

func expandHome(p string, getenv func(string) string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(getenv("HOME"), rest)
	}
	return filepath.Clean(p)
}

// errInterrupted ends the command during start-up (Ctrl-C at the trust
// question).
var errInterrupted = errors.New("interrupted")

// trusted decides whether the workspace configuration wc is loaded: it is
// when --trust-workspace is given, when config.json's trusted_folders
// covers its folder, or when the user trusted the folder with exactly these
// files. Otherwise the person at the terminal is asked, and a yes is
// remembered; without a terminal, or on a no, nothing of it is loaded and
// one line says what was skipped and how to trust the folder.
func (a *app) trusted(ctx context.Context, wc *workspaceConfig, cfg *config, stDir string) (bool, error) {
	if len(wc.files) == 0 || a.f.trustWorkspace || configTrusts(cfg, wc.root, a.e.getenv) {
		return true, nil
	}
	store := trustStore(stDir)
	rec, known, err := store.Lookup(wc.root)
	if err != nil {
		return false, err
	}
	hashes := wc.hashes()
	changed := rec.Changed(hashes)
	if known && len(changed) == 0 {
		return true, nil
	}
	why := wc.root + " is not a trusted folder"
	if known {
		why = strings.Join(changed, ", ") + " changed since you trusted " + wc.root
	}
	if a.in != nil {
		yes, err := a.askTrust(ctx, wc, known, changed)
		if err != nil {
			return false, err
		}
		if yes {
			if err := store.Grant(wc.root, hashes, time.Now()); err != nil {
				return false, err
			}
			return true, nil
		}
	}
	a.ui.notice(fmt.Sprintf("not loaded: %s, because %s; to trust it: agent trust %s (or --trust-workspace for one run)",
		wc.brief(), why, shellQuote(wc.root)))
	return false, nil
}

// askTrust asks the person at the terminal whether to trust the folder.
func (a *app) askTrust(ctx context.Context, wc *workspaceConfig, known bool, changed []string) (bool, error) {
	c := a.ui.colors
	var b strings.Builder
	if known {
		fmt.Fprintf(&b, "%s %s changed since you trusted this folder. Trust it again?\n", c.yellow("?"), strings.Join(changed, ", "))
	} else {
		fmt.Fprintf(&b, "%s trust this folder?\n", c.yellow("?"))
	}
	fmt.Fprintf(&b, "  %s\n", c.bold(wc.root))
	b.WriteString("  Its configuration would run these on your machine, outside the sandbox:\n")
	for _, f := range wc.files {
		for _, l := range f.summary {
			fmt.Fprintf(&b, "    %s  %s\n", c.dim(f.rel), l)
		}
	}
	fmt.Fprintf(&b, "  %s\n", c.dim("A yes is remembered until these files change; agent trust --revoke undoes it."))
	fmt.Fprintf(&b, "  %s yes, load it  %s no, continue without it: ", c.bold("y"), c.bold("n"))
	for {
		a.ui.prompt(b.String())
		line, err := a.readAnswer(ctx)
		if err != nil {
			if errors.Is(err, errInterrupted) || ctx.Err() != nil {
				a.ui.line("")
				return false, err
			}
			a.ui.line("") // end of input: no
			return false, nil
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "":
			b.Reset()
			b.WriteString("  y or n: ")
			continue
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}

// readAnswer reads a line from the terminal before the session starts,
// when Ctrl-C is not yet handled by the interrupter: an interrupt ends the
// wait with errInterrupted.
func (a *app) readAnswer(ctx context.Context) (string, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if a.e.interrupts == nil {
		return a.in.readLine(rctx)
	}
	done := make(chan struct{})
	interrupted := false
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-a.e.interrupts:
			interrupted = true
			cancel()
		case <-done:
		}
	})
	line, err := a.in.readLine(rctx)
	close(done)
	wg.Wait()
	if interrupted {
		return "", errInterrupted
	}
	return line, err
}

// runTrust is the trust subcommand: agent trust [PATH], agent trust
// --list, agent trust --revoke PATH.
func runTrust(e *env, f *flags) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "agent: trust: %v\n", err)
		var ue *usageError
		if errors.As(err, &ue) {
			return exitUsage
		}
		return exitFailed
	}
	stDir, err := stateDir(e.getenv)
	if err != nil {
		return fail(err)
	}
	store := trustStore(stDir)
	switch {
	case f.trustList:
		folders, err := store.List()
		if err != nil {
			return fail(err)
		}
		cfgDir, err := configDir(e.getenv)
		if err != nil {
			return fail(err)
		}
		cfg, _, _, err := loadConfig(cfgDir)
		if err != nil {
			return fail(configUsage(err))
		}
		if len(folders) == 0 && len(cfg.TrustedFolders) == 0 {
			fmt.Fprintln(e.stderr, "no trusted folders")
			return exitOK
		}
		for _, fo := range folders {
			files := strings.Join(sortedKeys(fo.Files), ", ")
			if files == "" {
				files = "(no workspace configuration)"
			}
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", fo.Path, fo.Time.Format(time.RFC3339), files)
		}
		for _, p := range cfg.TrustedFolders {
			fmt.Fprintf(e.stdout, "%s\t-\t(any content, and everything below: trusted_folders in config.json)\n", expandHome(p, e.getenv))
		}
		return exitOK

	case f.trustRevoke != nil:
		p, err := filepath.Abs(*f.trustRevoke)
		if err != nil {
			return fail(err)
		}
		// The folder as given (it may no longer exist), else the folder
		// trust would be asked for there.
		found, err := store.Revoke(p)
		if err == nil && !found {
			if real, rerr := filepath.EvalSymlinks(p); rerr == nil {
				p = trustRoot(real)
				found, err = store.Revoke(p)
			}
		}
		if err != nil {
			return fail(err)
		}
		if !found {
			return fail(fmt.Errorf("%s is not a trusted folder (agent trust --list shows them)", *f.trustRevoke))
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", p)
		return exitOK
	}

	dir := f.dir
	switch {
	case len(f.args) > 1:
		return fail(usagef("give one folder to trust, not %d", len(f.args)))
	case len(f.args) == 1:
		dir = f.args[0]
	case dir == "":
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fail(err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fail(usagef("%s: not a directory", dir))
	}
	wc, err := loadWorkspaceConfig(abs)
	if err != nil {
		return fail(err)
	}
	if err := store.Grant(wc.root, wc.hashes(), time.Now()); err != nil {
		return fail(err)
	}
	printTrusted(e.stdout, wc)
	return exitOK
}

func printTrusted(w io.Writer, wc *workspaceConfig) {
	fmt.Fprintf(w, "trusted %s\n", wc.root)
	if len(wc.files) == 0 {
		fmt.Fprintln(w, "  it has no workspace configuration here; a file added later asks again")
	}
	for _, f := range wc.files {
		for _, l := range f.summary {
			fmt.Fprintf(w, "  %s  %s\n", f.rel, l)
		}
	}
}
