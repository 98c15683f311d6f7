package responses_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/agentloop/agentloop/responses"
)

// benchSSE is a stream of n text deltas, the message item and the
// completed response.
func benchSSE(n int) []byte {
	var b bytes.Buffer
	b.WriteString(ev("response.created", respCreated))
	for i := range n {
		b.WriteString(ev("response.output_text.delta", fmt.Sprintf(`"sequence_number":%d,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"word ","logprobs":[]`, i+1)))
	}
	b.WriteString(ev("response.output_item.done", `"output_index":0,"item":`+msgItem))
	b.WriteString(ev("response.completed", completed(msgItem)))
	return b.Bytes()
}

// ratio runs floor and f alternately n times each and returns the fastest
// run of f divided by the fastest run of floor. Alternating keeps the noise
// of a shared machine from favouring either side.
func ratio(n int, floor, f func()) float64 {
	bestFloor, best := time.Duration(1<<63-1), time.Duration(1<<63-1)
	for range n {
		start := time.Now()
		floor()
		bestFloor = min(bestFloor, time.Since(start))
		start = time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return float64(best) / float64(bestFloor)
}

// BenchmarkStream reads a 1,000-delta stream through Client.Stream over
// loopback HTTP and reports the time as a ratio to a floor measured in the
// same run: a bare net/http POST of the same request whose reply is copied
// to io.Discard (x_floor 1.0 would mean decoding into typed events is free).
func BenchmarkStream(b *testing.B) {
	body := benchSSE(1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(body)
	}))
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, HTTPClient: srv.Client()})
	req := &responses.Request{Model: "m", Input: responses.TextInput("hi")}
	reqBody, _ := json.Marshal(map[string]any{"model": "m", "input": "hi", "stream": true})

	stream := func() {
		s, err := c.Stream(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		for s.Next() {
		}
		if s.Err() != nil || s.Response() == nil {
			b.Fatal(s.Err())
		}
		s.Close()
	}
	floor := func() {
		resp, err := srv.Client().Post(srv.URL+"/responses", "application/json", bytes.NewReader(reqBody))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		stream()
	}
	b.StopTimer()
	b.ReportMetric(ratio(30, floor, stream), "x_floor")
}

// BenchmarkCreate sends a request with 50 input items and decodes a
// response with 50 output items, and reports the time as a ratio to a floor
// measured in the same run: a bare net/http POST of the same body whose
// reply is decoded by encoding/json into the same Response type.
func BenchmarkCreate(b *testing.B) {
	items := make([]string, 50)
	for i := range items {
		items[i] = strings.Replace(callItem, "call_1", fmt.Sprintf("call_%d", i), 1)
	}
	respBody := `{"id":"resp_b","object":"response","created_at":1.5,"status":"completed","output":[` + strings.Join(items, ",") + `],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, respBody)
	}))
	defer srv.Close()
	var r0 responses.Response
	if err := json.Unmarshal([]byte(respBody), &r0); err != nil {
		b.Fatal(err)
	}
	req := &responses.Request{Model: "m", Input: responses.ItemsInput(r0.Output...)}
	reqBody, _ := json.Marshal(req)
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL, HTTPClient: srv.Client()})

	create := func() {
		if _, err := c.Create(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
	floor := func() {
		resp, err := srv.Client().Post(srv.URL+"/responses", "application/json", bytes.NewReader(reqBody))
		if err != nil {
			b.Fatal(err)
		}
		var r responses.Response
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		create()
	}
	b.StopTimer()
	b.ReportMetric(ratio(100, floor, create), "x_floor")
}
