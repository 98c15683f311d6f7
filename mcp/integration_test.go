package mcp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	pngenc "image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
		if os.Getenv(requireMCPServersEnv) != "" || os.Getenv("CI") == "true" {
			t.Fatalf("the MCP integration tests must run here (%s or CI=true), but %s", requireMCPServersEnv, msg)
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
	require.ErrorIs(t, err, ErrToolFailed, "an isError result is an output with an error beside it")
	assert.Equal(t, tools.OutcomeError, tools.OutcomeOf(err))
	out = outputText(t, it)
	assert.True(t, strings.HasPrefix(out, "error: "), out)
	assert.Contains(t, out, "Access denied")
	assert.Contains(t, out, "outside allowed directories")
	assert.NotContains(t, out, "secret")
	require.NoError(t, set.Close())
}

// TestFilesystemResults: what reaches the model is the content the server
// meant for it: a text file's bytes exactly (not doubled by the
// structuredContent that repeats them), and a PNG as an image or a
// description, never as base64 text.
func TestFilesystemResults(t *testing.T) {
	checkLeaks(t)
	srv := requireNPMServers(t)
	root := t.TempDir()
	text := "The quick brown fox jumps over the lazy dog\n"
	require.Len(t, text, 44)
	require.NoError(t, os.WriteFile(filepath.Join(root, "fox.txt"), []byte(text), 0o644))
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	require.NoError(t, pngenc.Encode(&png, img))
	require.NoError(t, os.WriteFile(filepath.Join(root, "dot.png"), png.Bytes(), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "blob.bin"), png.Bytes(), 0o644))
	b64 := base64.StdEncoding.EncodeToString(png.Bytes())

	for _, images := range []bool{false, true} {
		t.Run(fmt.Sprintf("images=%v", images), func(t *testing.T) {
			set := connectTest(t, &Config{Servers: map[string]ServerConfig{"fs": {
				Command: srv.node, Args: []string{srv.filesystem, root}, Env: map[string]string{"PATH": filepath.Dir(srv.node)},
			}}}, &Options{Root: root, Images: images, MaxOutputBytes: -1})
			call := func(tool, path string) responses.Item {
				t.Helper()
				args, _ := json.Marshal(map[string]string{"path": filepath.Join(root, path)})
				it, err := toolByName(t, set, "fs__"+tool).Call(t.Context(), fnCall("fs__"+tool, string(args)))
				require.NoError(t, err)
				return it
			}
			assert.Equal(t, text, outputText(t, call("read_text_file", "fox.txt")), "exactly the file's 44 bytes")
			args, _ := json.Marshal(map[string]string{"path": filepath.Join(root, "fox.txt")})
			_, sc, err := toolByName(t, set, "fs__read_text_file").CallStructured(t.Context(), fnCall("fs__read_text_file", string(args)))
			require.NoError(t, err)
			assert.JSONEq(t, `{"content":`+strconv.Quote(text)+`}`, string(sc), "structuredContent stays available to Go")

			it := call("read_media_file", "dot.png")
			var out responses.FunctionCallOutput
			require.NoError(t, it.Decode(&out))
			if images {
				var parts []responses.ContentPart
				require.NoError(t, json.Unmarshal(out.Output, &parts), "%s", out.Output)
				require.Len(t, parts, 1)
				assert.Equal(t, "input_image", parts[0].Type)
				assert.Equal(t, "data:image/png;base64,"+b64, parts[0].ImageURL)
			} else {
				s := outputText(t, it)
				assert.Equal(t, fmt.Sprintf("[image: image/png, %d bytes]", png.Len()), s)
			}
			assertNoBase64Text(t, out.Output, b64)

			it = call("read_media_file", "blob.bin")
			require.NoError(t, it.Decode(&out))
			assertNoBase64Text(t, out.Output, b64)
			assert.Contains(t, outputText(t, it), "of binary data]")
			require.NoError(t, set.Close())
		})
	}
}

// assertNoBase64Text checks that no text of an output (a string or the
// input_text parts of an array) carries b64 or any long part of it.
func assertNoBase64Text(t *testing.T, output json.RawMessage, b64 string) {
	t.Helper()
	var texts []string
	var s string
	if json.Unmarshal(output, &s) == nil {
		texts = append(texts, s)
	} else {
		var parts []responses.ContentPart
		require.NoError(t, json.Unmarshal(output, &parts))
		for _, p := range parts {
			texts = append(texts, p.Text)
		}
	}
	for _, s := range texts {
		assert.NotContains(t, s, b64[:32], "base64 in the text the model reads")
	}
}

// keep net/http imported for the in-process HTTP server tests.
var _ = http.StatusOK
