package agent_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
)

func TestPromptAndConversation(t *testing.T) {
	prompt := responses.Prompt{ID: "pmpt_1", Version: "3", Variables: map[string]any{"customer": "Ada"}}
	for _, tc := range []struct {
		name string
		opts agent.Options
		run  []agent.RunOption
	}{
		{name: "per run", run: []agent.RunOption{agent.WithConversation("conv_1"), agent.WithPrompt(prompt)}},
		{name: "agent options", opts: agent.Options{Request: responses.Request{Conversation: "conv_1", Prompt: &prompt}}},
		{name: "run overrides agent", opts: agent.Options{Request: responses.Request{Conversation: "conv_other"}},
			run: []agent.RunOption{agent.WithConversation("conv_1"), agent.WithPrompt(prompt)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rt.New(t,
				rt.Output(rt.FunctionCall("call_1", "echo", `{"text":"hi"}`)),
				rt.Output(rt.Text("Said hi.")),
				rt.Output(rt.Text("Still here.")),
			)
			require.Equal(t, "conv_1", srv.CreateConversation())
			opts := tc.opts
			opts.Tools = []tools.Tool{echoTool(nil)}
			a := agent.New(client(srv), "test-model", &opts)
			res, err := a.Run(t.Context(), "Say hi.", tc.run...)
			require.NoError(t, err)
			assert.Equal(t, "Said hi.", res.Text)
			// A second run in the same conversation sends only its message.
			_, err = a.Run(t.Context(), "Still there?", tc.run...)
			require.NoError(t, err)

			reqs := served(srv)
			require.Len(t, reqs, 3)
			for i, r := range reqs {
				assert.Equal(t, "conv_1", r.Params.Conversation, "request %d", i+1)
				assert.Empty(t, r.Params.PreviousResponseID, "request %d", i+1)
				require.NotNil(t, r.Params.Prompt)
				assert.JSONEq(t, `{"id":"pmpt_1","version":"3","variables":{"customer":"Ada"}}`, string(responses.MustJSON(r.Params.Prompt)))
			}
			assert.Equal(t, []string{userMsg("Say hi.")}, input(t, reqs[0]))
			assert.Equal(t, []string{fnOutput("call_1", "hi")}, input(t, reqs[1]))
			assert.Equal(t, []string{userMsg("Still there?")}, input(t, reqs[2]))
			// The server-side conversation holds the whole exchange.
			conv := srv.Conversation("conv_1")
			require.Len(t, conv, 6)
			assert.Equal(t, responses.TypeFunctionCall, conv[1].Type)
		})
	}
}

// The test server refuses a request with both previous_response_id and
// conversation, as the API does; the loop never sends both.
func TestConversationExcludesChaining(t *testing.T) {
	srv := rt.New(t, rt.Output(rt.Text("one")), rt.Output(rt.Text("two")))
	conv := srv.CreateConversation()
	a := agent.New(client(srv), "test-model", nil)
	res, err := a.Run(t.Context(), "first")
	require.NoError(t, err)
	_, err = a.Run(t.Context(), "second", agent.WithPreviousResponse(res.ResponseID), agent.WithConversation(conv))
	require.NoError(t, err)
	reqs := served(srv)
	require.Len(t, reqs, 2)
	assert.Empty(t, reqs[1].Params.PreviousResponseID)
	assert.Equal(t, conv, reqs[1].Params.Conversation)

	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	_, err = c.Create(t.Context(), &responses.Request{Model: "m", Input: responses.TextInput("x"), PreviousResponseID: res.ResponseID, Conversation: conv})
	var ae *responses.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "mutually_exclusive_parameters", ae.Code)
}
