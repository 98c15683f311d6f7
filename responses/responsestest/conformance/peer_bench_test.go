package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	oresponses "github.com/openai/openai-go/v3/responses"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// The peer benchmark: each scenario is run by an agentloop agent (default
// options: streaming) and by the loop a Go developer writes by hand on the
// official SDK, as its documentation shows (Responses.New, function tools,
// the calls of a response run concurrently with a WaitGroup, chaining by
// previous_response_id), against the same responsestest server, interleaved
// in the same run. Each reports the time and allocated bytes of one run on
// each side and their ratio, agentloop/openai-go (x-peer; below 1 is
// agentloop faster). Run:
//
//	cd responses/responsestest/conformance && go test -run '^$' -bench Peer -benchtime 20x
//
// The server runs in another process (this test binary re-executed), so
// that its own work (it builds every event of a 1 MiB stream) is not
// charged to either client: besides the wall time of a run, each side
// reports the CPU time this process spent on it (cpu-µs/run), the figure
// that tells the two clients apart.
//
// Scenarios: a small call (add 2 3), a call whose output is 1 MiB of text,
// and a call with 1 MiB of arguments (which the server streams as deltas to
// the agent; the peer reads the JSON reply).

const mib = 1 << 20

// bigText has a space every 16 bytes, like text: responsestest splits a
// streamed string into word-sized deltas by searching for the next space
// through the rest of the string, which is quadratic on a long string
// without spaces.
var bigText = strings.Repeat("0123456789 abcd\n", mib/16)

// scenario is a function call the model asks for once, then a final text.
type scenario struct {
	name   string
	tool   string
	args   string
	schema map[string]any
	// run is the tool's body on decoded arguments; both loops use it.
	run func(args map[string]any) string
}

var scenarios = []scenario{
	{
		name: "small", tool: "add", args: `{"a":2,"b":3}`,
		schema: map[string]any{"type": "object", "properties": map[string]any{
			"a": map[string]any{"type": "integer"}, "b": map[string]any{"type": "integer"}},
			"required": []any{"a", "b"}, "additionalProperties": false},
		run: func(a map[string]any) string {
			return strconv.Itoa(int(a["a"].(float64) + a["b"].(float64)))
		},
	},
	{
		name: "output_1MiB", tool: "dump", args: `{"n":1}`,
		schema: map[string]any{"type": "object", "properties": map[string]any{
			"n": map[string]any{"type": "integer"}}, "required": []any{"n"}, "additionalProperties": false},
		run: func(map[string]any) string { return bigText },
	},
	{
		name: "arguments_1MiB", tool: "count", args: string(must(json.Marshal(map[string]string{"data": bigText}))),
		schema: map[string]any{"type": "object", "properties": map[string]any{
			"data": map[string]any{"type": "string"}}, "required": []any{"data"}, "additionalProperties": false},
		run: func(a map[string]any) string { return strconv.Itoa(len(a["data"].(string))) },
	},
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// model answers a fresh conversation with the scenario's call and its
// output with a text.
func (sc scenario) model(req *responses.Request) rt.Reply {
	if req.PreviousResponseID == "" && !slices.ContainsFunc(req.Input.Items, responses.Item.IsOutput) {
		return rt.Output(rt.FunctionCall("call_1", sc.tool, sc.args))
	}
	return rt.Output(rt.Text("done"))
}

// agentTool is the scenario's tool for agentloop: a raw function tool, so
// both sides decode the arguments into the same map.
func (sc scenario) agentTool() tools.Tool {
	return function.NewRaw(sc.tool, "", must(json.Marshal(sc.schema)), func(_ context.Context, args json.RawMessage) (any, error) {
		var a map[string]any
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, err
		}
		return sc.run(a), nil
	}, nil)
}

