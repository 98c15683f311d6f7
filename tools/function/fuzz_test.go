package function

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// FuzzArguments feeds arbitrary argument strings to a function tool: Call
// must never panic, must run the function only with arguments that match the
// schema, and must answer anything else with an "invalid arguments" error.
func FuzzArguments(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"city":"Paris","units":"c","days":3}`,
		`{"city":"Paris","units":null,"days":null}`, `{"city":1}`, `{"city":"a","units":"k","days":1}`,
		`{"city":"a","units":"c","days":0}`, `{"city":"a","units":"c","days":1,"x":{}}`, `{"city":"a"} {}`,
		`{"city":"\ud800","units":"c","days":2}`, `{"city":"a","units":"c","days":1e400}`, `{"city":"a","units":"c","days":2.5}`,
		`{"nested":{"deep":[[[[[[[]]]]]]]}}`, strings.Repeat(`[`, 10000),
	} {
		f.Add(seed)
	}
	// One tool for all inputs (inputs run one at a time in each worker).
	var ran bool
	var bad string
	tool := New("weather", "", func(ctx context.Context, a weatherArgs) (forecast, error) {
		ran = true
		if a.Units != nil && *a.Units != "c" && *a.Units != "f" {
			bad = "units " + *a.Units
		}
		if a.Days != 0 && (a.Days < 1 || a.Days > 7) {
			bad = "days out of range"
		}
		return weather(ctx, a)
	}, nil)
	f.Fuzz(func(t *testing.T, args string) {
		ran, bad = false, ""
		call := tools.NewCall(responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "call_f", Name: "weather", Arguments: args}))
		it, err := tool.Call(context.Background(), call)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid arguments: ") {
				t.Fatalf("error %q for %q", err, args)
			}
			if ran {
				t.Fatalf("the function ran for invalid arguments %q", args)
			}
			return
		}
		if !ran {
			t.Fatalf("no error but the function did not run for %q", args)
		}
		if bad != "" {
			t.Fatalf("the function ran with %s for %q", bad, args)
		}
		if !json.Valid(it.Raw()) {
			t.Fatalf("invalid output item %s", it.Raw())
		}
	})
}
