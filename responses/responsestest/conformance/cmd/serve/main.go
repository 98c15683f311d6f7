// Command serve runs a responsestest server on 127.0.0.1 for clients in
// other languages: it prints "URL <base>" on one line, answers every
// request with the conformance Model, and stops when its standard input
// closes or it gets SIGINT/SIGTERM. On exit it prints the script
// mismatches, if any, and exits 1 when there were some.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/responses/responsestest/conformance"
)

func main() {
	s := rt.NewServer(conformance.Model())
	fmt.Printf("URL %s\n", s.URL)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	s.Close()
	if err := s.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "serve: script mismatches: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("served %d requests\n", len(s.Requests()))
}
