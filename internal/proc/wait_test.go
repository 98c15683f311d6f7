package proc

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestWaitExitLeavesTheChildToReap(t *testing.T) {
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	WaitExit(cmd.Process.Pid)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("WaitExit returned after %s, before the child exited", d)
	}
	// Not reaped yet: the pid still exists as a zombie, so signal 0 works.
	if err := syscall.Kill(cmd.Process.Pid, 0); err != nil {
		t.Errorf("the child was reaped by WaitExit: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("Wait after WaitExit: %v", err)
	}
}

func TestWaitExitOnMissingProcess(t *testing.T) {
	done := make(chan struct{})
	go func() {
		WaitExit(1 << 30) // no such process: returns at once
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("WaitExit blocked on a missing process")
	}
}
