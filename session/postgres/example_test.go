package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/agentloop/agentloop/session/postgres"
)

func ExampleOpen() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	c, err := store.Load(ctx, "user-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	log.Println(c.Version, len(c.Items))
}
