package function

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type simpleArgs struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	Ratio float64 `json:"ratio"`
	Force bool    `json:"force"`
}

type optionalArgs struct {
	Path  string  `json:"path" jsonschema:"file to read, relative to the workspace"`
	Limit *int    `json:"limit" jsonschema:"description=maximum number of lines"`
	Note  string  `json:"note,omitempty" jsonschema_description:"a note for the log"`
	Mode  *string `json:"mode,omitempty" jsonschema:"enum=fast,enum=safe"`
	Must  *string `json:"must" jsonschema:"required"`
}

type enumArgs struct {
	Units string `json:"units" jsonschema:"enum=c,enum=f,description=temperature units"`
	Days  int    `json:"days" jsonschema:"minimum=1,maximum=7,default=3"`
	Tag   string `json:"tag,omitempty" jsonschema:"pattern=^[a-z]+$,example=abc"`
}

type address struct {
	Street string `json:"street"`
	Zip    string `json:"zip,omitempty"`
}

type nestedArgs struct {
	Home    address   `json:"home"`
	Work    *address  `json:"work"`
	Others  []address `json:"others"`
	Since   time.Time `json:"since"`
	Numbers []int     `json:"numbers,omitempty"`
}

type Embedded struct {
	Shared string `json:"shared"`
}

type embeddedArgs struct {
	Embedded
	Own     string `json:"own"`
	Skipped string `json:"-"`
	//lint:ignore U1000 unexported fields are not arguments; this one proves it
	hidden string
}

type mapArgs struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

type rawArgs struct {
	Query  string          `json:"query"`
	Filter json.RawMessage `json:"filter,omitempty"`
}

type lengthArgs struct {
	Code string `json:"code" jsonschema:"minLength=3"`
}

type nullableTagArgs struct {
	Home  address `json:"home" jsonschema:"nullable"`
	Label string  `json:"label" jsonschema:"nullable,description=a label"`
}

type SelfEmbedding struct {
	*SelfEmbedding
	X int `json:"x"`
}

type selfEmbedding struct {
	Inner SelfEmbedding `json:"inner"`
}

type treeArgs struct {
	Name     string      `json:"name"`
	Children []*treeArgs `json:"children,omitempty"`
}

func TestSchemaGolden(t *testing.T) {
	for _, tc := range []struct {
		name      string
		typ       reflect.Type
		nonStrict bool
		strict    bool
	}{
		{"simple", reflect.TypeFor[simpleArgs](), false, true},
		{"simple_nonstrict", reflect.TypeFor[simpleArgs](), true, false},
		{"optional", reflect.TypeFor[optionalArgs](), false, true},
		{"optional_nonstrict", reflect.TypeFor[optionalArgs](), true, false},
		{"enum", reflect.TypeFor[enumArgs](), false, true},
		{"enum_nonstrict", reflect.TypeFor[enumArgs](), true, false},
		{"nested", reflect.TypeFor[nestedArgs](), false, true},
		{"nested_pointer_input", reflect.TypeFor[*nestedArgs](), false, true},
		{"embedded", reflect.TypeFor[embeddedArgs](), false, true},
		{"empty", reflect.TypeFor[struct{}](), false, true},
		{"map_falls_back", reflect.TypeFor[mapArgs](), false, false},
		{"raw_falls_back", reflect.TypeFor[rawArgs](), false, false},
		{"minlength_falls_back", reflect.TypeFor[lengthArgs](), false, false},
		{"map_input", reflect.TypeFor[map[string]int](), false, false},
		{"recursive", reflect.TypeFor[treeArgs](), false, true},
		{"nullable_tag", reflect.TypeFor[nullableTagArgs](), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := schemaFor(tc.typ, !tc.nonStrict)
			schema, strict, why := d.schema, d.strict, d.reason
			assert.Equal(t, tc.strict, strict, "strict (reason %q)", why)
			if !tc.nonStrict && !strict {
				assert.NotEmpty(t, why, "a fallback says why")
			}
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, schema, "", "  "))
			got := "strict: " + map[bool]string{true: "true", false: "false"}[strict] + "\n" + pretty.String() + "\n"
			golden := filepath.Join("testdata", "schema", tc.name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), got)

			// Every derived schema compiles, and strict ones are in the
			// structured-output shape.
			_, err = compile("t", schema)
			require.NoError(t, err)
			if strict {
				assert.True(t, isStrictSchema(schema), "strict shape")
			}
		})
	}
}

func TestSchemaPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"empty name", func() { New("", "", func(context.Context, simpleArgs) (string, error) { return "", nil }, nil) }, "invalid tool name"},
		{"name with space", func() {
			New("read file", "", func(context.Context, simpleArgs) (string, error) { return "", nil }, nil)
		}, "invalid tool name"},
		{"name too long", func() {
			New(string(bytes.Repeat([]byte("a"), 65)), "", func(context.Context, simpleArgs) (string, error) { return "", nil }, nil)
		}, "invalid tool name"},
		{"string input", func() { New("t", "", func(context.Context, string) (string, error) { return "", nil }, nil) }, "is not a struct"},
		{"int-keyed map input", func() { New("t", "", func(context.Context, map[int]string) (string, error) { return "", nil }, nil) }, "is not a struct"},
		{"channel field", func() {
			New("t", "", func(context.Context, struct{ C chan int }) (string, error) { return "", nil }, nil)
		}, "cannot derive a schema"},
		{"self-embedding input", func() { New("t", "", func(context.Context, selfEmbedding) (string, error) { return "", nil }, nil) }, "embeds itself"},
		{"nil function", func() { New[simpleArgs, string]("t", "", nil, nil) }, "nil function"},
		{"grammar on function", func() {
			New("t", "", func(context.Context, simpleArgs) (string, error) { return "", nil }, &Options{Grammar: &Grammar{Syntax: "lark", Definition: "start: x"}})
		}, "Grammar is for custom tools"},
		{"raw not JSON", func() {
			NewRaw("t", "", json.RawMessage(`{`), func(context.Context, json.RawMessage) (any, error) { return nil, nil }, nil)
		}, "not a JSON object"},
		{"raw not object", func() {
			NewRaw("t", "", json.RawMessage(`{"type":"string"}`), func(context.Context, json.RawMessage) (any, error) { return nil, nil }, nil)
		}, `must be "object"`},
		{"raw invalid schema", func() {
			NewRaw("t", "", json.RawMessage(`{"type":"object","properties":{"a":{"type":"strin"}}}`), func(context.Context, json.RawMessage) (any, error) { return nil, nil }, nil)
		}, "compile schema"},
		{"custom bad syntax", func() {
			NewCustom("t", "", func(context.Context, string) (string, error) { return "", nil }, &Options{Grammar: &Grammar{Syntax: "peg", Definition: "x"}})
		}, "grammar syntax"},
		{"custom empty grammar", func() {
			NewCustom("t", "", func(context.Context, string) (string, error) { return "", nil }, &Options{Grammar: &Grammar{Syntax: "regex"}})
		}, "empty grammar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "want a panic")
				assert.Contains(t, r, tc.want)
			}()
			tc.f()
		})
	}
}

func TestIsStrictSchema(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema string
		want   bool
	}{
		{"strict", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`, true},
		{"empty object", `{"type":"object","properties":{},"additionalProperties":false}`, true},
		{"optional property", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}`, false},
		{"no additionalProperties", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, false},
		{"loose nested", `{"type":"object","properties":{"a":{"type":"object","properties":{}}},"required":["a"],"additionalProperties":false}`, false},
		{"loose in items", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"x":{"type":"string"}}}}},"required":["a"],"additionalProperties":false}`, false},
		{"enum of objects is data", `{"type":"object","properties":{"a":{"enum":[{"type":"object"}]}},"required":["a"],"additionalProperties":false}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, isStrictSchema(json.RawMessage(tc.schema)))
		})
	}
}
