package temporal

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/converter"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// The workflow's input travels through Temporal's data converter: a Config
// that did not come back the same would change the run.
func TestConfigRoundTrip(t *testing.T) {
	cfg := agent.Config{
		Agent: "a", Model: "m", Instructions: "be brief",
		Request: responses.Request{
			Include: []string{"reasoning.encrypted_content"}, Metadata: map[string]string{"k": "v"},
			MaxOutputTokens: responses.Ptr[int64](100), Temperature: responses.Ptr(0.5), Truncation: "auto",
			Extra: map[string]any{"service_tier": "flex"},
		},
		MaxTurns: 7, MaxParallel: 3, ParallelToolCalls: responses.Ptr(false), Stateless: true,
		StopAtTools: []string{"done"}, MaxTotalTokens: 1000, MaxDuration: time.Hour,
		Compaction: agent.Compaction{ContextWindow: 1000, Threshold: 0.7, Summarize: true, SummaryPrompt: "sum"},
	}
	in := RunInput{Config: cfg, Input: []responses.Item{responses.UserMessage("hi")}, Options: RunOptions{ApprovalTimeout: time.Minute}}
	dc := converter.GetDefaultDataConverter()
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	var out RunInput
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(in)
	b, _ := json.Marshal(out)
	if string(a) != string(b) || !reflect.DeepEqual(in.Config.Compaction, out.Config.Compaction) || out.Config.Request.Extra["service_tier"] != "flex" {
		t.Fatalf("round trip changed the input:\n%s\n%s", a, b)
	}
}

func FuzzLimitOutput(f *testing.F) {
	f.Add("short", 2000, false)
	f.Add(strings.Repeat("é", 5000), 2000, false)
	f.Add(strings.Repeat("x", 10000), 1500, true)
	f.Add("", 1024, true)
	f.Fuzz(func(t *testing.T, text string, max int, custom bool) {
		if max < 0 || max > 1<<20 {
			return
		}
		typ := responses.TypeFunctionCall
		if custom {
			typ = responses.TypeCustomToolCall
		}
		call := tools.Call{Type: typ, CallID: "call_1"}
		in := tools.TextOutput(call, text, false)
		out, dropped := limitOutput(in, max)
		if out.OutputKey() != "call_1" || out.Type != in.Type {
			t.Fatalf("output for %q of type %q, want call_1 %q", out.OutputKey(), out.Type, in.Type)
		}
		got := outputText(out)
		if !utf8.ValidString(got) && utf8.ValidString(text) {
			t.Fatal("cut output is not valid UTF-8")
		}
		if dropped == 0 {
			if got != text && !reflect.DeepEqual(out, in) {
				t.Fatal("nothing dropped but the output changed")
			}
			return
		}
		if len(out.Raw()) > max+64 { // the marker's numbers and JSON escapes
			t.Fatalf("cut output of %d bytes over the %d limit", len(out.Raw()), max)
		}
		if dropped > len(text) || !strings.Contains(got, "bytes left out") {
			t.Fatalf("dropped %d of %d; output %q", dropped, len(text), got)
		}
	})
}

func TestModelInputKeepsExtra(t *testing.T) {
	in := ModelInput{Request: &responses.Request{Model: "m", Extra: map[string]any{"service_tier": "flex"}}, Turn: 2}
	dc := converter.GetDefaultDataConverter()
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	var out ModelInput
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out.Turn != 2 || out.Request.Model != "m" || out.Request.Extra["service_tier"] != "flex" {
		t.Fatalf("round trip: %+v %+v", out, out.Request)
	}
}
