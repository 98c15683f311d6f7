package main

import "testing"

// TestRun runs the example offline, so it cannot rot.
func TestRun(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("SGP_API_KEY", "")
	if err := run(t.Context(), false); err != nil {
		t.Fatal(err)
	}
}
