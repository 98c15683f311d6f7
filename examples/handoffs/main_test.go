package main

import "testing"

// TestRun runs the example offline, so it cannot rot.
func TestRun(t *testing.T) {
	if err := run(t.Context()); err != nil {
		t.Fatal(err)
	}
}
