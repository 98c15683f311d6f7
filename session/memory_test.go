package session_test

import (
	"testing"

	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sessiontest"
)

func TestMemory(t *testing.T) {
	sessiontest.Run(t, sessiontest.Suite{
		New:     func(t *testing.T) session.Store { return session.NewMemory() },
		NoCrash: "a memory store does not outlive its process",
	})
}

func BenchmarkMemory(b *testing.B) {
	sessiontest.Bench(b, func(b *testing.B) session.Store { return session.NewMemory() })
}
