// Package schemacheck validates JSON values against a JSON Schema and
// explains a failure in a short line that names the offending value and what
// was expected, for a model to read and correct:
//
//	units: got "k", want one of "c", "f", null
//	others[1].street: got number, want string
//	missing property 'city'
//	additional properties 'x' not allowed
//
// Validation itself is github.com/google/jsonschema-go (drafts 2020-12, the
// default, and 07). That library's errors are not meant for a reader, so on
// failure a small walk over the schema and the value finds what is wrong
// (type, enum, const, required, additionalProperties, numeric and length
// bounds, pattern, items, anyOf and friends, local $refs), falling back to
// the library's own message for anything the walk does not explain.
//
// The library ignores "format"; this package asserts the formats the
// structured-output subset allows (date-time, date, time, duration, email,
// hostname, ipv4, ipv6, uuid) and uri. Other formats are annotations only.
package schemacheck

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// Schema is a resolved JSON Schema. It is immutable and safe for concurrent
// use.
type Schema struct {
	resolved *jsonschema.Resolved
	root     *jsonschema.Schema
	regexps  map[string]*regexp.Regexp // every pattern, compiled
	// formats says whether the schema asserts a format, which the library
	// does not check: valid values are then walked for them.
	formats bool
}

// Compile parses and resolves a schema given as JSON. Only references inside
// the schema are allowed.
func Compile(schema []byte) (*Schema, error) {
	var root jsonschema.Schema
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, fmt.Errorf("not a JSON Schema: %w", err)
	}
	switch root.Schema {
	case "", "https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft-07/schema#":
	default:
		return nil, fmt.Errorf("unsupported $schema %q: want draft 2020-12 or draft-07", root.Schema)
	}
	if err := checkTypes(&root, "", map[*jsonschema.Schema]bool{}); err != nil {
		return nil, err
	}
	resolved, err := root.Resolve(nil)
	if err != nil {
		return nil, err
	}
	s := &Schema{resolved: resolved, root: &root, regexps: map[string]*regexp.Regexp{}}
	s.formats = hasFormat(&root, map[*jsonschema.Schema]bool{})
	if err := s.compilePatterns(&root, map[*jsonschema.Schema]bool{}); err != nil {
		return nil, err
	}
	return s, nil
}

// checkTypes rejects type names JSON Schema does not have, which the library
// does not check (it does not validate schemas against the meta-schema).
func checkTypes(s *jsonschema.Schema, at string, seen map[*jsonschema.Schema]bool) error {
	if s == nil || seen[s] {
		return nil
	}
	seen[s] = true
	for _, t := range types(s) {
		switch t {
		case "null", "boolean", "object", "array", "number", "string", "integer":
		default:
			return fmt.Errorf("%s: unknown type %q", cmp.Or(at, "/"), t)
		}
	}
	for loc, c := range children(s) {
		if err := checkTypes(c, at+loc, seen); err != nil {
			return err
		}
	}
	return nil
}

// compilePatterns compiles every pattern of s and its subschemas for the
// walk (the library compiled them too, and checked them).
func (s *Schema) compilePatterns(sub *jsonschema.Schema, seen map[*jsonschema.Schema]bool) error {
	if sub == nil || seen[sub] {
		return nil
	}
	seen[sub] = true
	exprs := slices.Collect(maps.Keys(sub.PatternProperties))
	if sub.Pattern != "" {
		exprs = append(exprs, sub.Pattern)
	}
	for _, e := range exprs {
		if s.regexps[e] != nil {
			continue
		}
		re, err := regexp.Compile(e)
		if err != nil {
			return fmt.Errorf("pattern %q: %w", e, err)
		}
		s.regexps[e] = re
	}
	for _, c := range children(sub) {
		if err := s.compilePatterns(c, seen); err != nil {
			return err
		}
	}
	return nil
}

// hasFormat reports whether s or a subschema asserts a known format.
func hasFormat(s *jsonschema.Schema, seen map[*jsonschema.Schema]bool) bool {
	if s == nil || seen[s] {
		return false
	}
	seen[s] = true
	if _, ok := formats[s.Format]; ok {
		return true
	}
	for _, c := range children(s) {
		if hasFormat(c, seen) {
			return true
		}
	}
	return false
}