// peerRun is the hand-written openai-go loop: create, run the function
// calls concurrently, send their outputs chained, until no call is left.
func peerRun(ctx context.Context, c openai.Client, sc scenario, prompt string) (string, error) {
	params := oresponses.ResponseNewParams{
		Model: "gpt-test",
		Input: oresponses.ResponseNewParamsInputUnion{OfString: openai.String(prompt)},
		Tools: []oresponses.ToolUnionParam{oresponses.ToolParamOfFunction(sc.tool, sc.schema, true)},
	}
	for range 32 {
		resp, err := c.Responses.New(ctx, params)
		if err != nil {
			return "", err
		}
		var calls []oresponses.ResponseFunctionToolCall
		for _, it := range resp.Output {
			if it.Type == "function_call" {
				calls = append(calls, it.AsFunctionCall())
			}
		}
		if len(calls) == 0 {
			return resp.OutputText(), nil
		}
		outs := make([]oresponses.ResponseInputItemUnionParam, len(calls))
		var wg sync.WaitGroup
		for i, call := range calls {
			wg.Go(func() {
				var args map[string]any
				text := ""
				if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
					text = "error: " + err.Error()
				} else {
					text = sc.run(args)
				}
				out := oresponses.ResponseInputItemParamOfFunctionCallOutput(text)
				out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
				outs[i] = out
			})
		}
		wg.Wait()
		params.PreviousResponseID = openai.String(resp.ID)
		params.Input = oresponses.ResponseNewParamsInputUnion{OfInputItemList: outs}
	}
	return "", fmt.Errorf("too many turns")
}

// sseFloor is what any streaming client pays at least: the scenario's two
// requests sent with bare net/http and their event streams read to the end
// into io.Discard, undecoded.
func sseFloor(ctx context.Context, url string) (string, error) {
	for _, body := range []string{
		`{"model":"gpt-test","input":"go","stream":true}`,
		`{"model":"gpt-test","previous_response_id":"resp_1","input":[{"type":"function_call_output","call_id":"call_1","output":"1"}],"stream":true}`,
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/responses", strings.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer k")
		resp, err := floorClient.Do(req)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %v", resp.Status, err)
		}
	}
	return "done", nil
}

// floorClient is the sse-floor's HTTP client: the default transport.
var floorClient = &http.Client{}

// serverEnv makes the test binary serve the named scenario (see TestMain).
const serverEnv = "AGENTLOOP_PEER_BENCH_SERVER"

func TestMain(m *testing.M) {
	if name := os.Getenv(serverEnv); name == "long" {
		srv := rt.NewServer(rt.Model(longModel))
		srv.DiscardRequests()
		fmt.Printf("URL %s\n", srv.URL)
		_, _ = bufio.NewReader(os.Stdin).ReadByte()
		srv.Close()
		os.Exit(0)
	} else if name != "" {
		i := slices.IndexFunc(scenarios, func(sc scenario) bool { return sc.name == name })
		if i < 0 {
			fmt.Fprintln(os.Stderr, "peer bench: no scenario", name)
			os.Exit(2)
		}
		srv := rt.NewServer(rt.Model(scenarios[i].model))
		srv.DiscardRequests()
		fmt.Printf("URL %s\n", srv.URL)
		_, _ = bufio.NewReader(os.Stdin).ReadByte() // until stdin closes
		srv.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serve starts the scenario's server in a child process and returns its
// base URL; it stops when the benchmark ends.
func serve(b *testing.B, name string) string {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), serverEnv+"="+name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "URL ")
	if err != nil || !ok {
		b.Fatalf("server: %q, %v", line, err)
	}
	return url
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkPeer(b *testing.B) {
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			url := serve(b, sc.name)
			rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: url, APIKey: "k"})
			stream := agent.New(rc, "gpt-test", &agent.Options{Tools: []tools.Tool{sc.agentTool()}})
			plain := agent.New(rc, "gpt-test", &agent.Options{Tools: []tools.Tool{sc.agentTool()}, DisableStreaming: true})
			peer := openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(0))
			ctx := context.Background()

			sides := []struct {
				name string
				run  func() (string, error)
				dur  time.Duration
				cpu  time.Duration
				mem  uint64
			}{
				{name: "agent", run: func() (string, error) {
					r, err := stream.Run(ctx, "go")
					if err != nil {
						return "", err
					}
					return r.Text, nil
				}},
				{name: "agent-json", run: func() (string, error) {
					r, err := plain.Run(ctx, "go")
					if err != nil {
						return "", err
					}
					return r.Text, nil
				}},
				{name: "peer", run: func() (string, error) { return peerRun(ctx, peer, sc, "go") }},
				{name: "sse-floor", run: func() (string, error) { return sseFloor(ctx, url) }},
			}
			for range 3 { // warm up connections
				for i := range sides {
					if text, err := sides[i].run(); err != nil || text != "done" {
						b.Fatalf("%s: %q, %v", sides[i].name, text, err)
					}
				}
			}
			big := sc.name != "small"
			var ms runtime.MemStats
			b.ResetTimer()
			for b.Loop() {
				for i := range sides {
					s := &sides[i]
					var before uint64
					if big {
						runtime.ReadMemStats(&ms)
						before = ms.TotalAlloc
					}
					t, c := time.Now(), cpuTime()
					if _, err := s.run(); err != nil {
						b.Fatal(err)
					}
					s.dur += time.Since(t)
					s.cpu += cpuTime() - c
					if big {
						runtime.ReadMemStats(&ms)
						s.mem += ms.TotalAlloc - before
					}
				}
			}
			n := float64(b.N)
			for _, s := range sides {
				b.ReportMetric(float64(s.dur.Microseconds())/n, s.name+"-µs/run")
				b.ReportMetric(float64(s.cpu.Microseconds())/n, s.name+"-cpu-µs/run")
				if big {
					b.ReportMetric(float64(s.mem)/n/mib, s.name+"-MiB/run")
				}
			}
			a, j, p, f := sides[0], sides[1], sides[2], sides[3]
			b.ReportMetric(float64(a.cpu)/float64(f.cpu), "cpu-x-sse-floor")
			b.ReportMetric(float64(a.dur)/float64(p.dur), "x-peer")
			b.ReportMetric(float64(j.dur)/float64(p.dur), "json-x-peer")
			b.ReportMetric(float64(a.dur)/float64(j.dur), "stream-x-json")
			b.ReportMetric(float64(a.cpu)/float64(p.cpu), "cpu-x-peer")
			b.ReportMetric(float64(j.cpu)/float64(p.cpu), "json-cpu-x-peer")
			b.ReportMetric(float64(a.cpu)/float64(j.cpu), "stream-cpu-x-json")
			if big {
				b.ReportMetric(float64(a.mem)/float64(p.mem), "alloc-x-peer")
			}
		})
	}
}

