package session_test

import (
	"fmt"
	"os"

	"github.com/agentloop/agentloop/cmd/agent/internal/session"
)

func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "sessions")
	defer os.RemoveAll(dir)

	s, _ := session.Create(dir, session.Header{Model: "gpt-5-codex"})
	s.AppendPrompt("fix the test")
	s.AppendResult(session.Result{ResponseID: "resp_1"})
	s.Close()

	again, _ := session.Open(dir, "") // the latest session
	defer again.Close()
	prev, _, _ := again.State()
	fmt.Println(again.ID() == s.ID(), prev, again.Tasks())
	// Output: true resp_1 1
}
