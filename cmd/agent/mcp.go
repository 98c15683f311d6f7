package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/agentloop/agentloop/tools"
)

// mcpConfigPath returns the MCP config to load: the flag's (which must
// exist), the config file's, ./.mcp.json in the workspace, or mcp.json in
// the config directory; "" when there is none.
func mcpConfigPath(flag *string, cfg *config, workspace, cfgDir string) (string, error) {
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
		return explicit, nil
	}
	for _, p := range []string{filepath.Join(workspace, ".mcp.json"), filepath.Join(cfgDir, "mcp.json")} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", nil
}

// mcpServers is the user's MCP servers, connected.
type mcpServers struct {
	toolset      tools.Toolset
	instructions string
	close        func()
}

// connectMCP starts the MCP servers of the config at path.
//
// SEAM: the mcp package has not landed on main yet; until it does, a
// config is reported and skipped. Replace the body with mcp.LoadConfig,
// mcp.Connect and Set.Tools/Instructions/Close.
func connectMCP(ctx context.Context, path, workspace string, u *ui) (*mcpServers, error) {
	u.notice("MCP servers in " + path + " are skipped: this build has no MCP support yet")
	return &mcpServers{close: func() {}}, nil
}
