package schema_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/agentloop/agentloop/internal/schema"
)

// obj wraps one property schema p in a strict top-level object.
func obj(p string) string {
	return `{"type":"object","properties":{"p":` + p + `},"required":["p"],"additionalProperties":false}`
}

func TestCheckStrict(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		wantErr      string // "" means strict
	}{
		// The shape of objects.
		{"closed and all required", obj(`{"type":"string"}`), ""},
		{"no properties, no required", `{"type":"object","properties":{},"additionalProperties":false}`, ""},
		{"no properties, empty required", `{"type":"object","properties":{},"required":[],"additionalProperties":false}`, ""},
		{"optional property", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}},"required":["a"],"additionalProperties":false}`, `"b" is not (make it nullable`},
		{"required names no property", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"],"additionalProperties":false}`, `"b" is not a property`},
		{"required twice", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a","a"],"additionalProperties":false}`, "listed twice"},
		{"open object", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, `"additionalProperties": false`},
		{"nested open object", obj(`{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}`), "properties.p: strict mode needs"},
		{"open object in items", obj(`{"type":"array","items":{"type":"object","properties":{"x":{"type":"string"}}}}`), "properties.p.items:"},
		{"map", obj(`{"type":"object","additionalProperties":{"type":"string"}}`), "properties.p: strict mode needs"},
		{"nullable union", obj(`{"type":["string","null"]}`), ""},
		{"nullable object", obj(`{"type":["object","null"],"properties":{},"additionalProperties":false}`), ""},
		{"anyOf with null", obj(`{"anyOf":[{"type":"string"},{"type":"null"}]}`), ""},
		{"enum of objects is data", obj(`{"enum":[{"type":"object"}]}`), ""},
		{"const", obj(`{"const":"x"}`), ""},

		// The top level.
		{"top is not an object", `{"type":"string"}`, `"type": "object"`},
		{"top is anyOf", `{"type":"object","anyOf":[{"type":"object","properties":{},"additionalProperties":false}],"properties":{},"additionalProperties":false}`, `must not be "anyOf"`},
		{"top is a list", `[]`, "not a JSON object"},
		{"invalid JSON", `{`, "not JSON"},
		{"two values", `{"type":"object"} {}`, "not JSON"},

		// Keywords and formats.
		{"numbers and arrays", obj(`{"type":"array","items":{"type":"integer","minimum":1,"maximum":9,"exclusiveMinimum":0,"exclusiveMaximum":10,"multipleOf":1},"minItems":1,"maxItems":3}`), ""},
		{"pattern and format", obj(`{"type":"string","pattern":"^[a-z]+$","format":"date-time","title":"t","description":"d"}`), ""},
		{"every supported format", obj(`{"anyOf":[{"type":"string","format":"time"},{"type":"string","format":"date"},{"type":"string","format":"duration"},{"type":"string","format":"email"},{"type":"string","format":"hostname"},{"type":"string","format":"ipv4"},{"type":"string","format":"ipv6"},{"type":"string","format":"uuid"}]}`), ""},
		{"minLength", obj(`{"type":"string","minLength":3}`), `"minLength"`},
		{"oneOf", obj(`{"oneOf":[{"type":"string"},{"type":"integer"}]}`), `"oneOf"`},
		{"allOf", obj(`{"allOf":[{"type":"string"}]}`), `"allOf"`},
		{"$schema", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{},"required":[],"additionalProperties":false}`, `"$schema"`},
		{"pattern that is not RE2", obj(`{"type":"string","pattern":"(?=x)"}`), "not a regular expression"},
		{"unknown type", obj(`{"type":"strin"}`), `unknown type "strin"`},
		{"items as a list", obj(`{"type":"array","items":[{"type":"string"}]}`), "not a schema object"},
		{"multipleOf zero", obj(`{"type":"number","multipleOf":0}`), "greater than 0"},
		{"negative minItems", obj(`{"type":"array","items":{"type":"string"},"minItems":-1}`), "non-negative integer"},

		// References.
		{"recursive $defs", `{"type":"object","properties":{"n":{"$ref":"#/$defs/node"}},"required":["n"],"additionalProperties":false,` +
			`"$defs":{"node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["kids"],"additionalProperties":false}}}`, ""},
		{"ref to the root", obj(`{"anyOf":[{"$ref":"#"},{"type":"null"}]}`), ""},
		{"open definition", `{"type":"object","properties":{"n":{"$ref":"#/$defs/node"}},"required":["n"],"additionalProperties":false,"$defs":{"node":{"type":"object"}}}`, "$defs.node:"},
		{"unresolved ref", obj(`{"$ref":"#/$defs/missing"}`), "does not name a definition"},
		{"remote ref", obj(`{"$ref":"https://example.invalid/s.json"}`), `supports only "#"`},
		{"nested $defs", obj(`{"type":"string","$defs":{}}`), `"$defs"`},

		// Limits.
		{"11 levels of objects", deep(11), "more than 10 levels"},
		{"10 levels of objects", deep(10), ""},

		// Where the two checkers that this one replaces disagreed: the
		// function-tool rewriter (derived schemas) and mcp's keyword list
		// (MCP input schemas), and function.NewRaw's shape-only check.
		{"format uri (mcp said strict)", obj(`{"type":"string","format":"uri"}`), `format "uri"`},
		{"a property accepting anything (mcp said strict)", obj(`{}`), "accepts any value"},
		{"a property that is true (mcp: not a schema; function: accepts anything)", obj(`true`), "accepts any value"},
		{"readOnly (function said strict)", obj(`{"type":"string","readOnly":true}`), `"readOnly"`},
		{"deprecated (function said strict)", obj(`{"type":"string","deprecated":true}`), `"deprecated"`},
		{"$comment (function said strict)", obj(`{"type":"string","$comment":"x"}`), `"$comment"`},
		{"default (NewRaw said strict)", obj(`{"type":"string","default":"x"}`), `"default"`},
		{"uniqueItems (NewRaw said strict)", obj(`{"type":"array","items":{"type":"string"},"uniqueItems":true}`), `"uniqueItems"`},
		{"properties without type (mcp said strict)", obj(`{"properties":{},"additionalProperties":false}`), `needs "type": "object"`},
		{"tuple items (NewRaw said strict)", obj(`{"type":"array","items":[{"type":"object","properties":{},"additionalProperties":false}]}`), "not a schema object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schema.CheckStrict(json.RawMessage(tc.schema))
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// deep returns a strict schema with n levels of nested objects.
func deep(n int) string {
	s := `{"type":"object","properties":{},"additionalProperties":false}`
	for range n - 1 {
		s = `{"type":"object","properties":{"c":` + s + `},"required":["c"],"additionalProperties":false}`
	}
	return s
}

func TestCheckStrictLimits(t *testing.T) {
	many := func(n int, member func(i int) string) string {
		b := []byte(`{"type":"object","properties":{`)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, member(i)...)
		}
		b = append(b, `},"required":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `"p`...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, '"')
		}
		return string(append(b, `],"additionalProperties":false}`...))
	}
	prop := func(i int) string { return `"p` + strconv.Itoa(i) + `":{"type":"string"}` }
	assert.NoError(t, schema.CheckStrict(json.RawMessage(many(5000, prop))))
	assert.ErrorContains(t, schema.CheckStrict(json.RawMessage(many(5001, prop))), "more than 5000 properties")

	enum := func(i int) string { return `"p` + strconv.Itoa(i) + `":{"enum":[1,2,3,4,5,6,7,8,9,10]}` }
	assert.NoError(t, schema.CheckStrict(json.RawMessage(many(100, enum))))
	assert.ErrorContains(t, schema.CheckStrict(json.RawMessage(many(101, enum))), "more than 1000 enum values")

	long := func(i int) string { return `"p` + strconv.Itoa(i) + `":{"const":"` + strings.Repeat("x", 2000) + `"}` }
	assert.NoError(t, schema.CheckStrict(json.RawMessage(many(50, long))))
	assert.ErrorContains(t, schema.CheckStrict(json.RawMessage(many(61, long))), "more than 120000 characters")
}
