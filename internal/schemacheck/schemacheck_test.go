package schemacheck

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustCompile(t testing.TB, schema string) *Schema {
	t.Helper()
	s, err := Compile([]byte(schema))
	require.NoError(t, err)
	return s
}

func mustDecode(t testing.TB, v string) any {
	t.Helper()
	d, err := Decode([]byte(v))
	require.NoError(t, err)
	return d
}

const weather = `{"type":"object","properties":{
	"city":{"type":"string","minLength":2,"maxLength":20,"pattern":"^[A-Z]"},
	"units":{"type":["string","null"],"enum":["c","f",null]},
	"days":{"type":"integer","minimum":1,"maximum":7},
	"step":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1,"multipleOf":0.25},
	"mode":{"const":"fast"},
	"tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":2,"uniqueItems":true},
	"when":{"type":"string","format":"date-time"},
	"where":{"anyOf":[{"$ref":"#/$defs/place"},{"type":"null"}]},
	"id":{"oneOf":[{"type":"integer"},{"type":"string","format":"uuid"}]},
	"meta":{"type":"object","additionalProperties":{"type":"boolean"},"maxProperties":1}
},"required":["city"],"additionalProperties":false,
"$defs":{"place":{"type":"object","properties":{"street":{"type":"string"},"n":{"type":"integer"}},"required":["street"],"additionalProperties":false}}}`

