package computer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/computer"
)

// still is a computer whose actions do nothing and whose screenshot is a
// fixed image, so the benchmark measures the tool, not the computer.
type still struct {
	fake
	png []byte
}

func (s *still) Screenshot(context.Context) ([]byte, error) { return s.png, nil }

// BenchmarkCall measures one computer call of three actions through the
// tool (decoding and validating the call, dispatching the actions, encoding
// the screenshot into the output item) against the floor of the work no
// implementation can skip: base64-encoding the same screenshot into a data
// URL and marshalling the output item. The figure is the ratio tool/floor.
func BenchmarkCall(b *testing.B) {
	png, err := (&fake{clicks: 5}).Screenshot(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	png = append(png, make([]byte, 64<<10)...) // a realistic 64 KiB screenshot
	tool := computer.New(&still{png: png}, nil)
	call := tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"call_1","status":"completed","pending_safety_checks":[],` +
		`"actions":[{"type":"click","button":"left","x":410,"y":92},{"type":"type","text":"quarterly report"},{"type":"keypress","keys":["ENTER"]}]}`))
	ctx := context.Background()
	var tFloor, tTool time.Duration
	for b.Loop() {
		t0 := time.Now()
		url := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
		if _, err := json.Marshal(responses.ComputerCallOutput{Type: "computer_call_output", CallID: "call_1",
			Output: responses.ComputerScreenshot{Type: "computer_screenshot", ImageURL: url}}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := tool.Call(ctx, call); err != nil {
			b.Fatal(err)
		}
		tTool += time.Since(t1)
		tFloor += t1.Sub(t0)
	}
	b.ReportMetric(float64(tTool.Nanoseconds())/float64(b.N), "tool-ns/op")
	b.ReportMetric(float64(tFloor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(tTool)/float64(tFloor), "x-floor")
}
