package agent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

// cannedClient answers Create with the one-call model's responses, already
// decoded, and encodes each request as the HTTP client would: what is left
// is the loop's own work.
type cannedClient struct {
	call, answer *responses.Response
}

func (c *cannedClient) Create(ctx context.Context, req *responses.Request) (*responses.Response, error) {
	// The client encodes the request's head; the input items are sent
	// as their JSON is.
	head := *req
	head.Input = responses.Input{}
	if _, err := head.MarshalJSON(); err != nil {
		return nil, err
	}
	if req.PreviousResponseID == "" {
		r := *c.call
		return &r, nil
	}
	r := *c.answer
	return &r, nil
}

func (c *cannedClient) Stream(context.Context, *responses.Request) (*responses.Stream, error) {
	return nil, errors.New("not streaming")
}

func (c *cannedClient) Compact(context.Context, *responses.CompactRequest) (*responses.Compaction, error) {
	return nil, errors.New("no compaction")
}

// BenchmarkLoopOnly is a one-call run (two turns) with the network and the
// decoding taken away: the loop's own cost per run.
func BenchmarkLoopOnly(b *testing.B) {
	srv := rt.NewServer(rt.Model(oneCallModel))
	defer srv.Close()
	hc := client(srv)
	ctx := context.Background()
	req := &responses.Request{Model: "m", Input: responses.TextInput("add")}
	call, err := hc.Create(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	answer, err := hc.Create(ctx, &responses.Request{Model: "m", PreviousResponseID: call.ID,
		Input: responses.ItemsInput(responses.MustItem(responses.FunctionCallOutput{Type: "function_call_output", CallID: "call_1", Output: []byte(`"5"`)}))})
	if err != nil {
		b.Fatal(err)
	}
	a := agent.New(&cannedClient{call: call, answer: answer}, "m", &agent.Options{Tools: []tools.Tool{constTool{}}, DisableStreaming: true})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Run(ctx, "add"); err != nil {
			b.Fatal(err)
		}
	}
}
