package agent_test

import (
	"context"
	"fmt"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func ExampleRunAs() {
	srv := responsestest.NewServer(responsestest.Output(responsestest.Text(`{"city":"Paris","celsius":21.5}`)))
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	a := agent.New(client, "gpt-4.1-mini", nil)

	type Weather struct {
		City    string  `json:"city"`
		Celsius float64 `json:"celsius" jsonschema:"temperature in degrees Celsius"`
	}
	w, _, err := agent.RunAs[Weather](context.Background(), a, "Weather in Paris?")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.1f°C\n", w.City, w.Celsius)
	fmt.Println(string(responses.MustJSON(srv.Requests()[0].Params.Text.Format)))
	// Output:
	// Paris: 21.5°C
	// {"type":"json_schema","name":"Weather","schema":{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number","description":"temperature in degrees Celsius"}},"required":["city","celsius"],"additionalProperties":false},"strict":true}
}

func ExampleHosted() {
	srv := responsestest.NewServer(responsestest.Output(
		responsestest.Raw(`{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"go 1.26 release notes"}}`),
		responsestest.Text("Go 1.26 was released in February."),
	))
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	a := agent.New(client, "gpt-4.1-mini", &agent.Options{Tools: []tools.Tool{
		agent.Hosted(responses.WebSearchTool{Type: "web_search", SearchContextSize: "low"}),
	}})
	for ev, err := range a.Stream(context.Background(), "When was Go 1.26 released?") {
		if err != nil {
			fmt.Println(err)
			return
		}
		switch {
		case ev.Kind == agent.EventHostedTool && ev.Hosted.Item == nil:
			fmt.Println(ev.Hosted.Type, ev.Hosted.Status)
		case ev.Kind == agent.EventHostedTool:
			fmt.Println("searched for", ev.Hosted.Queries)
		case ev.Kind == agent.EventRunCompleted:
			fmt.Println(ev.Result.Text)
		}
	}
	// Output:
	// web_search_call in_progress
	// web_search_call searching
	// web_search_call completed
	// searched for [go 1.26 release notes]
	// Go 1.26 was released in February.
}

func ExampleWithConversation() {
	srv := responsestest.NewServer(
		responsestest.Output(responsestest.Text("Noted: your name is Ada.")),
		responsestest.Output(responsestest.Text("Your name is Ada.")),
	)
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	a := agent.New(client, "gpt-4.1-mini", nil)
	ctx := context.Background()
	conv := srv.CreateConversation() // with OpenAI: POST /v1/conversations
	for _, prompt := range []string{"My name is Ada.", "What is my name?"} {
		res, err := a.Run(ctx, prompt, agent.WithConversation(conv))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Text)
	}
	fmt.Println(len(srv.Conversation(conv)), "items in the conversation")
	// Output:
	// Noted: your name is Ada.
	// Your name is Ada.
	// 4 items in the conversation
}

func ExampleCompaction() {
	srv := responsestest.NewServer(
		responsestest.Reply{ // a response that fills 80% of the window
			Output: []responses.Item{responsestest.FunctionCall("call_1", "note", `{}`)},
			Usage:  &responses.Usage{InputTokens: 7000, OutputTokens: 1000},
		},
		responsestest.Output(responsestest.Text("Done.")),
	)
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	note := function.New("note", "Take a note.", func(ctx context.Context, _ struct{}) (string, error) { return "noted", nil }, nil)
	a := agent.New(client, "gpt-4.1-mini", &agent.Options{
		Tools:      []tools.Tool{note},
		Compaction: agent.Compaction{ContextWindow: 10000, Threshold: 0.75},
	})
	for ev, err := range a.Stream(context.Background(), "Read everything, take a note.") {
		if err != nil {
			fmt.Println(err)
			return
		}
		switch ev.Kind {
		case agent.EventCompacted:
			fmt.Println("compacted into a", ev.Item.Type, "item")
		case agent.EventRunCompleted:
			fmt.Println(ev.Result.Text)
		}
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Path, len(r.Params.Input.Items), "input items")
	}
	// Output:
	// compacted into a compaction item
	// Done.
	// /responses 1 input items
	// /responses/compact 1 input items
	// /responses 2 input items
}
