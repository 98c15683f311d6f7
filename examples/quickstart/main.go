// Quickstart runs an agent with two Go functions as tools and prints what it
// does: the tool calls it makes, their results, and the answer as it streams.
//
// With no API key it runs offline against a scripted model served over real
// HTTP by responsestest. With OPENAI_API_KEY (or SGP_API_KEY for the Scale
// GenAI Platform) set, it talks to the real service; AGENTLOOP_MODEL picks the
// model.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

type cityArgs struct {
	City string `json:"city" jsonschema:"the city name, e.g. Paris"`
}

type forecast struct {
	City       string `json:"city"`
	Conditions string `json:"conditions"`
	HighC      int    `json:"high_c"`
}

type convertArgs struct {
	Celsius float64 `json:"celsius" jsonschema:"a temperature in degrees Celsius"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	weather := function.New("get_weather", "Today's weather in a city.",
		func(ctx context.Context, in cityArgs) (forecast, error) {
			table := map[string]forecast{
				"paris": {"Paris", "light rain", 14},
				"tokyo": {"Tokyo", "sunny", 21},
			}
			f, ok := table[strings.ToLower(in.City)]
			if !ok {
				return forecast{}, fmt.Errorf("no forecast for %q", in.City)
			}
			return f, nil
		}, nil)
	toF := function.New("celsius_to_fahrenheit", "Convert Celsius to Fahrenheit.",
		func(ctx context.Context, in convertArgs) (float64, error) {
			return in.Celsius*9/5 + 32, nil
		}, nil)

	client, model, cleanup, err := connect()
	if err != nil {
		return err
	}
	defer cleanup()

	a := agent.New(client, model, &agent.Options{
		Instructions: "You answer questions about the weather. Use the tools; be brief.",
		Tools:        []tools.Tool{weather, toF},
	})
	for ev, err := range a.Stream(ctx, "What's the weather in Paris and Tokyo? Give Tokyo's high in Fahrenheit too.") {
		switch ev.Kind {
		case agent.EventTurnStarted:
			fmt.Printf("── turn %d\n", ev.Turn)
		case agent.EventToolStarted:
			fmt.Printf("→ %s %s\n", ev.Tool.Name, arguments(ev.Tool.Call))
		case agent.EventToolFinished:
			fmt.Printf("← %s [%s, %s] %s\n", ev.Tool.Name, ev.Tool.Outcome, ev.Tool.Duration.Round(time.Microsecond), output(ev.Tool.Output))
		case agent.EventTextDelta:
			fmt.Print(ev.Delta)
		case agent.EventRunCompleted:
			if err != nil {
				return err
			}
			r := ev.Result
			fmt.Printf("\n── done: %d turns, %d tool calls, %d input + %d output tokens\n",
				r.Turns, r.ToolCalls, r.Usage.InputTokens, r.Usage.OutputTokens)
		}
	}
	return nil
}

// connect returns a client for the real service when a key is set, and
// otherwise one for a scripted model served on 127.0.0.1.
func connect() (agent.Client, string, func(), error) {
	if os.Getenv("OPENAI_API_KEY") != "" || os.Getenv("SGP_API_KEY") != "" {
		opts, err := responses.OptionsFromEnv(os.Getenv)
		if err != nil {
			return nil, "", nil, err
		}
		model := os.Getenv("AGENTLOOP_MODEL")
		if model == "" {
			model = "gpt-4.1-mini"
			if opts.Provider == responses.SGP {
				model = "openai/gpt-4.1-mini"
			}
		}
		fmt.Printf("(talking to %s as %s)\n", opts.Provider, model)
		return responses.NewClient(opts), model, func() {}, nil
	}
	srv := responsestest.NewServer(responsestest.Model(scriptedModel))
	fmt.Printf("(no OPENAI_API_KEY or SGP_API_KEY: using a scripted model at %s)\n", srv.URL)
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	return c, "scripted-model", srv.Close, nil
}

// scriptedModel plays the model: first it asks for both forecasts at once,
// then for a unit conversion, then it answers from the tool outputs it was
// sent.
func scriptedModel(req *responses.Request) responsestest.Reply {
	outputs := map[string]string{}
	for _, it := range req.Input.Items {
		if it.Type == responses.TypeFunctionCallOutput {
			var o struct {
				Output string `json:"output"`
			}
			_ = it.Decode(&o)
			outputs[it.CallID] = o.Output
		}
	}
	switch {
	case req.PreviousResponseID == "":
		return responsestest.Output(
			responsestest.FunctionCall("call_paris", "get_weather", `{"city":"Paris"}`),
			responsestest.FunctionCall("call_tokyo", "get_weather", `{"city":"Tokyo"}`),
		)
	case outputs["call_tokyo"] != "":
		var tokyo forecast
		_ = json.Unmarshal([]byte(outputs["call_tokyo"]), &tokyo)
		return responsestest.Output(responsestest.FunctionCall("call_f", "celsius_to_fahrenheit",
			fmt.Sprintf(`{"celsius":%d}`, tokyo.HighC)))
	default:
		return responsestest.Output(responsestest.Text(fmt.Sprintf(
			"Paris has light rain with a high of 14°C. Tokyo is sunny, 21°C (%s°F).", outputs["call_f"])))
	}
}

func arguments(call responses.Item) string {
	var c responses.FunctionCall
	if call.Decode(&c) != nil {
		return ""
	}
	return c.Arguments
}

func output(it *responses.Item) string {
	if it == nil {
		return ""
	}
	var o struct {
		Output string `json:"output"`
	}
	_ = it.Decode(&o)
	return o.Output
}
