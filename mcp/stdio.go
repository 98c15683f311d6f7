package mcp

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
)

// dialStdio starts the server's command in its own process group, from its
// config's cwd (or the workspace root), with the environment of o plus its
// config's env, and initialises the session. Its stderr goes to stderr.
func dialStdio(ctx context.Context, name string, sc *ServerConfig, o *Options, stderr *tailBuffer, h sessionHooks) (*dialed, error) {
	dir := sc.Cwd
	if dir == "" {
		dir = o.Root
	}
	env := append(make([]string, 0, len(o.Env)+len(sc.Env)), o.Env...) // never nil: nil would inherit ours
	for _, k := range sortedKeys(sc.Env) {
		env = append(env, k+"="+sc.Env[k])
	}
	var s *clientSession
	cmdFunc := func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
		// Not CommandContext: the server lives until Close, not until the
		// context of the call that started it ends.
		path := command
		if filepath.Base(command) == command {
			p, err := lookPath(command, env)
			if err != nil {
				return nil, err
			}
			path = p
		}
		c := exec.Command(path, args...)
		c.Args[0] = command
		c.Env = env
		c.Dir = dir
		c.Stderr = stderr
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.WaitDelay = time.Second
		s.cmd = c
		return c, nil
	}
	tr := transport.NewStdioWithOptions(sc.Command, env, sc.Args,
		transport.WithCommandFunc(cmdFunc), transport.WithCommandLogger(o.Logger.With("mcp_server", name)))
	s, caps := newSession(name, tr, o, h, true)
	return s.handshake(ctx, name, sc, o, caps)
}

// lookPath finds command in the PATH of env (not of this process).
func lookPath(command string, env []string) (string, error) {
	path := ""
	for _, kv := range env {
		if len(kv) > 5 && kv[:5] == "PATH=" {
			path = kv[5:]
		}
	}
	if path == "" {
		return exec.LookPath(command)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, command)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w in PATH", command, exec.ErrNotFound)
}
