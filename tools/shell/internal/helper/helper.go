// Package helper is the sandbox and reaper helper of package shell: the
// code that runs in the program re-executed (through /proc/self/exe) to
// start one command inside the sandbox or under a child subreaper.
//
// It runs from this package's init function, which the Go specification
// orders before the initialisers of every package that sorts after it by
// import path and whose own imports are initialised no earlier than this
// package's few ones (os, os/signal, encoding/json, golang.org/x/sys/unix,
// Landlock): in practice before every third-party package with costly
// initialisers (a JSON-schema library's meta-schemas cost several
// milliseconds), so a command pays for the start of the runtime and the
// standard library, not for the start of the whole program. A test of
// package shell checks which packages run their initialisers before the
// helper takes over.
package helper

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Arg is the hidden first argument that makes a program act as the helper.
const Arg = "__agentloop_shell_sandbox_helper__"

// Failed is the helper's exit status when it cannot apply the sandbox or
// start the command; its stderr then starts with FailurePrefix.
const (
	Failed        = 126
	FailurePrefix = "agentloop sandbox: "
)

// Spec is what the parent tells the helper, as JSON in argv.
type Spec struct {
	Path     string   // the program to execute, absolute
	Writable []string // directories writable (besides a few device files)
	Network  bool
	ABI      int // the kernel's Landlock ABI, as probed by the parent

	// Masks are bind-mounted over denied paths: an unreadable directory or
	// file each.
	Masks []Mask

	// Reaper runs the command unsandboxed, with the helper as its child
	// subreaper; Grace is the time between a stopping signal and SIGKILL.
	Reaper bool
	Grace  time.Duration
}

// Mask hides Target behind Source, a directory or file of the same kind
// that no one in the sandbox can read.
type Mask struct {
	Target, Source string
}

// Args returns the helper's argv for running argv under spec, starting with
// name (argv[0] of the helper process, for ps).
func Args(name string, spec Spec, argv []string) ([]string, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return append([]string{name, Arg, string(js)}, argv...), nil
}

func init() {
	if len(os.Args) > 1 && os.Args[1] == Arg {
		err := run(os.Args[2:])
		fmt.Fprintf(os.Stderr, "%s%v\n", FailurePrefix, err)
		// syscall.Exit, not os.Exit: nothing else is initialised.
		syscall.Exit(Failed)
	}
}

// run applies the sandbox (or becomes the reaper) and runs the command. It
// returns only on failure.
func run(args []string) error {
	if len(args) < 2 {
		return errors.New("helper: missing arguments")
	}
	var spec Spec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		return fmt.Errorf("helper: %w", err)
	}
	argv := args[1:]
	if spec.Reaper {
		return reap(spec, argv)
	}
	return sandbox(spec, argv)
}
