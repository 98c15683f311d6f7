package function

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/agentloop/agentloop/tools"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type pageArgs struct {
	Query string   `json:"query"`
	Limit *int     `json:"limit,omitempty" jsonschema:"default=10"`
	Order string   `json:"order,omitempty" jsonschema:"enum=asc,enum=desc,default=asc"`
	Exact bool     `json:"exact,omitempty" jsonschema:"default=true"`
	Sub   *subArgs `json:"sub,omitempty"`
	Subs  []subArgs
}

type subArgs struct {
	Depth int `json:"depth,omitempty" jsonschema:"default=2"`
}

type nodeArgs struct {
	Weight int         `json:"weight,omitempty" jsonschema:"default=1"`
	Kids   []*nodeArgs `json:"kids,omitempty"`
}

func TestDefaultsApplied(t *testing.T) {
	echo := func(_ context.Context, a pageArgs) (pageArgs, error) { return a, nil }
	for _, tc := range []struct {
		name      string
		nonStrict bool
		args      string
		want      string
	}{
		{"nulls take defaults", false,
			`{"query":"q","limit":null,"order":null,"exact":null,"sub":{"depth":null},"Subs":[{"depth":null},{"depth":5}]}`,
			`{"query":"q","limit":10,"order":"asc","exact":true,"sub":{"depth":2},"Subs":[{"depth":2},{"depth":5}]}`},
		{"given values win", false,
			`{"query":"q","limit":3,"order":"desc","exact":false,"sub":null,"Subs":[]}`,
			`{"query":"q","limit":3,"order":"desc","Subs":[]}`}, // exact:false and sub:nil are omitted (omitempty)
		{"missing properties take defaults when not strict", true,
			`{"query":"q","Subs":[]}`,
			`{"query":"q","limit":10,"order":"asc","exact":true,"Subs":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tool := New("page", "", echo, &Options{NonStrict: tc.nonStrict})
			it, err := tool.Call(t.Context(), functionCall("page", tc.args))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, textOutput(t, it))
		})
	}

	t.Run("recursive", func(t *testing.T) {
		tool := New("tree", "", func(_ context.Context, a nodeArgs) (nodeArgs, error) { return a, nil }, nil)
		it, err := tool.Call(t.Context(), functionCall("tree", `{"weight":null,"kids":[{"weight":4,"kids":[{"weight":null,"kids":null}]}]}`))
		require.NoError(t, err)
		assert.JSONEq(t, `{"weight":1,"kids":[{"weight":4,"kids":[{"weight":1}]}]}`, textOutput(t, it))
	})

	t.Run("schema mentions the default in strict mode", func(t *testing.T) {
		tool := New("page", "", echo, nil)
		require.True(t, tool.Strict())
		var s struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		require.NoError(t, json.Unmarshal(tool.Schema(), &s))
		assert.Contains(t, string(s.Properties["limit"]), `(default: 10)`)
		assert.NotContains(t, string(tool.Schema()), `"default"`)
	})
}

func TestReviewSeesDefaults(t *testing.T) {
	tool := New("page", "", func(_ context.Context, a pageArgs) (string, error) { return "", nil },
		&Options{NeedsApproval: If(func(a pageArgs) bool { return a.Limit != nil && *a.Limit >= 10 })})
	r, err := tool.Review(t.Context(), functionCall("page", `{"query":"q","limit":null,"order":null,"exact":null,"sub":null,"Subs":[]}`))
	require.NoError(t, err)
	assert.Equal(t, tools.Ask, r.Decision, "the default limit of 10 needs approval")
	assert.Contains(t, string(r.Request.Arguments), `"limit":10`)
}