// longTurns is the length of the long run: that many requests, each but
// the last answered with one add call.
const longTurns = 300

// longModel calls add until the run has had longTurns requests, counted
// by the call id of the last output it was sent (call_N).
func longModel(req *responses.Request) rt.Reply {
	n := 0
	for _, it := range req.Input.Items {
		if it.IsOutput() {
			k, _ := strconv.Atoi(strings.TrimPrefix(it.CallID, "call_"))
			n = k + 1
		}
	}
	if n+1 >= longTurns {
		return rt.Output(rt.Text("done"))
	}
	return rt.Output(rt.FunctionCall(fmt.Sprintf("call_%d", n), "add", `{"a":2,"b":3}`))
}

// BenchmarkStateless runs 300 turns of one add call each through the agent,
// chained (previous_response_id) and stateless (store:false, the whole
// transcript every request), and reports the client CPU of each and their
// ratio (stateless-x-chained; the target is at most 1.5).
func BenchmarkStateless(b *testing.B) {
	url := serve(b, "long")
	rc := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: url, APIKey: "k"})
	add := scenarios[0].agentTool()
	chained := agent.New(rc, "gpt-test", &agent.Options{Tools: []tools.Tool{add}, MaxTurns: longTurns + 1})
	stateless := agent.New(rc, "gpt-test", &agent.Options{Tools: []tools.Tool{add}, MaxTurns: longTurns + 1, Stateless: true})
	ctx := context.Background()
	var cpu, wall [2]time.Duration
	for b.Loop() {
		for i, a := range []*agent.Agent{chained, stateless} {
			t, c := time.Now(), cpuTime()
			r, err := a.Run(ctx, "go")
			if err != nil || r.Text != "done" {
				b.Fatalf("%v %v", r, err)
			}
			wall[i] += time.Since(t)
			cpu[i] += cpuTime() - c
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(cpu[0].Microseconds())/n/1000, "chained-cpu-ms/run")
	b.ReportMetric(float64(cpu[1].Microseconds())/n/1000, "stateless-cpu-ms/run")
	b.ReportMetric(float64(wall[0].Microseconds())/n/1000, "chained-ms/run")
	b.ReportMetric(float64(wall[1].Microseconds())/n/1000, "stateless-ms/run")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "stateless-cpu-x-chained")
}
