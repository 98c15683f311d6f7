package trust_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/agentloop/agentloop/cmd/agent/internal/trust"
)

func ExampleNewStore() {
	dir, _ := os.MkdirTemp("", "trust-example-")
	defer os.RemoveAll(dir)
	s := trust.NewStore(filepath.Join(dir, "trusted.json"))

	files := map[string]string{".mcp.json": trust.Hash([]byte(`{"mcpServers": {}}`))}
	_ = s.Grant("/src/project", files, time.Now())

	f, ok, _ := s.Lookup("/src/project")
	fmt.Println(ok, f.Changed(files))

	edited := map[string]string{".mcp.json": trust.Hash([]byte(`{"mcpServers": {"x": {"command": "sh"}}}`))}
	fmt.Println(f.Changed(edited))
	// Output:
	// true []
	// [.mcp.json]
}
