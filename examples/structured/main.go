// Structured shows structured output: the run's final answer is constrained
// to a JSON Schema derived from a Go type, and agent.RunAs returns it
// decoded into that type (or an *agent.OutputError when the model's answer
// does not match). It runs offline against a scripted model.
//
//	go run ./examples/structured
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// Triage is the answer the application wants: a typed value, not prose.
type Triage struct {
	Ticket   string   `json:"ticket" jsonschema:"the ticket key"`
	Severity string   `json:"severity" jsonschema:"enum=low,enum=medium,enum=high"`
	Owners   []string `json:"owners" jsonschema:"teams that should act"`
	Summary  string   `json:"summary" jsonschema:"one sentence"`
	Due      *string  `json:"due,omitempty" jsonschema:"ISO date, if there is a deadline"`
}

type ticketArgs struct {
	Key string `json:"key" jsonschema:"ticket key such as OPS-12"`
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "structured:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	lookup := function.New("lookup_ticket", "Fetch a ticket by key.",
		func(ctx context.Context, in ticketArgs) (map[string]string, error) {
			return map[string]string{"key": in.Key, "title": "Checkout returns 500 for EU cards", "reporter": "support"}, nil
		}, nil)

	srv := rt.NewServer(
		rt.Output(rt.FunctionCall("call_1", "lookup_ticket", `{"key":"OPS-12"}`)),
		rt.Output(rt.Text(`{"ticket":"OPS-12","severity":"high","owners":["payments","sre"],"summary":"EU card payments fail at checkout.","due":null}`)),
		// A second run whose answer breaks the schema.
		rt.Output(rt.Text(`{"ticket":"OPS-13","severity":"urgent","owners":[],"summary":"?","due":null}`)),
	)
	defer srv.Close()
	a := agent.New(responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL}),
		"scripted-model", &agent.Options{
			Instructions: "Triage the ticket.",
			Tools:        []tools.Tool{lookup},
		})

	format, err := agent.OutputFormat[Triage]()
	if err != nil {
		return err
	}
	fmt.Printf("text.format: name=%s strict=%v\nschema: %s\n", format.Name, *format.Strict, format.Schema)

	triage, res, err := agent.RunAs[Triage](ctx, a, "Triage OPS-12.")
	if err != nil {
		return err
	}
	fmt.Printf("typed result after %d turns: %+v (due set: %v)\n", res.Turns, triage, triage.Due != nil)

	_, _, err = agent.RunAs[Triage](ctx, a, "Triage OPS-13.")
	var oe *agent.OutputError
	if !errors.As(err, &oe) {
		return fmt.Errorf("want an OutputError, got %v", err)
	}
	fmt.Println("mismatch reported:", oe.Err)
	return srv.Err()
}
