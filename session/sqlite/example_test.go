package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
	"github.com/agentloop/agentloop/session/sqlite"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := sqlite.Open(ctx, filepath.Join(dir, "sessions.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	turn := session.Turn{Items: []responses.Item{responses.UserMessage("hello")}, ResponseID: "resp_1"}
	if _, err := store.Append(ctx, "user-42", 0, turn); err != nil {
		log.Fatal(err)
	}
	c, err := store.Load(ctx, "user-42", &session.LoadOptions{Last: 50})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Version, c.ResponseID, c.Items[0].Text())
	// Output: 1 resp_1 hello
}
