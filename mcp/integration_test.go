package mcp

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// requireMCPServersEnv makes the integration tests fail, not skip, when the
// npm servers are missing. CI sets it after running .ci/mcp/install.sh.
const requireMCPServersEnv = "AGENTLOOP_REQUIRE_MCP_SERVERS"

// npmServers locates node and the MCP servers installed by
// .ci/mcp/install.sh, walking up from the package directory to the
// repository root.
type npmServers struct {
	node       string
	everything string // dist/index.js
	filesystem string
}

func requireNPMServers(t testing.TB) npmServers {
	t.Helper()
	missing := func(format string, args ...any) npmServers {
		msg := fmt.Sprintf(format, args...) + " (run .ci/mcp/install.sh)"
		if os.Getenv(requireMCPServersEnv) != "" {
			t.Fatalf("%s is set but %s", requireMCPServersEnv, msg)
		}
		t.Skip(msg)
		return npmServers{}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return missing("node not found")
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		nm := filepath.Join(dir, ".ci", "mcp", "node_modules", "@modelcontextprotocol")
		if _, err := os.Stat(nm); err == nil {
			s := npmServers{node: node,
				everything: filepath.Join(nm, "server-everything", "dist", "index.js"),
				filesystem: filepath.Join(nm, "server-filesystem", "dist", "index.js")}
			for _, p := range []string{s.everything, s.filesystem} {
				if _, err := os.Stat(p); err != nil {
					return missing("%s missing", p)
				}
			}
			return s
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return missing("no .ci/mcp/node_modules under %s", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return missing("no repository root above the package")
		}
		dir = parent
	}
}

// everythingEnv keeps the everything server off the network.
func everythingEnv(node string) map[string]string {
	return map[string]string{"GZIP_ALLOWED_DOMAINS": "127.0.0.1", "PATH": filepath.Dir(node)}
}

// startEverythingHTTP runs the everything server's streamable HTTP (or sse)
// transport on a free port of 127.0.0.1 and returns its URL.
func startEverythingHTTP(t *testing.T, s npmServers, mode string) string {
	url, _ := startEverythingHTTPCmd(t, s, mode)
	return url
}

func startEverythingHTTPCmd(t *testing.T, s npmServers, mode string) (string, *exec.Cmd) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	cmd := exec.Command(s.node, s.everything, mode)
	cmd.Env = []string{"PORT=" + fmt.Sprint(port), "GZIP_ALLOWED_DOMAINS=127.0.0.1", "PATH=" + filepath.Dir(s.node)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := newTailBuffer(4096)
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	path := "/mcp"
	if mode == "sse" {
		path = "/sse"
	}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond, "everything server did not listen; stderr:\n%s", stderr)
	return url, cmd
}

// TestRemoteServerDiesMidCall: a remote server killed during a long call
// fails the call long before its timeout, over both HTTP transports.
func TestRemoteServerDiesMidCall(t *testing.T) {
	srv := requireNPMServers(t)
	for _, mode := range []string{"streamableHttp", "sse"} {
		t.Run(mode, func(t *testing.T) {
			checkLeaks(t)
			url, cmd := startEverythingHTTPCmd(t, srv, mode)
			typ := TransportHTTP
			if mode == "sse" {
				typ = TransportSSE
			}
			set := connectTest(t, &Config{Servers: map[string]ServerConfig{"e": {Type: typ, URL: url}}},
				&Options{CallTimeout: time.Minute})
			time.AfterFunc(time.Second, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			start := time.Now()
			_, err := callText(t.Context(), t, toolByName(t, set, "e__trigger-long-running-operation"), `{"duration":30,"steps":30}`)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "failed during the call")
			assert.Less(t, time.Since(start), 20*time.Second, "no wait for the call timeout")
			require.NoError(t, set.Close())
		})
	}
}

