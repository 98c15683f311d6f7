package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
)

// The test runs the example's commands as separate processes, as the
// README does: this test binary again, with exampleArgs set.
const exampleArgs = "AGENTLOOP_EXAMPLE_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(exampleArgs); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		if err := run(argv); err != nil {
			os.Stderr.WriteString("approval: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	b, _ := json.Marshal(args)
	cmd.Env = append(os.Environ(), exampleArgs+"="+string(b))
	return cmd
}

// TestExample: a worker, a starter that waits, and approvals given from
// other processes through the Update, against a real dev server.
func TestExample(t *testing.T) {
	cli := os.Getenv("AGENTLOOP_TEMPORAL_CLI")
	if cli == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("AGENTLOOP_TEMPORAL_CLI is not set: CI must run the Temporal example test")
		}
		t.Skip("AGENTLOOP_TEMPORAL_CLI is not set: set it to the temporal CLI binary to run the example against a dev server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath: cli, DBFilename: filepath.Join(t.TempDir(), "t.db"), LogLevel: "error",
		ClientOptions: &client.Options{HostPort: addr, Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))},
		Stdout:        &bytes.Buffer{}, Stderr: &bytes.Buffer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	a := []string{"-address", addr, "-queue", "example-test"}
	w := command(append(a, "worker")...)
	var wout syncBuffer
	w.Stdout, w.Stderr = &wout, &wout
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = w.Process.Signal(syscall.SIGTERM)
		_ = w.Wait()
	}()
	starter := command(append(a, "start", "-id", "demo-1", "clean", "up")...)
	var sout syncBuffer
	starter.Stdout, starter.Stderr = &sout, &sout
	if err := starter.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = starter.Process.Kill() }()

	out := func(args ...string) (string, error) {
		b, err := command(append(a, args...)...).CombinedOutput()
		return string(b), err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := out("pending", "-id", "demo-1")
		if err == nil && strings.Contains(got, "call_1  delete_file") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pending approval: %s %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := out("approve", "-id", "demo-1", "-call", "call_7"); err == nil || !strings.Contains(got, `no approval is pending for call "call_7"`) {
		t.Errorf("approving an unknown call: %s %v", got, err)
	}
	if got, err := out("approve", "-id", "demo-1", "-call", "call_1"); err != nil {
		t.Fatalf("approve call_1: %s %v", got, err)
	}
	for {
		got, err := out("pending", "-id", "demo-1")
		if err == nil && strings.Contains(got, "call_2  delete_file") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call_2 not pending: %s %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := out("approve", "-id", "demo-1", "-call", "call_2", "-deny", "keep it"); err != nil {
		t.Fatalf("deny call_2: %s %v", got, err)
	}
	done := make(chan error, 1)
	go func() { done <- starter.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("starter: %v\n%s", err, sout.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the run did not end:\n%s", sout.String())
	}
	want := "Done. call_1: deleted /tmp/demo/a.log; call_2: The call was declined: keep it"
	if !strings.Contains(sout.String(), want) {
		t.Errorf("starter printed:\n%s\nwant %q", sout.String(), want)
	}
	if !strings.Contains(wout.String(), "idempotency key demo-1/call_1, attempt 1") {
		t.Errorf("worker printed:\n%s", wout.String())
	}
}