func TestValidateMessages(t *testing.T) {
	s := mustCompile(t, weather)
	for _, tc := range []struct {
		name, value, want string
	}{
		{"missing", `{}`, `missing property 'city'`},
		{"wrong type", `{"city":3}`, `city: got number, want string`},
		{"enum", `{"city":"Paris","units":"k"}`, `units: got "k", want one of "c", "f", null`},
		{"type list", `{"city":"Paris","units":1}`, `units: got number, want string or null`},
		{"fraction for integer", `{"city":"Paris","days":2.5}`, `days: got 2.5, want integer`},
		{"minimum", `{"city":"Paris","days":0}`, `days: minimum: got 0, want 1`},
		{"maximum", `{"city":"Paris","days":8}`, `days: maximum: got 8, want 7`},
		{"exclusiveMinimum", `{"city":"Paris","step":0}`, `step: exclusiveMinimum: got 0, want > 0`},
		{"exclusiveMaximum", `{"city":"Paris","step":1}`, `step: exclusiveMaximum: got 1, want < 1`},
		{"multipleOf", `{"city":"Paris","step":0.3}`, `step: multipleOf: got 0.3, want a multiple of 0.25`},
		{"minLength", `{"city":"P"}`, `city: minLength: got 1 characters, want at least 2`},
		{"maxLength", `{"city":"Pppppppppppppppppppppppp"}`, `city: maxLength: got 24 characters, want at most 20`},
		{"pattern", `{"city":"paris"}`, `city: "paris" does not match pattern ^[A-Z]`},
		{"const", `{"city":"Paris","mode":"slow"}`, `mode: got "slow", want "fast"`},
		{"item type", `{"city":"Paris","tags":["a",2]}`, `tags[1]: got number, want string`},
		{"minItems", `{"city":"Paris","tags":[]}`, `tags: minItems: got 0 items, want at least 1`},
		{"maxItems", `{"city":"Paris","tags":["a","b","c"]}`, `tags: maxItems: got 3 items, want at most 2`},
		{"uniqueItems", `{"city":"Paris","tags":["a","a"]}`, `tags: uniqueItems: items 0 and 1 are equal`},
		{"format", `{"city":"Paris","when":"yesterday"}`, `when: 'yesterday' is not valid date-time (RFC 3339, e.g. 2026-01-02T15:04:05Z)`},
		{"additional", `{"city":"Paris","x":1,"y":2}`, `additional properties 'x', 'y' not allowed`},
		{"anyOf explains the matching type", `{"city":"Paris","where":{"n":1}}`, `where: missing property 'street'`},
		{"anyOf nested type", `{"city":"Paris","where":{"street":1}}`, `where.street: got number, want string`},
		{"anyOf lists types", `{"city":"Paris","where":"home"}`, `where: got string, want object or null`},
		{"oneOf format", `{"city":"Paris","id":"x"}`, `id: 'x' is not valid uuid`},
		{"additionalProperties schema", `{"city":"Paris","meta":{"a":1}}`, `meta.a: got number, want boolean`},
		{"maxProperties", `{"city":"Paris","meta":{"a":true,"b":false}}`, `meta: maxProperties: got 2 properties, want at most 1`},
		{"several", `{"city":1,"days":0}`, `city: got number, want string; days: minimum: got 0, want 1`},
		{"object-level first", `{"units":2,"x":1}`, `missing property 'city'; additional properties 'x' not allowed; units: got number, want string or null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(mustDecode(t, tc.value))
			var se *Error
			require.True(t, errors.As(err, &se), "want an *Error, got %v", err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	s := mustCompile(t, weather)
	for _, v := range []string{
		`{"city":"Paris"}`,
		`{"city":"Paris","units":null,"days":7,"step":0.5,"mode":"fast","tags":["a","b"],"when":"2026-01-02T15:04:05.5+02:00",
		  "where":{"street":"Rue","n":3},"id":"123e4567-e89b-12d3-a456-426614174000","meta":{"ok":true}}`,
		`{"city":"Paris","where":null,"id":12,"when":"2026-01-02t15:04:05z"}`,
	} {
		assert.NoError(t, s.Validate(mustDecode(t, v)), v)
	}
}

func TestPointer(t *testing.T) {
	s := mustCompile(t, weather)
	err := s.Validate(mustDecode(t, `{"city":"Paris","tags":["a",1],"where":{"street":"x","n":"3"}}`))
	var se *Error
	require.True(t, errors.As(err, &se))
	assert.Equal(t, "/tags/1: got number, want string; /where/n: got string, want integer", se.Format(Problem.Pointer))
	assert.Equal(t, []any{"tags", 1}, se.Problems[0].Path)
}

func TestManyProblemsAreCut(t *testing.T) {
	s := mustCompile(t, `{"type":"array","items":{"type":"string"}}`)
	err := s.Validate(mustDecode(t, `[1,2,3,4,5,6,7]`))
	require.Error(t, err)
	assert.Equal(t, "[0]: got number, want string; [1]: got number, want string; [2]: got number, want string; "+
		"[3]: got number, want string; [4]: got number, want string; and 2 more", err.Error())
}

func TestRecursiveRef(t *testing.T) {
	s := mustCompile(t, `{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
		"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"additionalProperties":false}}}`)
	assert.NoError(t, s.Validate(mustDecode(t, `{"v":1,"kids":[{"v":2,"kids":[]}]}`)))
	assert.EqualError(t, s.Validate(mustDecode(t, `{"v":1,"kids":[{"v":2,"kids":[{"v":"x"}]}]}`)), `kids[0].kids[0].v: got string, want integer`)
}

func TestFallsBackToTheLibrary(t *testing.T) {
	// dependentRequired is not explained by the walk; the library's message
	// is used without its "validating ..." prefixes.
	s := mustCompile(t, `{"type":"object","dependentRequired":{"a":["b"]}}`)
	err := s.Validate(mustDecode(t, `{"a":1}`))
	require.Error(t, err)
	assert.Equal(t, `dependentRequired["a"]: missing properties ["b"]`, err.Error())
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ name, schema, want string }{
		{"not JSON", `{`, "not a JSON Schema"},
		{"bad keyword type", `{"type":"object","required":"a"}`, "not a JSON Schema"},
		{"unknown type", `{"type":"object","properties":{"a":{"type":"strin"}}}`, `/properties/a: unknown type "strin"`},
		{"unknown type in list", `{"type":["string","nul"]}`, `/: unknown type "nul"`},
		{"bad pattern", `{"type":"string","pattern":"("}`, "pattern"},
		{"remote ref", `{"$ref":"http://example.com/s.json"}`, "remote"},
		{"old draft", `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`, "unsupported $schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.schema))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDecode(t *testing.T) {
	_, err := Decode([]byte(`{"a":1} x`))
	assert.ErrorContains(t, err, "after top-level value")
	_, err = Decode([]byte(`{"a":1e400}`))
	assert.EqualError(t, err, "number 1e400 is out of range")
	v, err := Decode([]byte(` {"a":[1,"x",null,true]} `))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": []any{1.0, "x", nil, true}}, v)
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		format string
		good   []string
		bad    []string
	}{
		{"date-time", []string{"2026-01-02T15:04:05Z", "2026-01-02T15:04:05.123-07:00"}, []string{"2026-01-02", "2026-13-02T15:04:05Z", "yesterday"}},
		{"date", []string{"2026-01-02"}, []string{"2026-1-2", "2026-02-30"}},
		{"time", []string{"15:04:05Z", "15:04:05.5+01:00"}, []string{"15:04", "25:00:00Z"}},
		{"duration", []string{"P1D", "PT2H30M", "P1W", "P1Y2M3DT4H5M6.5S"}, []string{"P", "PT", "P1DT", "1D", "P1H"}},
		{"email", []string{"a@example.com"}, []string{"a", "A <a@example.com>", "a@"}},
		{"hostname", []string{"example.com", "a-b.c", "localhost"}, []string{"-a.com", "a..b", "a_b.com", ""}},
		{"ipv4", []string{"127.0.0.1"}, []string{"::1", "256.0.0.1", "1.2.3"}},
		{"ipv6", []string{"::1", "2001:db8::1"}, []string{"127.0.0.1", "fe80::1%eth0"}},
		{"uuid", []string{"123e4567-e89b-12d3-a456-426614174000"}, []string{"123e4567e89b12d3a456426614174000", "x"}},
		{"uri", []string{"https://example.com/a?b=c", "urn:isbn:0451450523"}, []string{"example.com/a", "/a", "https://a b"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			s := mustCompile(t, `{"type":"string","format":"`+tc.format+`"}`)
			for _, g := range tc.good {
				assert.NoError(t, s.Validate(g), g)
			}
			for _, b := range tc.bad {
				assert.ErrorContains(t, s.Validate(b), "is not valid "+tc.format, b)
			}
		})
	}
	// Unknown formats are annotations.
	assert.NoError(t, mustCompile(t, `{"type":"string","format":"color"}`).Validate("x"))
}

// FuzzValidate checks that, for arbitrary JSON, Validate never panics, that
// every failure has a message, and that the explaining walk is never
// stricter than the library except for formats, which only it asserts.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `1`, `{"city":"Paris"}`, `{"city":3}`, `{"city":"Paris","units":"k","days":0}`,
		`{"city":"Paris","where":{"street":"a","n":1.5},"tags":["a","a"]}`, `{"city":"Paris","when":"2026-01-02T15:04:05Z","id":"x"}`,
		`{"city":"Paris","meta":{"a":true},"step":0.75,"mode":"fast"}`, `{"city":"Pa","x":[[[[{}]]]]}`,
	} {
		f.Add(seed)
	}
	s := mustCompile(f, weather)
	f.Fuzz(func(t *testing.T, value string) {
		v, err := Decode([]byte(value))
		if err != nil {
			return
		}
		err = s.Validate(v)
		libErr := s.resolved.Validate(v)
		var se *Error
		switch {
		case err == nil:
			if libErr != nil {
				t.Fatalf("valid but the library says %v: %s", libErr, value)
			}
		case !errors.As(err, &se) || len(se.Problems) == 0:
			t.Fatalf("error %v is not an *Error with problems: %s", err, value)
		case libErr == nil:
			for _, p := range se.Problems {
				if !isFormatMessage(p.Message) {
					t.Fatalf("the walk rejects %s, which the library accepts: %v", value, err)
				}
			}
		}
		if err != nil {
			for _, p := range se.Problems {
				if p.Message == "" {
					t.Fatalf("empty message for %s", value)
				}
			}
		}
	})
}

func isFormatMessage(m string) bool {
	for name := range formats {
		if strings.Contains(m, " is not valid "+name) {
			return true
		}
	}
	return false
}

func TestDraft07(t *testing.T) {
	s := mustCompile(t, `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
		"properties":{"p":{"$ref":"#/definitions/pair"}},"definitions":{"pair":{"type":"array","items":[{"type":"string"},{"type":"integer"}],"additionalItems":false}}}`)
	assert.NoError(t, s.Validate(mustDecode(t, `{"p":["a",1]}`)))
	assert.EqualError(t, s.Validate(mustDecode(t, `{"p":["a","b"]}`)), `p[1]: got string, want integer`)
	assert.EqualError(t, s.Validate(mustDecode(t, `{"p":["a",1,2]}`)), `p[2]: not allowed`)
}