func TestEverythingServer(t *testing.T) {
	srv := requireNPMServers(t)
	for _, tc := range []struct {
		name string
		cfg  func(t *testing.T) ServerConfig
	}{
		{"stdio", func(t *testing.T) ServerConfig {
			return ServerConfig{Command: srv.node, Args: []string{srv.everything, "stdio"}, Env: everythingEnv(srv.node)}
		}},
		{"streamable http", func(t *testing.T) ServerConfig {
			return ServerConfig{URL: startEverythingHTTP(t, srv, "streamableHttp")}
		}},
		{"sse", func(t *testing.T) ServerConfig {
			return ServerConfig{Type: "sse", URL: startEverythingHTTP(t, srv, "sse")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			root := t.TempDir()
			set := connectTest(t, &Config{Servers: map[string]ServerConfig{"every thing": tc.cfg(t)}},
				&Options{Root: root, Images: true, CallTimeout: 30 * time.Second})

			call := func(tool, args string) string {
				t.Helper()
				out, err := callText(t.Context(), t, toolByName(t, set, "every_thing__"+tool), args)
				require.NoError(t, err)
				return out
			}
			assert.Equal(t, "Echo: hello", call("echo", `{"message":"hello"}`))
			assert.Contains(t, call("get-sum", `{"a":2,"b":3.5}`), "5.5")

			structured := call("get-structured-content", `{"location":"Chicago"}`)
			var weather map[string]any
			require.NoError(t, json.Unmarshal([]byte(structured), &weather), "structured content as JSON: %s", structured)
			assert.Contains(t, weather, "temperature")

			it, err := toolByName(t, set, "every_thing__get-tiny-image").Call(t.Context(), fnCall("every_thing__get-tiny-image", `{}`))
			require.NoError(t, err)
			var out struct {
				Output []responses.ContentPart `json:"output"`
			}
			require.NoError(t, it.Decode(&out))
			var image *responses.ContentPart
			for i, p := range out.Output {
				if p.Type == "input_image" {
					image = &out.Output[i]
				}
			}
			require.NotNil(t, image, "the image is attached: %s", it.Raw())
			assert.True(t, strings.HasPrefix(image.ImageURL, "data:image/png;base64,"))

			var (
				mu       sync.Mutex
				progress []tools.Progress
			)
			lc := fnCall("every_thing__trigger-long-running-operation", `{"duration":1,"steps":3}`)
			lc.Progress = func(p tools.Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }
			it, err = toolByName(t, set, "every_thing__trigger-long-running-operation").Call(t.Context(), lc)
			require.NoError(t, err)
			assert.Contains(t, outputText(t, it), "Long running operation completed")
			mu.Lock()
			require.NotEmpty(t, progress, "progress notifications become progress reports")
			assert.Equal(t, 3.0, progress[len(progress)-1].Total)
			mu.Unlock()

			if tc.name == "sse" {
				// No roots over legacy SSE (mcp-go cannot answer the server's
				// requests there), so no get-roots-list either.
				require.NoError(t, set.Close())
				return
			}
			// Conditional tools are registered after initialize and announced
			// with tools/list_changed.
			require.Eventually(t, func() bool {
				ts, err := set.Tools(t.Context())
				require.NoError(t, err)
				for _, tl := range ts {
					if tl.(*Tool).ToolName() == "get-roots-list" {
						return true
					}
				}
				return false
			}, 10*time.Second, 50*time.Millisecond)
			assert.Contains(t, call("get-roots-list", `{}`), "file://"+root)

			require.NoError(t, set.Close())
		})
	}
}

func TestEverythingImagesDescribed(t *testing.T) {
	srv := requireNPMServers(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"e": {Command: srv.node, Args: []string{srv.everything}, Env: everythingEnv(srv.node)}}}, nil)
	out, err := callText(t.Context(), t, toolByName(t, set, "e__get-tiny-image"), "")
	require.NoError(t, err)
	assert.Contains(t, out, "[image: image/png, ")
}

func TestFilesystemServer(t *testing.T) {
	checkLeaks(t)
	srv := requireNPMServers(t)
	root := t.TempDir()
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"fs": {
		Command: srv.node, Args: []string{srv.filesystem, root}, Env: map[string]string{"PATH": filepath.Dir(srv.node)},
	}}}, &Options{Root: root})

	path := filepath.Join(root, "notes.txt")
	args, _ := json.Marshal(map[string]string{"path": path, "content": "first line\nsecond line\n"})
	_, err := callText(t.Context(), t, toolByName(t, set, "fs__write_file"), string(args))
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "first line\nsecond line\n", string(b))

	args, _ = json.Marshal(map[string]string{"path": path})
	out, err := callText(t.Context(), t, toolByName(t, set, "fs__read_text_file"), string(args))
	require.NoError(t, err)
	assert.Contains(t, out, "second line")

	outside := filepath.Join(filepath.Dir(root), "outside.txt")
	require.NoError(t, os.WriteFile(outside, []byte("secret"), 0o600))
	t.Cleanup(func() { os.Remove(outside) })
	args, _ = json.Marshal(map[string]string{"path": outside})
	it, err := toolByName(t, set, "fs__read_text_file").Call(t.Context(), fnCall("fs__read_text_file", string(args)))
	require.NoError(t, err, "an isError result is an output, not a Go error")
	out = outputText(t, it)
	assert.True(t, strings.HasPrefix(out, "error: "), out)
	assert.Contains(t, out, "Access denied")
	assert.Contains(t, out, "outside allowed directories")
	assert.NotContains(t, out, "secret")
	require.NoError(t, set.Close())
}

// keep net/http imported for the in-process HTTP server tests.
var _ = http.StatusOK
