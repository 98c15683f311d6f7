package agent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// BenchmarkDecodeOutput measures decoding a structured final answer (schema
// validation, then decoding into the Go type) against the floor of a bare
// json.Unmarshal of the same text into the same type, interleaved in the
// same run. The figure is the ratio decode/floor.
func BenchmarkDecodeOutput(b *testing.B) {
	text := `{"city":"Paris","celsius":21.5,"alerts":["heat","storm","wind"],"wind":12}`
	res := &agent.Result{Text: text, StopReason: "done", Items: []responses.Item{rt.Text(text)}}
	if _, err := agent.DecodeOutput[weatherReport](res); err != nil {
		b.Fatal(err)
	}
	var tFloor, tDecode time.Duration
	for b.Loop() {
		t0 := time.Now()
		var w weatherReport
		if err := json.Unmarshal([]byte(text), &w); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := agent.DecodeOutput[weatherReport](res); err != nil {
			b.Fatal(err)
		}
		tDecode += time.Since(t1)
		tFloor += t1.Sub(t0)
	}
	b.ReportMetric(float64(tDecode.Nanoseconds())/float64(b.N), "decode-ns/op")
	b.ReportMetric(float64(tFloor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(tDecode)/float64(tFloor), "x-floor")
}
