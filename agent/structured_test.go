package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

type weatherReport struct {
	City    string   `json:"city" jsonschema:"the city"`
	Celsius float64  `json:"celsius"`
	Alerts  []string `json:"alerts"`
	Wind    *int     `json:"wind,omitempty"`
}

const weatherSchema = `{"type":"object","properties":{` +
	`"city":{"type":"string","description":"the city"},` +
	`"celsius":{"type":"number"},` +
	`"alerts":{"type":"array","items":{"type":"string"}},` +
	`"wind":{"type":["integer","null"]}},` +
	`"required":["city","celsius","alerts","wind"],"additionalProperties":false}`

func TestRunAs(t *testing.T) {
	refusal := rt.Raw(`{"type":"message","role":"assistant","status":"completed","content":[{"type":"refusal","refusal":"I can't help with that."}]}`)
	for _, tc := range []struct {
		name     string
		output   responses.Item
		want     weatherReport
		wantErr  string
		refusal  string
		noOutput bool
	}{
		{name: "decoded", output: rt.Text(`{"city":"Paris","celsius":21.5,"alerts":["heat"],"wind":null}`),
			want: weatherReport{City: "Paris", Celsius: 21.5, Alerts: []string{"heat"}}},
		{name: "missing property", output: rt.Text(`{"city":"Paris","celsius":21.5,"alerts":[]}`),
			wantErr: "missing property 'wind'"},
		{name: "wrong type", output: rt.Text(`{"city":"Paris","celsius":"warm","alerts":[],"wind":3}`),
			wantErr: "/celsius: got string, want number"},
		{name: "extra property", output: rt.Text(`{"city":"Paris","celsius":1,"alerts":[],"wind":3,"mood":"happy"}`),
			wantErr: "mood"},
		{name: "not JSON", output: rt.Text(`It is sunny in Paris.`), wantErr: "not JSON"},
		{name: "refusal", output: refusal, refusal: "I can't help with that."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rt.New(t, rt.Output(tc.output))
			a := agent.New(client(srv), "test-model", &agent.Options{
				Request: responses.Request{Text: &responses.TextConfig{Verbosity: "low"}},
			})
			got, res, err := agent.RunAs[weatherReport](t.Context(), a, "Weather in Paris?")
			require.NotNil(t, res)
			reqs := served(srv)
			require.Len(t, reqs, 1)
			assert.JSONEq(t, `{"verbosity":"low","format":{"type":"json_schema","name":"weatherReport","strict":true,"schema":`+weatherSchema+`}}`,
				string(responses.MustJSON(reqs[0].Params.Text)))
			if tc.wantErr == "" && tc.refusal == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var oe *agent.OutputError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, res.Text, oe.Text)
			assert.Equal(t, tc.refusal, oe.Refusal)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
			}
		})
	}
}

func TestRunAsNoOutput(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"x"}`)))
	a := agent.New(client(srv), "test-model", &agent.Options{Tools: []tools.Tool{echoTool(nil)}, StopAtTools: []string{"echo"}})
	_, res, err := agent.RunAs[weatherReport](t.Context(), a, "hi")
	assert.ErrorIs(t, err, agent.ErrNoOutput)
	require.NotNil(t, res)
	assert.Equal(t, "stop_tool", res.StopReason)

	_, err = agent.DecodeOutput[weatherReport](nil)
	assert.ErrorIs(t, err, agent.ErrNoOutput)

	_, err = agent.OutputFormat[[]string]()
	assert.ErrorContains(t, err, "no output schema")

	f, err := agent.OutputFormat[map[string]any]()
	require.NoError(t, err)
	assert.False(t, *f.Strict, "a map cannot be strict")
	f, err = agent.OutputFormat[weatherReport]()
	require.NoError(t, err)
	assert.True(t, *f.Strict)
	assert.True(t, errors.Is(&agent.OutputError{Err: agent.ErrNoOutput}, agent.ErrNoOutput))
}

func TestRunAsResumed(t *testing.T) {
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"Paris"}`)),
		rt.Output(rt.Text(`{"city":"Paris","celsius":20,"alerts":[],"wind":4}`)),
	)
	a := agent.New(client(srv), "test-model", &agent.Options{
		Tools:    []tools.Tool{echoTool(&function.Options{NeedsApproval: function.Always})},
		Approver: agent.ApproverFunc(func(context.Context, tools.ApprovalRequest) (agent.Approval, error) { return agent.Defer, nil }),
	})
	_, res, err := agent.RunAs[weatherReport](t.Context(), a, "Weather?")
	require.ErrorIs(t, err, agent.ErrNoOutput)
	require.Len(t, res.Pending, 1)

	// The state keeps the run's text format: a resume in another process
	// (here, after a JSON round trip) needs no options to keep it.
	saved, err := json.Marshal(res.State)
	require.NoError(t, err)
	var st agent.RunState
	require.NoError(t, json.Unmarshal(saved, &st))
	res, err = a.Resume(t.Context(), &st, []agent.Decision{{CallID: "call_1", Approval: agent.Approve}})
	require.NoError(t, err)
	got, err := agent.DecodeOutput[weatherReport](res)
	require.NoError(t, err)
	wind := 4
	assert.Equal(t, weatherReport{City: "Paris", Celsius: 20, Alerts: []string{}, Wind: &wind}, got)
	reqs := served(srv)
	require.Len(t, reqs, 2)
	assert.Equal(t, "json_schema", reqs[1].Params.Text.Format.Type, "the resumed run keeps the format")
}
