package schema_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/agentloop/agentloop/internal/schema"
)

// FuzzCheckStrict feeds arbitrary JSON to the strict check. It must never
// panic, and whatever it accepts the rest of the package accepts too: the
// schema compiles (so the arguments the API produces for it can be
// validated locally), validating a value against it does not panic, and the
// check gives the same answer for the compacted schema (what a tool
// definition carries).
func FuzzCheckStrict(f *testing.F) {
	for _, seed := range []string{
		obj(`{"type":"string"}`),
		obj(`{"type":["string","null"],"enum":["a","b",null]}`),
		obj(`{"anyOf":[{"$ref":"#"},{"type":"null"}]}`),
		obj(`{"type":"array","items":{"type":"integer","minimum":1,"multipleOf":2},"minItems":0,"maxItems":4}`),
		obj(`{"type":"string","pattern":"^[a-z]+$","format":"email"}`),
		obj(`{"type":"number","exclusiveMinimum":1e400}`),
		obj(`{"type":"array","items":{"type":"string"},"maxItems":1.0}`),
		obj(`{"$ref":"#/$defs/a~1b"}`),
		`{"type":"object","properties":{"n":{"$ref":"#/$defs/node"}},"required":["n"],"additionalProperties":false,` +
			`"$defs":{"node":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["kids"],"additionalProperties":false}}}`,
		`{"type":"object","properties":{},"additionalProperties":false,"definitions":{"x":{"const":null}}}`,
		obj(`{}`), obj(`true`), `{"type":"object"}`, `[]`, `{`, `null`, deep(11),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := schema.CheckStrict(json.RawMessage(s))
		if err != nil {
			return
		}
		v, err := schema.Compile("fuzz", []byte(s))
		if err != nil {
			t.Fatalf("CheckStrict accepts %s but Compile fails: %v", s, err)
		}
		for _, doc := range []string{`{}`, `{"p":null}`, `{"p":"x","n":{"kids":[]}}`} {
			d, err := schema.Decode([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			_ = v.Check(d)
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(s)); err != nil {
			t.Fatalf("CheckStrict accepts %s, which is not JSON: %v", s, err)
		}
		if err := schema.CheckStrict(buf.Bytes()); err != nil {
			t.Fatalf("CheckStrict accepts %s but not its compact form: %v", s, err)
		}
	})
}
