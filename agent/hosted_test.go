package agent_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

// hostedItems are a response's items of server-run tools, written with
// fields in an unusual order and fields this module does not know, to show
// that they travel back exactly as received.
var hostedItems = []string{
	`{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAAA-opaque"}`,
	`{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"golang generics","sources":[{"type":"url","url":"https://go.dev"}]},"x_future":{"n":1}}`,
	`{"type":"file_search_call","id":"fs_1","status":"completed","queries":["refund policy","returns"],"results":null}`,
	`{"type":"code_interpreter_call","id":"ci_1","status":"completed","container_id":"cntr_1","code":"print(6 * 7)","outputs":[{"type":"logs","logs":"42\n"}]}`,
	`{"type":"image_generation_call","id":"ig_1","status":"completed","result":"iVBORw0KGgo=","revised_prompt":"a gopher"}`,
	`{"type":"shell_call","id":"sh_1","call_id":"call_sh","status":"completed","environment":{"type":"container_reference","container_id":"cntr_1"},"action":{"commands":["ls /mnt/data"],"timeout_ms":null,"max_output_length":null}}`,
	`{"type":"shell_call_output","id":"sho_1","call_id":"call_sh","status":"completed","output":[{"stdout":"report.csv\n","stderr":"","outcome":{"type":"exit","exit_code":0}}]}`,
	`{"type":"mcp_list_tools","id":"mcpl_1","server_label":"docs","tools":[{"name":"search","input_schema":{"type":"object"}}]}`,
	`{"type":"mcp_call","id":"mcp_1","server_label":"docs","name":"search","arguments":"{\"q\":\"go\"}","output":"found","error":null,"status":"completed"}`,
}

