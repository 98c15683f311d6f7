package responses_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// fakeAPI stands in for the Responses API: it answers a non-streaming
// request with a JSON response and a streaming one with a few events.
func fakeAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-test" && r.Header.Get("x-api-key") != "sgp-test" {
			w.Header().Set("x-request-id", "req_401")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key","param":null}}`)
			return
		}
		msg := `{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello, world.","annotations":[]}]}`
		if r.Header.Get("Accept") != "text/event-stream" {
			io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1767000000,"status":"completed","output":[`+msg+`]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, data := range []string{
			`{"type":"response.created","sequence_number":0,"response":{"id":"resp_2","status":"in_progress","output":[]}}`,
			`{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hello, "}`,
			`{"type":"response.output_text.delta","sequence_number":2,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"world."}`,
			`{"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":` + msg + `}`,
			`{"type":"response.completed","sequence_number":4,"response":{"id":"resp_2","status":"completed","output":[` + msg + `]}}`,
		} {
			fmt.Fprintf(w, "data: %s\n\n", data)
		}
	}))
}

func ExampleNewClient() {
	srv := fakeAPI()
	defer srv.Close()

	// For OpenAI itself, leave BaseURL empty.
	c := responses.NewClient(&responses.ClientOptions{BaseURL: srv.URL, APIKey: "sk-test"})
	resp, err := c.Create(context.Background(), &responses.Request{
		Model: "gpt-5.4",
		Input: responses.TextInput("Say hello."),
		Store: responses.Ptr(false),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.OutputText())
	// Output: completed Hello, world.
}

func ExampleNewClient_sgp() {
	srv := fakeAPI()
	defer srv.Close()

	// The Scale GenAI Platform: x-api-key auth, {base}/v5/responses, and
	// models named vendor/model. Leave BaseURL empty for the production
	// service.
	c := responses.NewClient(&responses.ClientOptions{
		Provider:  responses.SGP,
		BaseURL:   srv.URL,
		APIKey:    "sgp-test",
		AccountID: "acct_123",
	})
	fmt.Println(c.Endpoint() == srv.URL+"/v5/responses")
	resp, err := c.Create(context.Background(), &responses.Request{Model: "openai/gpt-4o", Input: responses.TextInput("Say hello.")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.OutputText())
	// Output:
	// true
	// Hello, world.
}

func ExampleClient_Stream() {
	srv := fakeAPI()
	defer srv.Close()

	c := responses.NewClient(&responses.ClientOptions{BaseURL: srv.URL, APIKey: "sk-test"})
	s, err := c.Stream(context.Background(), &responses.Request{Model: "gpt-5.4", Input: responses.TextInput("Say hello.")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for s.Next() {
		ev := s.Event()
		switch ev.Type {
		case responses.EventOutputTextDelta:
			fmt.Printf("delta %q\n", ev.Delta)
		case responses.EventOutputItemDone:
			fmt.Println("item", ev.Item.Type, ev.Item.ID)
		}
	}
	if err := s.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Response().ID, s.Response().OutputText())
	// Output:
	// delta "Hello, "
	// delta "world."
	// item message msg_1
	// resp_2 Hello, world.
}

func ExampleStream_All() {
	srv := fakeAPI()
	defer srv.Close()

	c := responses.NewClient(&responses.ClientOptions{BaseURL: srv.URL, APIKey: "sk-test"})
	s, err := c.Stream(context.Background(), &responses.Request{Model: "gpt-5.4", Input: responses.TextInput("Say hello.")})
	if err != nil {
		fmt.Println(err)
		return
	}
	for ev, err := range s.All() { // All closes the stream
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(ev.SequenceNumber, ev.Type)
	}
	// Output:
	// 0 response.created
	// 1 response.output_text.delta
	// 2 response.output_text.delta
	// 3 response.output_item.done
	// 4 response.completed
}

func ExampleAPIError() {
	srv := fakeAPI()
	defer srv.Close()

	c := responses.NewClient(&responses.ClientOptions{BaseURL: srv.URL, APIKey: "wrong"})
	_, err := c.Create(context.Background(), &responses.Request{Model: "gpt-5.4", Input: responses.TextInput("hi")})
	var apiErr *responses.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.RequestID)
	}
	fmt.Println(err)
	// Output:
	// 401 invalid_api_key req_401
	// responses: 401 Unauthorized: invalid_api_key: Incorrect API key provided. [request req_401]
}

func ExampleOptionsFromEnv() {
	env := map[string]string{"SGP_API_KEY": "sgp-test", "SGP_ACCOUNT_ID": "acct_123"}
	getenv := func(k string) string { return env[k] } // a program passes os.Getenv

	opts, err := responses.OptionsFromEnv(getenv)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := responses.NewClient(opts)
	fmt.Println(opts.Provider, c.Endpoint())

	_, err = responses.OptionsFromEnv(func(string) string { return "" })
	fmt.Println(errors.Is(err, responses.ErrNoAPIKey))
	// Output:
	// sgp https://api.egp.scale.com/v5/responses
	// true
}

// A loop that asks again by itself shares one budget with the client, so a
// turn sends at most MaxRetries+1 requests however its failures mix.
func ExampleClient_NewRetryBudget() {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// Every attempt breaks after an output item: the client leaves
		// the decision to ask again to the caller.
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"type":"response.output_item.done","output_index":0,"item":{"type":"message","role":"assistant","content":[]}}`+"\n\n")
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{BaseURL: srv.URL, MaxRetries: 2, RetryBaseDelay: time.Millisecond})

	budget := c.NewRetryBudget() // one per turn
	ctx := responses.WithRetryBudget(context.Background(), budget)
	for {
		s, err := c.Stream(ctx, &responses.Request{Model: "gpt-5.4", Input: responses.TextInput("hi")})
		if err == nil {
			for s.Next() {
			}
			err = s.Err()
			s.Close()
		}
		var serr *responses.StreamError
		if err == nil || !errors.As(err, &serr) || !budget.Wait(ctx, err) {
			fmt.Println(err)
			break
		}
	}
	fmt.Println("requests:", requests.Load(), "retries used:", budget.Used())
	// Output:
	// responses: stream closed before response.completed
	// requests: 3 retries used: 2
}