// children yields the subschemas of s with their JSON pointers relative to s.
func children(s *jsonschema.Schema) iter.Seq2[string, *jsonschema.Schema] {
	return func(yield func(string, *jsonschema.Schema) bool) {
		for _, c := range []struct {
			name string
			s    *jsonschema.Schema
		}{
			{"items", s.Items}, {"additionalItems", s.AdditionalItems}, {"contains", s.Contains},
			{"unevaluatedItems", s.UnevaluatedItems}, {"additionalProperties", s.AdditionalProperties},
			{"propertyNames", s.PropertyNames}, {"unevaluatedProperties", s.UnevaluatedProperties},
			{"not", s.Not}, {"if", s.If}, {"then", s.Then}, {"else", s.Else}, {"contentSchema", s.ContentSchema},
		} {
			if c.s != nil && !yield("/"+c.name, c.s) {
				return
			}
		}
		for _, l := range []struct {
			name string
			s    []*jsonschema.Schema
		}{{"prefixItems", s.PrefixItems}, {"items", s.ItemsArray}, {"allOf", s.AllOf}, {"anyOf", s.AnyOf}, {"oneOf", s.OneOf}} {
			for i, c := range l.s {
				if !yield("/"+l.name+"/"+strconv.Itoa(i), c) {
					return
				}
			}
		}
		for _, m := range []struct {
			name string
			s    map[string]*jsonschema.Schema
		}{
			{"$defs", s.Defs}, {"definitions", s.Definitions}, {"properties", s.Properties},
			{"patternProperties", s.PatternProperties}, {"dependentSchemas", s.DependentSchemas}, {"dependencies", s.DependencySchemas},
		} {
			for _, k := range slices.Sorted(maps.Keys(m.s)) {
				if !yield("/"+m.name+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), m.s[k]) {
					return
				}
			}
		}
	}
}

// Decode parses one JSON value the way [Schema.Validate] wants it (numbers
// as float64). Trailing data after the value is an error.
func Decode(data []byte) (any, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Value, "number") {
			// The only type error decoding into any: a number beyond float64.
			if te.Field != "" {
				return nil, fmt.Errorf("%s: %s is out of range", te.Field, te.Value)
			}
			return nil, fmt.Errorf("%s is out of range", te.Value)
		}
		return nil, err
	}
	return v, nil
}

// Validate checks v, a value from [Decode] (or json.Unmarshal into any),
// against the schema. A value that does not match gets an [*Error].
func (s *Schema) Validate(v any) error {
	if err := s.resolved.Validate(v); err != nil {
		w := walker{root: s.root, regexps: s.regexps}
		w.check(s.root, v, nil)
		if len(w.problems) == 0 {
			w.problems = []Problem{{Message: libraryMessage(err)}}
		}
		return &Error{Problems: w.problems}
	}
	if s.formats {
		w := walker{root: s.root, regexps: s.regexps}
		w.check(s.root, v, nil)
		if len(w.problems) > 0 {
			return &Error{Problems: w.problems}
		}
	}
	return nil
}

// libraryMessage strips the "validating root: validating /properties/x: "
// prefixes off the library's error.
func libraryMessage(err error) string {
	msg := err.Error()
	for strings.HasPrefix(msg, "validating ") {
		i := strings.Index(msg, ": ")
		if i < 0 {
			break
		}
		msg = msg[i+2:]
	}
	return msg
}

// Error is a value that does not match the schema.
type Error struct {
	Problems []Problem // at least one
}

// maxProblems bounds the problems Error lists.
const maxProblems = 5

// Error lists the problems, each prefixed with the dotted path of its value
// (items[2].name), separated by "; ".
func (e *Error) Error() string {
	return e.Format(Problem.Dotted)
}

// Format is Error with each problem written by f, for example
// [Problem.Pointer].
func (e *Error) Format(f func(Problem) string) string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxProblems {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f(p))
	}
	return b.String()
}

// Problem is one reason a value does not match.
type Problem struct {
	Path    []any  // the offending value: object keys (string) and array indices (int) from the root
	Message string // what is wrong, for example `got number, want string`

	typeOnly bool     // the value has the wrong type (want lists the types expected)
	want     []string // the expected types, for merging anyOf branches
}

// Dotted returns the problem prefixed with its dotted path: "a.b[1]: msg".
func (p Problem) Dotted() string {
	var b strings.Builder
	for _, e := range p.Path {
		switch e := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(e) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e)
		}
	}
	if b.Len() == 0 {
		return p.Message
	}
	return b.String() + ": " + p.Message
}

// Pointer returns the problem prefixed with its JSON pointer: "/a/b/1: msg".
func (p Problem) Pointer() string {
	if len(p.Path) == 0 {
		return p.Message
	}
	var b strings.Builder
	for _, e := range p.Path {
		s := fmt.Sprint(e)
		s = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
		b.WriteString("/" + s)
	}
	return b.String() + ": " + p.Message
}
