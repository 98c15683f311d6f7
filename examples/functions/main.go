// Functions shows typed Go functions as tools: schemas derived from Go
// types, calls of one response running in parallel, and a tool that needs
// approval, which this program's approver declines. It runs offline against
// a scripted model.
//
//	go run ./examples/functions
package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

type lookupArgs struct {
	SKU string `json:"sku" jsonschema:"stock keeping unit, e.g. A-100"`
}

type stock struct {
	SKU      string `json:"sku"`
	OnHand   int    `json:"on_hand"`
	Location string `json:"location"`
}

type refundArgs struct {
	Order  string  `json:"order" jsonschema:"order number"`
	Amount float64 `json:"amount" jsonschema:"amount in euros"`
	Note   *string `json:"note,omitempty" jsonschema:"optional note for the customer"`
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "functions:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var inFlight, peak atomic.Int32
	lookup := function.New("lookup_stock", "Stock level of one SKU.",
		func(ctx context.Context, in lookupArgs) (stock, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(100 * time.Millisecond) // a slow backend
			return stock{SKU: in.SKU, OnHand: len(in.SKU) * 7, Location: "Lyon"}, nil
		}, nil)
	refund := function.New("refund_order", "Refund an order.",
		func(ctx context.Context, in refundArgs) (string, error) {
			return "refunded", nil
		}, &function.Options{NeedsApproval: function.Always})

	srv := rt.NewServer(
		rt.Output(
			rt.FunctionCall("call_1", "lookup_stock", `{"sku":"A-100"}`),
			rt.FunctionCall("call_2", "lookup_stock", `{"sku":"B-20"}`),
			rt.FunctionCall("call_3", "lookup_stock", `{"sku":"C-3"}`),
			rt.FunctionCall("call_4", "refund_order", `{"order":"1042","amount":89.5,"note":null}`),
		),
		rt.Output(rt.Text("A-100: 35 in Lyon, B-20: 28, C-3: 21. I could not refund order 1042: a person declined it.")),
	)
	defer srv.Close()

	approver := agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		fmt.Printf("approval asked: %s %s → declined\n", req.Tool, req.Arguments)
		return agent.Deny("refunds above 50 EUR need a manager"), nil
	})
	a := agent.New(responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL}),
		"scripted-model", &agent.Options{Tools: []tools.Tool{lookup, refund}, Approver: approver})

	fmt.Printf("schema of refund_order: %s\n", refund.Definition().Raw())
	start := time.Now()
	res, err := a.Run(ctx, "Check stock of A-100, B-20 and C-3, and refund order 1042.")
	if err != nil {
		return err
	}
	fmt.Printf("3 lookups of 100 ms each took %s together (at most %d at once)\n", time.Since(start).Round(10*time.Millisecond), peak.Load())
	for _, it := range res.Items {
		if it.Type == responses.TypeFunctionCallOutput {
			fmt.Printf("output %s: %s\n", it.CallID, it.Raw())
		}
	}
	fmt.Println("answer:", res.Text)
	return nil
}
