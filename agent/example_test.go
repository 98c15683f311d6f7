package agent_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

func ExampleNew() {
	// A scripted model on 127.0.0.1 stands in for the real service.
	srv := responsestest.NewServer(
		responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":2,"b":3}`)),
		responsestest.Output(responsestest.Text("2 + 3 = 5")),
	)
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})

	type args struct{ A, B int }
	add := function.New("add", "Add two integers.", func(ctx context.Context, in args) (int, error) {
		return in.A + in.B, nil
	}, nil)
	a := agent.New(client, "gpt-4.1-mini", &agent.Options{
		Instructions: "Use the tools for arithmetic.",
		Tools:        []tools.Tool{add},
	})
	res, err := a.Run(context.Background(), "What is 2 + 3?")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Text)
	fmt.Println(res.Turns, "turns,", res.ToolCalls, "tool call")
	// Output:
	// 2 + 3 = 5
	// 2 turns, 1 tool call
}

func ExampleAgent_Stream() {
	srv := responsestest.NewServer(responsestest.Output(responsestest.Text("Hello, world.")))
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	a := agent.New(client, "gpt-4.1-mini", nil)
	for ev, err := range a.Stream(context.Background(), "Say hello.") {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		switch ev.Kind {
		case agent.EventTextDelta:
			fmt.Printf("delta %q\n", ev.Delta)
		case agent.EventRunCompleted:
			fmt.Println("done:", ev.Result.StopReason)
		}
	}
	// Output:
	// delta "Hello, "
	// delta "world."
	// done: done
}

func ExampleAgent_Resume() {
	srv := responsestest.NewServer(
		responsestest.Output(responsestest.FunctionCall("call_1", "deploy", `{}`)),
		responsestest.Output(responsestest.Text("Deployed.")),
	)
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	deploy := function.New("deploy", "Deploy to production.", func(ctx context.Context, _ struct{}) (string, error) {
		return "ok", nil
	}, &function.Options{NeedsApproval: function.Always})

	// The approver cannot answer now (say, a person decides in a web UI).
	later := agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		return agent.Defer, nil
	})
	a := agent.New(client, "gpt-4.1-mini", &agent.Options{Tools: []tools.Tool{deploy}, Approver: later})
	res, _ := a.Run(context.Background(), "Deploy.")
	fmt.Println(res.StopReason, res.Pending[0].Request.Tool)
	saved, _ := json.Marshal(res.State) // store it anywhere

	// Later, maybe in another process.
	var st agent.RunState
	_ = json.Unmarshal(saved, &st)
	b := agent.New(client, "gpt-4.1-mini", &agent.Options{Tools: []tools.Tool{deploy}})
	res, err := b.Resume(context.Background(), &st, []agent.Decision{{CallID: "call_1", Approval: agent.Approve}})
	fmt.Println(res.Text, err)
	// Output:
	// pending_approval deploy
	// Deployed. <nil>
}

// An Approve middleware answers the approval question itself for the calls
// it knows are safe, and asks the Approver (a person, a queue) for the
// rest.
func ExampleMiddleware_approve() {
	srv := responsestest.NewServer(
		responsestest.Output(
			responsestest.FunctionCall("call_1", "refund", `{"cents":500}`),
			responsestest.FunctionCall("call_2", "refund", `{"cents":90000}`),
		),
		responsestest.Output(responsestest.Text("Refunded $5; the large refund waits for a person.")),
	)
	defer srv.Close()
	client := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})

	type args struct {
		Cents int `json:"cents"`
	}
	refund := function.New("refund", "Refund an amount.", func(ctx context.Context, in args) (string, error) {
		return fmt.Sprintf("refunded %d cents", in.Cents), nil
	}, &function.Options{NeedsApproval: function.Always})
	small := agent.Middleware{Approve: func(next agent.ApproveHandler) agent.ApproveHandler {
		return func(ctx context.Context, call tools.Call, req tools.ApprovalRequest) (agent.Approval, error) {
			var in args
			if json.Unmarshal(req.Arguments, &in) == nil && in.Cents <= 1000 {
				return agent.Approve, nil // small refunds need nobody
			}
			return next(ctx, call, req)
		}
	}}
	person := agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		fmt.Println("asked about:", string(req.Arguments))
		return agent.Deny("a person must look at refunds over $10"), nil
	})
	a := agent.New(client, "gpt-4.1-mini", &agent.Options{
		Tools:      []tools.Tool{refund},
		Middleware: []agent.Middleware{small},
		Approver:   person,
	})
	res, err := a.Run(context.Background(), "Refund both orders.")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.ToolCalls, "call ran")
	// Output:
	// asked about: {"cents":90000}
	// 1 call ran
}
