package function_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// callItem is a function_call item as the model would produce it.
func callItem(name, args string) tools.Call {
	return tools.NewCall(responses.MustItem(responses.FunctionCall{
		Type: responses.TypeFunctionCall, CallID: "call_1", Name: name, Arguments: args,
	}))
}

func ExampleNew() {
	type Args struct {
		City  string  `json:"city" jsonschema:"the city, e.g. Paris"`
		Units *string `json:"units,omitempty" jsonschema:"enum=c,enum=f"`
	}
	forecast := function.New("get_forecast", "Three-day forecast for a city.",
		func(ctx context.Context, a Args) (string, error) {
			return "sunny in " + a.City, nil
		}, nil)

	fmt.Println(string(forecast.Schema()))

	out, err := forecast.Call(context.Background(), callItem("get_forecast", `{"city":"Paris","units":null}`))
	fmt.Println(string(out.Raw()), err)

	// Invalid arguments never reach the function; the loop sends the error
	// to the model, which can correct itself.
	_, err = forecast.Call(context.Background(), callItem("get_forecast", `{"city":"Paris","units":"k"}`))
	fmt.Println(err)
	// Output:
	// {"type":"object","properties":{"city":{"type":"string","description":"the city, e.g. Paris"},"units":{"type":["string","null"],"enum":["c","f",null]}},"required":["city","units"],"additionalProperties":false}
	// {"type":"function_call_output","call_id":"call_1","output":"sunny in Paris"} <nil>
	// invalid arguments: units: got "k", want one of "c", "f", null
}

func ExampleNew_noArguments() {
	now := function.New("clock", "The time of day.",
		func(context.Context, struct{}) (string, error) { return "12:00", nil }, nil)
	fmt.Println(string(now.Definition().Raw()))
	// Output:
	// {"type":"function","name":"clock","description":"The time of day.","parameters":{"type":"object","properties":{},"additionalProperties":false},"strict":true}
}

func ExampleNew_jsonResult() {
	type Args struct {
		Key string `json:"key"`
	}
	type Ticket struct {
		Key   string `json:"key"`
		State string `json:"state"`
	}
	lookup := function.New("lookup_ticket", "Look a ticket up.",
		func(ctx context.Context, a Args) (Ticket, error) {
			return Ticket{Key: a.Key, State: "open"}, nil
		}, &function.Options{NeedsApproval: function.Always})

	review, _ := lookup.Review(context.Background(), callItem("lookup_ticket", `{"key":"OPS-12"}`))
	fmt.Println(review.Decision, review.Request.Key)

	out, _ := lookup.Call(context.Background(), callItem("lookup_ticket", `{"key":"OPS-12"}`))
	fmt.Println(string(out.Raw()))
	// Output:
	// ask function:lookup_ticket
	// {"type":"function_call_output","call_id":"call_1","output":"{\"key\":\"OPS-12\",\"state\":\"open\"}"}
}

func ExampleNewRaw() {
	schema := json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer","minimum":0}},"required":["n"],"additionalProperties":false}`)
	square := function.NewRaw("square", "Square a number.", schema,
		func(ctx context.Context, args json.RawMessage) (any, error) {
			var a struct{ N int }
			if err := json.Unmarshal(args, &a); err != nil {
				return nil, err
			}
			return map[string]int{"square": a.N * a.N}, nil
		}, nil)
	fmt.Println(square.Strict())

	out, _ := square.Call(context.Background(), callItem("square", `{"n":7}`))
	fmt.Println(string(out.Raw()))

	_, err := square.Call(context.Background(), callItem("square", `{"n":-1}`))
	fmt.Println(err)
	// Output:
	// true
	// {"type":"function_call_output","call_id":"call_1","output":"{\"square\":49}"}
	// invalid arguments: n: minimum: got -1, want 0
}

func ExampleNewCustom() {
	query := function.NewCustom("run_query", "Run one read-only query.",
		func(ctx context.Context, input string) (string, error) {
			return "rows for " + strings.TrimPrefix(input, "SHOW "), nil
		}, &function.Options{Grammar: &function.Grammar{
			Syntax:     "lark",
			Definition: "start: \"SHOW \" TABLE\nTABLE: /[a-z_]{1,30}/",
		}})
	fmt.Println(string(query.Definition().Raw()))

	call := tools.NewCall(responses.MustItem(responses.CustomToolCall{
		Type: responses.TypeCustomToolCall, CallID: "call_q9", Name: "run_query", Input: "SHOW orders",
	}))
	out, _ := query.Call(context.Background(), call)
	fmt.Println(string(out.Raw()))
	// Output:
	// {"type":"custom","name":"run_query","description":"Run one read-only query.","format":{"definition":"start: \"SHOW \" TABLE\nTABLE: /[a-z_]{1,30}/","syntax":"lark","type":"grammar"}}
	// {"type":"custom_tool_call_output","call_id":"call_q9","output":"rows for orders"}
}

func ExampleIf() {
	type Args struct {
		To     string `json:"to"`
		Amount int    `json:"amount"`
	}
	pay := function.New("pay", "Send money.",
		func(ctx context.Context, a Args) (string, error) { return "sent", nil },
		&function.Options{
			NeedsApproval: function.If(func(a Args) bool { return a.Amount > 100 }),
			Serial:        true,
		})
	small, _ := pay.Review(context.Background(), callItem("pay", `{"to":"bob","amount":5}`))
	large, _ := pay.Review(context.Background(), callItem("pay", `{"to":"bob","amount":500}`))
	fmt.Println(small.Decision, large.Decision, large.Request.Summary)
	// Output:
	// allow ask pay {"to":"bob","amount":500}
}