func TestHostedTools(t *testing.T) {
	defs := []any{
		responses.WebSearchTool{Type: "web_search", Filters: &responses.WebSearchFilters{AllowedDomains: []string{"go.dev"}},
			UserLocation: &responses.UserLocation{Type: "approximate", Country: "FR"}, SearchContextSize: "low"},
		responses.FileSearchTool{Type: "file_search", VectorStoreIDs: []string{"vs_1"}, MaxNumResults: 5},
		responses.CodeInterpreterTool{Type: "code_interpreter", Container: responses.AutoContainer("file_1")},
		responses.ImageGenerationTool{Type: "image_generation", Quality: "low", PartialImages: 1},
		responses.HostedShell(&responses.NetworkPolicy{Type: "allowlist", AllowedDomains: []string{"pypi.org"},
			DomainSecrets: []responses.DomainSecret{{Domain: "pypi.org", Name: "TOKEN", Value: "s3cret"}}}),
	}
	wantDefs := []string{
		`{"type":"web_search","filters":{"allowed_domains":["go.dev"]},"user_location":{"type":"approximate","country":"FR"},"search_context_size":"low"}`,
		`{"type":"file_search","vector_store_ids":["vs_1"],"max_num_results":5}`,
		`{"type":"code_interpreter","container":{"type":"auto","file_ids":["file_1"]}}`,
		`{"type":"image_generation","quality":"low","partial_images":1}`,
		`{"type":"shell","environment":{"type":"container_auto","network_policy":{"type":"allowlist","allowed_domains":["pypi.org"],"domain_secrets":[{"domain":"pypi.org","name":"TOKEN","value":"s3cret"}]}}}`,
		`{"type":"function","name":"echo"`,
	}

	for _, streaming := range []bool{true, false} {
		name := map[bool]string{true: "streaming", false: "not streaming"}[streaming]
		t.Run(name, func(t *testing.T) {
			var out []responses.Item
			for _, s := range hostedItems {
				out = append(out, rt.Raw(s))
			}
			out = append(out, rt.FunctionCall("call_1", "echo", `{"text":"done"}`))
			srv := rt.New(t, rt.Output(out...), rt.Output(rt.Text("All done.")))
			ts := []tools.Tool{}
			for _, d := range defs {
				ts = append(ts, agent.Hosted(d))
			}
			ts = append(ts, echoTool(nil))
			a := agent.New(client(srv), "test-model", &agent.Options{Tools: ts, Stateless: true, DisableStreaming: !streaming})

			var hosted []*agent.HostedEvent
			var res *agent.Result
			for ev, err := range a.Stream(t.Context(), "Research and report.") {
				require.NoError(t, err)
				if ev.Kind == agent.EventHostedTool {
					hosted = append(hosted, ev.Hosted)
				}
				if ev.Kind == agent.EventServer && strings.Contains(ev.Server.Type, "_call.") {
					t.Errorf("untyped hosted-tool event %s", ev.Server.Type)
				}
				if ev.Result != nil {
					res = ev.Result
				}
			}
			require.NotNil(t, res)
			assert.Equal(t, "All done.", res.Text)
			assert.Equal(t, 1, res.ToolCalls, "only the function call runs locally")

			reqs := served(srv)
			require.Len(t, reqs, 2)
			for i, d := range reqs[0].Params.Tools {
				if i < len(wantDefs)-1 {
					assert.JSONEq(t, wantDefs[i], string(d.Raw()))
				} else {
					assert.Contains(t, string(d.Raw()), wantDefs[i])
				}
			}
			in := input(t, reqs[1])
			require.Len(t, in, 1+len(hostedItems)+2)
			for i, want := range hostedItems {
				assert.Equal(t, want, in[1+i], "item %d replayed unchanged", i)
				assert.True(t, bytes.Contains(reqs[1].Body, []byte(want)), "item %d byte-for-byte in the body", i)
			}
			assert.Equal(t, fnOutput("call_1", "done"), in[len(in)-1])

			// Each finished hosted item is reported, typed, in order.
			var done []*agent.HostedEvent
			for _, h := range hosted {
				if h.Item != nil {
					done = append(done, h)
				}
			}
			require.Len(t, done, 8)
			assert.Equal(t, []string{"golang generics"}, done[0].Queries)
			assert.Equal(t, []string{"refund policy", "returns"}, done[1].Queries)
			assert.Equal(t, "print(6 * 7)", done[2].Code)
			assert.Equal(t, []string{"42\n"}, done[2].Logs)
			assert.Equal(t, "iVBORw0KGgo=", done[3].Image)
			assert.Equal(t, []string{"ls /mnt/data"}, done[4].Commands)
			assert.Equal(t, responses.TypeShellCallOutput, done[5].Type)
			assert.Equal(t, "report.csv\n", done[5].Stdout)
			assert.Equal(t, responses.TypeMCPListTools, done[6].Type)
			assert.Equal(t, responses.TypeMCPCall, done[7].Type)
			assert.Equal(t, "completed", done[7].Status)
			assert.Equal(t, "ws_1", done[0].ItemID)
			assert.Equal(t, hostedItems[1], string(done[0].Item.Raw()))

			if !streaming {
				return
			}
			// Progress from the stream.
			steps := map[string][]string{}
			var code, partial, stdout string
			for _, h := range hosted {
				if h.Item != nil {
					continue
				}
				steps[h.Type] = append(steps[h.Type], h.Status)
				code += h.CodeDelta
				partial += h.PartialImage
				stdout += h.Stdout
			}
			assert.Equal(t, []string{"in_progress", "searching", "completed"}, steps[responses.TypeWebSearchCall])
			assert.Equal(t, []string{"in_progress", "searching", "completed"}, steps[responses.TypeFileSearchCall])
			assert.Equal(t, "print(6 * 7)", code)
			assert.Equal(t, "iVBORw0KGgo=", partial)
			assert.Equal(t, "report.csv\n", stdout)
			assert.Contains(t, steps[responses.TypeMCPCall], "completed")
			assert.Contains(t, steps[responses.TypeImageGenerationCall], "generating")
		})
	}
}

func TestHostedToolIsNotExecuted(t *testing.T) {
	h := agent.Hosted(responses.WebSearchTool{Type: "web_search"})
	_, err := h.Call(t.Context(), tools.NewCall(rt.Raw(`{"type":"web_search_call","id":"ws_1"}`)))
	assert.ErrorContains(t, err, "runs on the server")
	assert.Panics(t, func() { agent.Hosted(map[string]any{}) })
	assert.Panics(t, func() { agent.Hosted(func() {}) })
}
