package schemacheck

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
)

// walker explains why a value does not match a schema. It understands the
// keywords schemas for tools use; what it does not understand it accepts,
// leaving the verdict to the library.
type walker struct {
	root     *jsonschema.Schema
	regexps  map[string]*regexp.Regexp // pattern and patternProperties, compiled once
	problems []Problem
	depth    int
}

// maxDepth bounds the walk through $ref cycles that consume no value.
const maxDepth = 512

func (w *walker) add(path []any, format string, args ...any) {
	w.problems = append(w.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// sub returns the problems of v against s without recording them.
func (w *walker) sub(s *jsonschema.Schema, v any, path []any) []Problem {
	c := walker{root: w.root, regexps: w.regexps, depth: w.depth}
	c.check(s, v, path)
	return c.problems
}

func (w *walker) check(s *jsonschema.Schema, v any, path []any) {
	if s == nil || w.depth > maxDepth {
		return
	}
	w.depth++
	defer func() { w.depth-- }()

	if s.Ref != "" {
		w.check(w.ref(s.Ref), v, path)
	}
	if s.Not != nil {
		if isEmpty(s.Not) {
			w.add(path, "not allowed")
			return
		}
		if len(w.sub(s.Not, v, path)) == 0 {
			w.add(path, "must not match %s", show(s.Not))
		}
	}
	if want := types(s); want != nil {
		got := jsonType(v)
		if !slices.Contains(want, got) && !(got == "integer" && slices.Contains(want, "number")) {
			w.problems = append(w.problems, Problem{Path: path, Message: typeMessage(v, want), typeOnly: true, want: want})
			return
		}
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(e any) bool { return jsonschema.Equal(e, v) }) {
		want := make([]string, len(s.Enum))
		for i, e := range s.Enum {
			want[i] = show(e)
		}
		if len(want) == 1 {
			w.add(path, "got %s, want %s", show(v), want[0])
		} else {
			w.add(path, "got %s, want one of %s", show(v), strings.Join(want, ", "))
		}
	}
	if s.Const != nil && !jsonschema.Equal(*s.Const, v) {
		w.add(path, "got %s, want %s", show(v), show(*s.Const))
	}
	switch v := v.(type) {
	case float64:
		w.number(s, v, path)
	case string:
		w.string(s, v, path)
	case []any:
		w.array(s, v, path)
	case map[string]any:
		w.object(s, v, path)
	}
	for _, a := range s.AllOf {
		w.check(a, v, path)
	}
	if s.AnyOf != nil {
		w.anyOf(s.AnyOf, v, path)
	}
	if s.OneOf != nil {
		matches := 0
		for _, o := range s.OneOf {
			if len(w.sub(o, v, path)) == 0 {
				matches++
			}
		}
		switch {
		case matches == 0:
			w.anyOf(s.OneOf, v, path)
		case matches > 1:
			w.add(path, "matches %d alternatives, want exactly one (oneOf)", matches)
		}
	}
	if s.If != nil {
		if len(w.sub(s.If, v, path)) == 0 {
			w.check(s.Then, v, path)
		} else {
			w.check(s.Else, v, path)
		}
	}
}

// anyOf explains a value that matches none of the branches: the problems of
// the first branch the value has the right type for, or else one line that
// lists every type the branches accept.
func (w *walker) anyOf(branches []*jsonschema.Schema, v any, path []any) {
	var want []string
	for _, b := range branches {
		ps := w.sub(b, v, path)
		if len(ps) == 0 {
			return
		}
		if len(ps) == 1 && ps[0].typeOnly && len(ps[0].Path) == len(path) {
			for _, t := range ps[0].want {
				if !slices.Contains(want, t) {
					want = append(want, t)
				}
			}
			continue
		}
		w.problems = append(w.problems, ps...)
		return
	}
	if want != nil {
		w.problems = append(w.problems, Problem{Path: path, Message: typeMessage(v, want), typeOnly: true, want: want})
	}
}

func (w *walker) number(s *jsonschema.Schema, v float64, path []any) {
	switch {
	case s.Minimum != nil && v < *s.Minimum:
		w.add(path, "minimum: got %s, want %s", show(v), show(*s.Minimum))
	case s.Maximum != nil && v > *s.Maximum:
		w.add(path, "maximum: got %s, want %s", show(v), show(*s.Maximum))
	case s.ExclusiveMinimum != nil && v <= *s.ExclusiveMinimum:
		w.add(path, "exclusiveMinimum: got %s, want > %s", show(v), show(*s.ExclusiveMinimum))
	case s.ExclusiveMaximum != nil && v >= *s.ExclusiveMaximum:
		w.add(path, "exclusiveMaximum: got %s, want < %s", show(v), show(*s.ExclusiveMaximum))
	}
	if m := s.MultipleOf; m != nil && *m > 0 {
		if _, frac := math.Modf(v / *m); frac != 0 {
			w.add(path, "multipleOf: got %s, want a multiple of %s", show(v), show(*m))
		}
	}
}

func (w *walker) string(s *jsonschema.Schema, v string, path []any) {
	n := utf8.RuneCountInString(v)
	switch {
	case s.MinLength != nil && n < *s.MinLength:
		w.add(path, "minLength: got %d characters, want at least %d", n, *s.MinLength)
	case s.MaxLength != nil && n > *s.MaxLength:
		w.add(path, "maxLength: got %d characters, want at most %d", n, *s.MaxLength)
	}
	if s.Pattern != "" {
		if re := w.regexps[s.Pattern]; re != nil && !re.MatchString(v) {
			w.add(path, "%s does not match pattern %s", show(v), s.Pattern)
		}
	}
	if f, ok := formats[s.Format]; ok && !f.valid(v) {
		msg := fmt.Sprintf("%s is not valid %s", quote(v), s.Format)
		if f.hint != "" {
			msg += " (" + f.hint + ")"
		}
		w.add(path, "%s", msg)
	}
}

func (w *walker) array(s *jsonschema.Schema, v []any, path []any) {
	at := func(i int) []any { return append(path[:len(path):len(path)], i) }
	switch {
	case s.MinItems != nil && len(v) < *s.MinItems:
		w.add(path, "minItems: got %d items, want at least %d", len(v), *s.MinItems)
	case s.MaxItems != nil && len(v) > *s.MaxItems:
		w.add(path, "maxItems: got %d items, want at most %d", len(v), *s.MaxItems)
	}
	prefix := s.PrefixItems
	rest := s.Items
	if s.ItemsArray != nil { // draft-07 tuple
		prefix, rest = s.ItemsArray, s.AdditionalItems
	}
	for i, e := range v {
		if i < len(prefix) {
			w.check(prefix[i], e, at(i))
		} else {
			w.check(rest, e, at(i))
		}
	}
	if s.UniqueItems {
	unique:
		for i := range v {
			for j := range i {
				if jsonschema.Equal(v[i], v[j]) {
					w.add(path, "uniqueItems: items %d and %d are equal", j, i)
					break unique
				}
			}
		}
	}
	if s.Contains != nil && (s.MinContains == nil || *s.MinContains > 0) &&
		!slices.ContainsFunc(v, func(e any) bool { return len(w.sub(s.Contains, e, path)) == 0 }) {
		w.add(path, "contains: no item matches %s", show(s.Contains))
	}
}

func (w *walker) object(s *jsonschema.Schema, v map[string]any, path []any) {
	at := func(k string) []any { return append(path[:len(path):len(path)], k) }
	var missing []string
	for _, r := range s.Required {
		if _, ok := v[r]; !ok {
			missing = append(missing, "'"+r+"'")
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		w.add(path, "missing property %s", missing[0])
	default:
		w.add(path, "missing properties %s", strings.Join(missing, ", "))
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var patterns []*regexp.Regexp
	for p := range s.PatternProperties {
		if re := w.regexps[p]; re != nil {
			patterns = append(patterns, re)
		}
	}
	var extra []string
	mark := len(w.problems) // object-level problems go before those of properties
	for _, k := range keys {
		known := false
		if ps, ok := s.Properties[k]; ok {
			known = true
			w.check(ps, v[k], at(k))
		}
		for _, re := range patterns {
			if re.MatchString(k) {
				known = true
				w.check(s.PatternProperties[re.String()], v[k], at(k))
			}
		}
		if known || s.AdditionalProperties == nil {
			continue
		}
		if isFalse(s.AdditionalProperties) {
			extra = append(extra, "'"+k+"'")
			continue
		}
		w.check(s.AdditionalProperties, v[k], at(k))
	}
	if len(extra) > 0 {
		p := Problem{Path: path, Message: "additional properties " + strings.Join(extra, ", ") + " not allowed"}
		w.problems = slices.Insert(w.problems, mark, p)
	}
	switch {
	case s.MinProperties != nil && len(v) < *s.MinProperties:
		w.add(path, "minProperties: got %d properties, want at least %d", len(v), *s.MinProperties)
	case s.MaxProperties != nil && len(v) > *s.MaxProperties:
		w.add(path, "maxProperties: got %d properties, want at most %d", len(v), *s.MaxProperties)
	}
	if s.PropertyNames != nil {
		for _, k := range keys {
			if ps := w.sub(s.PropertyNames, k, at(k)); len(ps) > 0 {
				w.add(at(k), "property name: %s", ps[0].Message)
			}
		}
	}
}

// ref resolves a local reference ("#", "#/$defs/x", "#/definitions/x", or
// any JSON pointer into the root); others are not followed.
func (w *walker) ref(ref string) *jsonschema.Schema {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	s := w.root
	if ptr == "" {
		return s
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i := 0; i < len(parts) && s != nil; i++ {
		p := strings.ReplaceAll(strings.ReplaceAll(parts[i], "~1", "/"), "~0", "~")
		var m map[string]*jsonschema.Schema
		switch p {
		case "$defs":
			m = s.Defs
		case "definitions":
			m = s.Definitions
		case "properties":
			m = s.Properties
		case "items":
			s = s.Items
			continue
		default:
			return nil
		}
		if i++; i >= len(parts) {
			return nil
		}
		s = m[strings.ReplaceAll(strings.ReplaceAll(parts[i], "~1", "/"), "~0", "~")]
	}
	return s
}

// types returns the types s allows, or nil when it does not say.
func types(s *jsonschema.Schema) []string {
	if s.Type != "" {
		return []string{s.Type}
	}
	return s.Types
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// typeMessage says that v has none of the types in want: "got number, want
// string or null", or "got 2.5, want integer" for a fraction.
func typeMessage(v any, want []string) string {
	got := jsonType(v)
	if got == "integer" || got == "number" {
		if got == "number" && slices.Contains(want, "integer") {
			got = show(v)
		} else {
			got = "number"
		}
	}
	return "got " + got + ", want " + strings.Join(want, " or ")
}

// isEmpty reports whether s is the empty schema (true).
func isEmpty(s *jsonschema.Schema) bool { return reflect.ValueOf(*s).IsZero() }

// isFalse reports whether s is the schema false, which the library reads as
// {"not": {}}.
func isFalse(s *jsonschema.Schema) bool {
	if s.Not == nil || !isEmpty(s.Not) {
		return false
	}
	c := *s
	c.Not = nil
	return isEmpty(&c)
}

// maxShow bounds a value quoted in a message.
const maxShow = 60

// show writes v as compact JSON, cut at maxShow bytes.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > maxShow {
		s := string(b[:maxShow])
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "…"
	}
	return string(b)
}

// quote writes s in single quotes, cut like show.
func quote(s string) string {
	if len(s) > maxShow {
		cut := s[:maxShow]
		for !utf8.ValidString(cut) {
			cut = cut[:len(cut)-1]
		}
		s = cut + "…"
	}
	return "'" + s + "'"
}
