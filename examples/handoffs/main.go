// Handoffs shows agents working together: a triage agent hands the
// conversation to one of two specialists, one specialist asks a third agent
// (a researcher, called as a tool) before it answers, and an input
// guardrail keeps the run on topic. It runs offline against a scripted
// model and prints which agent answered.
//
//	go run ./examples/handoffs
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "handoffs:", err)
		os.Exit(1)
	}
}

// scriptedModel plays every agent: it answers by the instructions it gets.
func scriptedModel(req *responses.Request) rt.Reply {
	researched := false // the research tool's answer is in the input
	for _, it := range req.Input.Items {
		researched = researched || (it.IsOutput() && strings.Contains(string(it.Raw()), "30 days"))
	}
	switch {
	case strings.HasPrefix(req.Instructions, "Triage"):
		return rt.Output(rt.Text("Passing you to billing."), rt.FunctionCall("", "transfer_to_billing", `{"reason":"a refund"}`))
	case strings.HasPrefix(req.Instructions, "Billing") && !researched:
		return rt.Output(rt.FunctionCall("", "research", `{"input":"refund policy for order 1042"}`))
	case strings.HasPrefix(req.Instructions, "Billing"):
		return rt.Output(rt.Text("Order 1042 was delivered 12 days ago: within the 30-day window, so it can be refunded in full."))
	case strings.HasPrefix(req.Instructions, "Research"):
		return rt.Output(rt.Text("Refunds are accepted within 30 days of delivery; order 1042 was delivered 12 days ago."))
	}
	return rt.Output(rt.Text("I can only help with orders."))
}

func run(ctx context.Context) error {
	srv := rt.NewServer(rt.Model(scriptedModel))
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})

	researcher := agent.New(client, "scripted-model", &agent.Options{
		Name: "researcher", Instructions: "Research the question and answer in one sentence.",
	})
	billing := agent.New(client, "scripted-model", &agent.Options{
		Name: "billing", Description: "Refunds, invoices and payments.",
		Instructions: "Billing specialist. Check the policy with the research tool before you answer.",
		Tools:        []tools.Tool{researcher.AsTool("research", "Look up a policy or an order.")},
	})
	shipping := agent.New(client, "scripted-model", &agent.Options{
		Name: "shipping", Description: "Deliveries and returns.", Instructions: "Shipping specialist.",
	})
	onTopic := agent.InputGuardrail{Name: "on_topic", Check: func(ctx context.Context, in []responses.Item) (agent.GuardrailResult, error) {
		for _, it := range in {
			if strings.Contains(strings.ToLower(string(it.Raw())), "poem") {
				return agent.GuardrailResult{Tripped: true, Message: "not about an order"}, nil
			}
		}
		return agent.GuardrailResult{}, nil
	}}
	triage := agent.New(client, "scripted-model", &agent.Options{
		Name: "triage", Instructions: "Triage: hand the customer to the right specialist.",
		Handoffs:        []agent.Handoff{{Agent: billing}, {Agent: shipping}},
		InputGuardrails: []agent.InputGuardrail{onTopic},
	})

	for ev, err := range triage.Stream(ctx, "Can I get a refund for order 1042?") {
		if err != nil {
			return err
		}
		switch ev.Kind {
		case agent.EventHandoff:
			fmt.Printf("handoff: %s → %s\n", ev.Handoff.From, ev.Handoff.To)
		case agent.EventToolFinished:
			where := "main"
			if len(ev.Path) > 0 {
				where = strings.Join(ev.Path, "/")
			}
			fmt.Printf("tool %s (%s): %s\n", ev.Tool.Name, where, ev.Tool.Outcome)
		case agent.EventRunCompleted:
			fmt.Printf("answered by %s: %s\n", ev.Result.Agent, ev.Result.Text)
		}
	}

	_, err := triage.Run(ctx, "Write me a poem about the sea.")
	var tw *agent.TripwireError
	if !errors.As(err, &tw) {
		return fmt.Errorf("the off-topic request was not stopped: %v", err)
	}
	fmt.Printf("off-topic request stopped by the %s guardrail: %s\n", tw.Guardrail, tw.Message)
	return nil
}
