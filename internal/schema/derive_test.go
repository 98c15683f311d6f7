package schema_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/internal/schema"
)

type weather struct {
	City  string    `json:"city" jsonschema:"the city"`
	Units *string   `json:"units,omitempty" jsonschema:"enum=c,enum=f"`
	Days  int       `json:"days,omitempty" jsonschema:"minimum=1,maximum=7,default=3"`
	When  time.Time `json:"when"`
}

func TestDerive(t *testing.T) {
	for _, tc := range []struct {
		name       string
		typ        reflect.Type
		strict     bool
		wantReason string // "" for a strict result
	}{
		{"strict struct", reflect.TypeFor[weather](), true, ""},
		{"pointer to struct", reflect.TypeFor[*weather](), true, ""},
		{"map field", reflect.TypeFor[struct {
			Labels map[string]string `json:"labels"`
		}](), false, `properties.labels: strict mode needs "additionalProperties": false`},
		{"interface field", reflect.TypeFor[struct {
			Any any `json:"any"`
		}](), false, "properties.any: the schema accepts any value"},
		{"raw JSON field", reflect.TypeFor[struct {
			Raw json.RawMessage `json:"raw"`
		}](), false, "properties.raw: the schema accepts any value"},
		{"minLength", reflect.TypeFor[struct {
			Code string `json:"code" jsonschema:"minLength=3"`
		}](), false, `strict mode does not support "minLength"`},
		{"format uri", reflect.TypeFor[struct {
			URL string `json:"url" jsonschema:"format=uri"`
		}](), false, `format "uri"`},
		{"readOnly", reflect.TypeFor[struct {
			ID string `json:"id" jsonschema:"readOnly=true"`
		}](), false, `"readOnly"`},
		{"map input", reflect.TypeFor[map[string]int](), false, `strict mode needs "additionalProperties": false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := schema.Derive(tc.typ, true)
			require.NoError(t, err)
			assert.Equal(t, tc.strict, d.Strict)
			if tc.wantReason == "" {
				assert.Empty(t, d.Reason)
				assert.NoError(t, schema.CheckStrict(d.Schema), "a strict derived schema passes the strict check")
			} else {
				assert.Contains(t, d.Reason, tc.wantReason)
				assert.Contains(t, d.Reason, tc.typ.String(), "the reason names the type")
			}
			_, err = schema.Compile("t", d.Schema)
			assert.NoError(t, err, "every derived schema compiles")

			nd, err := schema.Derive(tc.typ, false)
			require.NoError(t, err)
			assert.False(t, nd.Strict)
			assert.Empty(t, nd.Reason)
		})
	}
}

func TestDeriveErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"string", reflect.TypeFor[string](), "is not a struct or a map with string keys"},
		{"int-keyed map", reflect.TypeFor[map[int]string](), "is not a struct or a map with string keys"},
		{"channel field", reflect.TypeFor[struct{ C chan int }](), "cannot derive a schema from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schema.Derive(tc.typ, true)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestDefaults(t *testing.T) {
	d, err := schema.Derive(reflect.TypeFor[weather](), true)
	require.NoError(t, err)
	require.True(t, d.Strict)
	require.NotNil(t, d.Defaults)
	assert.Contains(t, string(d.Schema), `(default: 3)`, "the default moves into the description")
	assert.NotContains(t, string(d.Schema), `"default"`)

	doc, err := schema.Decode([]byte(`{"city":"Paris","units":null,"days":null,"when":"2026-01-02T03:04:05Z"}`))
	require.NoError(t, err)
	assert.True(t, d.Defaults.Apply(doc, reflect.TypeFor[weather]()))
	assert.EqualValues(t, "3", fmt.Sprint(doc.(map[string]any)["days"]))
}

func TestValidationError(t *testing.T) {
	d, err := schema.Derive(reflect.TypeFor[weather](), true)
	require.NoError(t, err)
	v, err := schema.Compile("function:weather", d.Schema)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, doc, want string
		loc             []string
	}{
		{"valid", `{"city":"Paris","units":"c","days":2,"when":"2026-01-02T03:04:05Z"}`, "", nil},
		{"enum", `{"city":"Paris","units":"k","days":2,"when":"2026-01-02T03:04:05Z"}`, `units: got "k", want one of "c", "f", null`, []string{"units"}},
		{"missing", `{"units":"c","days":2,"when":"2026-01-02T03:04:05Z"}`, "missing property 'city'", nil},
		{"type", `{"city":1,"units":"c","days":2,"when":"2026-01-02T03:04:05Z"}`, "city: got number, want string", []string{"city"}},
		{"format", `{"city":"Paris","units":"c","days":2,"when":"yesterday"}`, "when: ", []string{"when"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := schema.Decode([]byte(tc.doc))
			require.NoError(t, err)
			err = v.Check(doc)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var ve *schema.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Contains(t, err.Error(), tc.want)
			if tc.loc != nil {
				assert.Equal(t, tc.loc, ve.Violations[0].Location)
			}
		})
	}
	assert.Equal(t, "items[2].name", schema.Path([]string{"items", "2", "name"}))
}
