package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentloop/agentloop/mcp"
	"github.com/agentloop/agentloop/tools"
)

// mcpConfigExplicit returns the MCP config the user named: the flag's or
// the config file's (which must exist); "" when there is none.
func mcpConfigExplicit(flag *string, cfg *config) (string, error) {
	explicit := ""
	switch {
	case flag != nil:
		explicit = *flag
	case cfg.MCPConfig != "":
		explicit = cfg.MCPConfig
	}
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", usagef("--mcp-config: %v", err)
		}
	}
	return explicit, nil
}

// mcpConfig returns the MCP config to load, by name and content: the
// explicit one, else the workspace's .mcp.json when the folder is trusted,
// else mcp.json in the config directory; "" when there is none.
func mcpConfig(explicit string, wc *workspaceConfig, trusted bool, cfgDir string) (string, []byte, error) {
	if explicit != "" {
		data, err := os.ReadFile(explicit)
		if err != nil {
			return "", nil, usagef("--mcp-config: %v", err)
		}
		return explicit, data, nil
	}
	if f := wc.file(kindMCP); f != nil && trusted {
		return f.path, f.data, nil
	}
	p := filepath.Join(cfgDir, "mcp.json")
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	return p, data, nil
}

// mcpServers is the user's MCP servers, connected.
type mcpServers struct {
	set          *mcp.Set
	toolset      tools.Toolset
	instructions string
}

func (m *mcpServers) close() {
	if m.set != nil {
		m.set.Close()
	}
}

// connectMCP starts the MCP servers of the config data read from path.
// Servers that fail to start are reported on stderr and left out; a config
// that does not parse is a usage error.
func connectMCP(ctx context.Context, path string, data []byte, workspace string, e *env, u *ui) (*mcpServers, error) {
	cfg, err := mcp.ParseConfig(data, e.lookupEnv)
	if err != nil {
		return nil, &usageError{"MCP config " + path + ": " + err.Error()}
	}
	set, err := mcp.Connect(ctx, cfg, &mcp.Options{
		ClientName:    "agentloop-agent",
		ClientVersion: version(),
		Root:          workspace,
		Env:           mcpEnv(e.environ()),
		Logger:        e.log,
	})
	if set == nil {
		return nil, &usageError{"MCP config " + path + ": " + err.Error()}
	}
	if err != nil {
		for _, l := range strings.Split(err.Error(), "\n") {
			if strings.TrimSpace(l) != "" {
				u.notice("MCP: " + l)
			}
		}
	}
	var running []string
	for _, st := range set.Servers() {
		if st.State == mcp.StateRunning {
			running = append(running, fmt.Sprintf("%s (%d tools)", st.Name, st.Tools))
		}
	}
	if len(running) > 0 {
		u.line(u.colors.dim("MCP: " + strings.Join(running, ", ")))
	}
	return &mcpServers{set: set, toolset: set, instructions: set.Instructions()}, nil
}

// mcpEnv is the environment of stdio MCP servers: this process's, without
// the model provider's credentials.
func mcpEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "OPENAI_API_KEY", "SGP_API_KEY":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// isTool reports whether a function tool's name is one of an MCP server's
// (server__tool).
func (m *mcpServers) isTool(name string) bool {
	if m == nil || m.set == nil {
		return false
	}
	server, _, ok := strings.Cut(name, "__")
	if !ok {
		return false
	}
	for _, st := range m.set.Servers() {
		if st.Name == server {
			return true
		}
	}
	return false
}
