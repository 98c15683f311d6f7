package responsestest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
)

// post sends a create request and decodes the response object.
func post(url, body string) (*responses.Response, error) {
	resp, err := http.Post(url+"/responses", "application/json", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var r responses.Response
	return &r, json.NewDecoder(resp.Body).Decode(&r)
}

// A two-turn conversation: the model calls a function, the client answers
// it in a chained request, and the model gives its final answer.
func ExampleNewServer() {
	s := responsestest.NewServer(
		responsestest.Output(responsestest.FunctionCall("call_1", "add", `{"a":2,"b":3}`)),
		responsestest.Output(responsestest.Text("2 + 3 = 5")),
	)
	defer s.Close()

	r1, err := post(s.URL, `{"model":"m","input":"What is 2+3?"}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r1.ID, r1.Output[0].Type, r1.Output[0].ID, r1.Output[0].CallID)

	r2, err := post(s.URL, `{"model":"m","previous_response_id":"resp_1",
		"input":[{"type":"function_call_output","call_id":"call_1","output":"5"}]}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r2.ID, r2.Status, r2.OutputText())

	req := s.Requests()[1]
	out, _ := req.Output("call_1")
	fmt.Println(req.Params.PreviousResponseID, out.Type)
	// Output:
	// resp_1 function_call fc_1_0 call_1
	// resp_2 completed 2 + 3 = 5
	// resp_1 function_call_output
}

// The events of a streamed reply, in the real API's order.
func ExampleText_stream() {
	s := responsestest.NewServer(responsestest.Output(responsestest.Text("Hello, world!")))
	defer s.Close()

	resp, err := http.Post(s.URL+"/responses", "application/json",
		strings.NewReader(`{"model":"m","input":"hi","stream":true}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev struct {
				Type  string `json:"type"`
				Seq   int    `json:"sequence_number"`
				Delta string `json:"delta"`
			}
			_ = json.Unmarshal([]byte(data), &ev)
			fmt.Printf("%d %s %q\n", ev.Seq, ev.Type, ev.Delta)
		}
	}
	// Output:
	// 0 response.created ""
	// 1 response.in_progress ""
	// 2 response.output_item.added ""
	// 3 response.content_part.added ""
	// 4 response.output_text.delta "Hello, "
	// 5 response.output_text.delta "world!"
	// 6 response.output_text.done ""
	// 7 response.content_part.done ""
	// 8 response.output_item.done ""
	// 9 response.completed ""
}

// Faults come before the reply, one per attempt, and do not use up the
// turn: a client that retries gets the reply.
func ExampleReply_faults() {
	s := responsestest.NewServer(responsestest.Reply{
		Output: []responses.Item{responsestest.Text("finally")},
		Faults: []responsestest.Fault{
			responsestest.RateLimited(250 * time.Millisecond),
			responsestest.ServerError(http.StatusServiceUnavailable),
		},
	})
	defer s.Close()

	for range 3 {
		resp, err := http.Post(s.URL+"/v5/responses", "application/json", strings.NewReader(`{"model":"openai/gpt-4o","input":"hi"}`))
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("retry-after-ms"), string(body)[:30])
	}
	for _, r := range s.Requests() {
		fmt.Printf("request %d: %s %d %q\n", r.N, r.Path, r.StatusCode, r.Fault)
	}
	// Output:
	// 429 250 {"error":{"message":"Rate limi
	// 503  {"error":{"message":"The serve
	// 200  {"id":"resp_1","object":"respo
	// request 1: /v5/responses 429 "HTTP 429 rate_limit_exceeded"
	// request 2: /v5/responses 503 "HTTP 503"
	// request 3: /v5/responses 200 ""
}

// A Model answers every request, concurrently: here a scripted model that
// calls a tool until it sees the tool's output.
func ExampleModel() {
	s := responsestest.NewServer(responsestest.Model(func(req *responses.Request) responsestest.Reply {
		for _, it := range req.Input.Items {
			if it.Type == responses.TypeFunctionCallOutput {
				return responsestest.Output(responsestest.Text("the tool said " + it.CallID))
			}
		}
		return responsestest.Output(responsestest.FunctionCall("", "lookup", `{}`))
	}))
	defer s.Close()

	r1, _ := post(s.URL, `{"model":"m","input":"go"}`)
	callID := r1.Output[0].CallID
	r2, _ := post(s.URL, `{"model":"m","previous_response_id":"`+r1.ID+`",
		"input":[{"type":"function_call_output","call_id":"`+callID+`","output":"42"}]}`)
	fmt.Println(callID)
	fmt.Println(r2.OutputText())
	// Output:
	// call_1_0
	// the tool said call_1_0
}
