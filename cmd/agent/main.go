package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentloop/agentloop/tools/shell"
)

func main() {
	// Sandboxed commands re-execute this program as their helper; in that
	// process this call never returns.
	shell.RunSandboxHelperIfRequested()

	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	code := run(context.Background(), &env{
		args:       os.Args[1:],
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		getenv:     os.Getenv,
		lookupEnv:  os.LookupEnv,
		environ:    os.Environ,
		interrupts: interrupts,
		exit:       os.Exit,
	})
	os.Exit(code)
}
