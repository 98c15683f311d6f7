package responsestest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// BenchmarkCreate measures one create request against the server (decode,
// validate, reply, record) as a ratio to a floor measured in the same run:
// the same POST and decode against a bare handler that writes canned bytes.
func BenchmarkCreate(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "json"
		if stream {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			s := rt.NewServer(rt.Model(func(*responses.Request) rt.Reply {
				return rt.Output(rt.FunctionCall("call_1", "lookup", `{"key":"OPS-12"}`))
			}))
			defer s.Close()
			s.DiscardRequests()
			body := []byte(`{"model":"m","input":"Look up OPS-12.","tools":[{"type":"function","name":"lookup","parameters":{"type":"object"},"strict":false}],"stream":` +
				map[bool]string{false: "false", true: "true"}[stream] + `}`)
			tr := &http.Transport{MaxIdleConnsPerHost: 4}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}
			do := func(url string) {
				resp, err := hc.Post(url+"/responses", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				if stream {
					if _, err := io.Copy(io.Discard, resp.Body); err != nil {
						b.Fatal(err)
					}
					return
				}
				var r responses.Response
				if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
					b.Fatal(err)
				}
			}

			// The floor serves the bytes the server itself answers.
			resp, err := hc.Post(s.URL+"/responses", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			canned, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ctype := resp.Header.Get("Content-Type")
			floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", ctype)
				_, _ = w.Write(canned)
			}))
			defer floor.Close()
			const floorN = 300
			start := time.Now()
			for range floorN {
				do(floor.URL)
			}
			floorPerOp := time.Since(start) / floorN

			b.ResetTimer()
			for b.Loop() {
				do(s.URL)
			}
			perOp := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(perOp)/float64(floorPerOp), "x-floor")
		})
	}
}
