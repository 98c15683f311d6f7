package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/invopop/jsonschema"
)

// Derived is a schema derived from a Go type by [Derive].
type Derived struct {
	Schema json.RawMessage // compact JSON, keywords in a readable order
	Strict bool            // the schema is in the strict subset ([CheckStrict])
	// Reason says why the schema is not strict when strict was asked for.
	Reason string
	// Defaults are the jsonschema default values of the type's fields, to
	// apply to decoded arguments; nil when no field has one.
	Defaults *Defaults
}

// Derive derives the JSON Schema of the Go type t, a struct or a map with
// string keys (or a pointer to one): property names come from json tags,
// descriptions and keywords from jsonschema tags (in the form of
// github.com/invopop/jsonschema; a tag that is plain prose is the
// description), nested structs are inlined and recursive types use $defs.
//
// With strict set it tries the strict subset first: every property
// required, optional ones (pointers, omitempty and omitzero fields) made
// nullable, additionalProperties false on every object, defaults and
// examples moved into descriptions (the defaults are kept in
// [Derived.Defaults]). The result is strict when [CheckStrict] accepts it;
// otherwise (a map, an interface, json.RawMessage, a keyword or format
// strict mode does not support) Derive falls back to a non-strict schema and
// [Derived.Reason] says why. Without strict the schema is non-strict.
//
// Derive returns an error when t is not an object type, embeds itself, or
// cannot be reflected (channels, functions, complex numbers).
func Derive(t reflect.Type, strict bool) (d Derived, err error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
	default:
		return Derived{}, fmt.Errorf("input type %s is not a struct or a map with string keys; the schema's top level must be a JSON object", t)
	}
	if embedsItself(t, nil) {
		return Derived{}, fmt.Errorf("input type %s embeds itself; the schema would be infinite", t)
	}
	defer func() {
		if r := recover(); r != nil {
			d, err = Derived{}, fmt.Errorf("cannot derive a schema from %s: %v", t, r)
		}
	}()
	if strict {
		d, err := buildSchema(t, true)
		if err != nil {
			return Derived{}, err
		}
		if d.Reason == "" {
			if serr := CheckStrict(d.Schema); serr != nil {
				d.Reason = fmt.Sprintf("%s: %v", t, serr)
			}
		}
		if d.Reason == "" {
			d.Strict = true
			return d, nil
		}
		reason := d.Reason
		d, err = buildSchema(t, false)
		d.Reason = reason
		return d, err
	}
	d, err = buildSchema(t, false)
	d.Reason = ""
	return d, err
}

// buildSchema reflects t and rewrites the result for the chosen mode; its
// Reason is non-empty when strict was asked for but the derivation itself
// failed (the strict rules are checked by the caller).
func buildSchema(t reflect.Type, strict bool) (Derived, error) {
	recursive := isRecursive(t)
	r := &jsonschema.Reflector{
		Anonymous:      true,
		ExpandedStruct: !recursive,
		DoNotReference: !recursive,
		LookupComment:  bareDescription,
	}
	root := r.ReflectFromType(t)
	root.Version = ""
	w := &rewriter{strict: strict, defs: root.Definitions, done: map[*jsonschema.Schema]bool{}, defaults: &Defaults{values: map[reflect.Type]map[string]any{}, fields: map[reflect.Type]map[string]field{}}}
	if recursive {
		// The root is a reference to its own definition; copy the definition
		// into the root so that the root is an object, as the API requires.
		def := w.resolve(root)
		if def == nil {
			return Derived{}, fmt.Errorf("cannot derive a schema for %s: unresolved reference %q", t, root.Ref)
		}
		w.walk(def, t)
		defs := root.Definitions
		*root = *def
		root.Definitions = defs
	} else {
		root.Definitions = nil
		w.walk(root, t)
	}
	if len(root.Definitions) == 0 {
		root.Definitions = nil
	}
	b, err := json.Marshal(root)
	if err != nil {
		return Derived{}, fmt.Errorf("cannot encode the schema of %s: %v", t, err)
	}
	d := Derived{Schema: ordered(b), Reason: w.why}
	if len(w.defaults.values) > 0 {
		d.Defaults = w.defaults
	}
	return d, nil
}

// rewriter walks a reflected schema together with the Go type it came from.
type rewriter struct {
	strict bool
	defs   jsonschema.Definitions
	done   map[*jsonschema.Schema]bool
	why    string // the first reason strict mode is impossible

	defaults *Defaults
}

func (w *rewriter) notStrict(format string, args ...any) {
	if w.why == "" {
		w.why = fmt.Sprintf(format, args...)
	}
}

func (w *rewriter) resolve(s *jsonschema.Schema) *jsonschema.Schema {
	name, ok := strings.CutPrefix(s.Ref, "#/$defs/")
	if !ok {
		return nil
	}
	return w.defs[name]
}

func (w *rewriter) walk(s *jsonschema.Schema, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil || w.done[s] {
		return
	}
	w.done[s] = true
	if s.Ref != "" {
		def := w.resolve(s)
		if def == nil {
			w.notStrict("%s: unresolved reference %q", t, s.Ref)
			return
		}
		w.walk(def, t)
		return
	}
	w.keywords(s)
	switch {
	case s.Type == "object" && s.Properties != nil && t.Kind() == reflect.Struct:
		w.object(s, t)
	case s.Type == "object":
		// A map: strict mode rejects it (CheckStrict), but its values may
		// have defaults.
		if s.AdditionalProperties != nil && (t.Kind() == reflect.Map) {
			w.walk(s.AdditionalProperties, t.Elem())
		}
		for _, p := range s.PatternProperties {
			if t.Kind() == reflect.Map {
				w.walk(p, t.Elem())
			}
		}
	case s.Type == "array":
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			w.walk(s.Items, t.Elem())
		}
	}
	for _, a := range s.AnyOf {
		w.walk(a, t)
	}
}

// keywords adapts, in strict mode, the keywords of one schema that strict
// mode rejects but that have a strict equivalent: defaults and examples move
// into the description, and a nullable oneOf becomes an anyOf. Whether the
// result is strict is for CheckStrict to say.
func (w *rewriter) keywords(s *jsonschema.Schema) {
	if !w.strict {
		return
	}
	var notes []string
	if s.Default != nil {
		notes = append(notes, "default: "+compactJSON(s.Default))
		s.Default = nil
	}
	if len(s.Examples) > 0 {
		ex := make([]string, len(s.Examples))
		for i, e := range s.Examples {
			ex[i] = compactJSON(e)
		}
		notes = append(notes, "e.g. "+strings.Join(ex, ", "))
		s.Examples = nil
	}
	if len(notes) > 0 {
		d := strings.Join(notes, "; ")
		if s.Description != "" {
			d = s.Description + " (" + d + ")"
		} else {
			d = "(" + d + ")"
		}
		s.Description = d
	}
	// `jsonschema:"nullable"` makes oneOf [X, null]; as X never accepts null
	// that is the same as anyOf, which strict mode supports.
	if len(s.OneOf) == 2 && s.OneOf[1].Type == "null" && s.OneOf[0].Type != "" {
		s.AnyOf, s.OneOf = s.OneOf, nil
	}
}

func (w *rewriter) object(s *jsonschema.Schema, t reflect.Type) {
	fields := jsonFields(t)
	w.defaults.fields[t] = fields
	required := s.Required
	var req []string
	for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
		name, prop := pair.Key, pair.Value
		f, ok := fields[name]
		if !ok {
			w.notStrict("%s: property %q has no matching field", t, name)
			continue
		}
		if prop.Default != nil {
			if w.defaults.values[t] == nil {
				w.defaults.values[t] = map[string]any{}
			}
			w.defaults.values[t][name] = prop.Default
		}
		w.walk(prop, f.typ)
		optional := !slices.Contains(required, name) || (f.pointer && !f.requiredTag)
		if optional {
			pair.Value = nullable(prop)
		}
		if w.strict || !optional {
			req = append(req, name)
		}
	}
	s.Required = req
	if s.AdditionalProperties == nil {
		s.AdditionalProperties = jsonschema.FalseSchema
	}
}

// nullable returns s extended to accept null as well.
func nullable(s *jsonschema.Schema) *jsonschema.Schema {
	switch {
	case s.Ref != "":
		return &jsonschema.Schema{
			Description: s.Description,
			AnyOf:       []*jsonschema.Schema{{Ref: s.Ref}, {Type: "null"}},
		}
	case s.Type != "" && s.Type != "null":
		if s.Extras == nil {
			s.Extras = map[string]any{}
		}
		s.Extras["type"] = []string{s.Type, "null"}
		s.Type = ""
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, nil) {
			s.Enum = append(s.Enum, nil)
		}
	case len(s.AnyOf) > 0:
		for _, a := range s.AnyOf {
			if a.Type == "null" {
				return s
			}
		}
		s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Type: "null"})
	}
	return s
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// field is what the schema rewrite needs to know about one struct field.
type field struct {
	typ         reflect.Type
	pointer     bool
	requiredTag bool // tagged jsonschema:"required"
}

// jsonFields returns the fields encoding/json would use for struct t, keyed
// by JSON name, including the promoted fields of embedded structs.
func jsonFields(t reflect.Type) map[string]field {
	m := map[string]field{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		// A struct's own fields shadow the promoted ones, as in encoding/json.
		var embedded []reflect.Type
		for f := range t.Fields() {
			name, embed, ok := jsonName(f)
			if !ok {
				continue
			}
			if embed {
				embedded = append(embedded, f.Type)
				continue
			}
			if _, dup := m[name]; dup {
				continue
			}
			schemaTags := strings.Split(f.Tag.Get("jsonschema"), ",")
			m[name] = field{typ: f.Type, pointer: f.Type.Kind() == reflect.Pointer, requiredTag: slices.Contains(schemaTags, "required")}
		}
		for _, e := range embedded {
			add(e)
		}
	}
	add(t)
	return m
}

// jsonName reports the JSON name of f, whether its fields are promoted
// instead, and whether it appears in JSON at all; it follows the rules of the
// reflector so that names match the derived schema.
func jsonName(f reflect.StructField) (name string, embed, ok bool) {
	jsonTags := strings.Split(f.Tag.Get("json"), ",")
	if jsonTags[0] == "-" && len(jsonTags) == 1 {
		return "", false, false
	}
	if strings.Split(f.Tag.Get("jsonschema"), ",")[0] == "-" {
		return "", false, false
	}
	if f.Anonymous && jsonTags[0] == "" {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			return "", true, true
		}
	}
	if slices.Contains(jsonTags[1:], "inline") {
		return "", true, true
	}
	if !f.Anonymous && !f.IsExported() {
		return "", false, false
	}
	name = f.Name
	if jsonTags[0] != "" {
		name = jsonTags[0]
	}
	return name, false, true
}

// isRecursive reports whether t contains itself, in which case its schema
// needs $defs and $ref.
func isRecursive(t reflect.Type) bool {
	var visit func(t reflect.Type, stack []reflect.Type) bool
	visit = func(t reflect.Type, stack []reflect.Type) bool {
		for {
			switch t.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Array:
				t = t.Elem()
				continue
			case reflect.Map:
				t = t.Elem()
				continue
			}
			break
		}
		if t.Kind() != reflect.Struct {
			return false
		}
		if slices.Contains(stack, t) {
			return true
		}
		stack = append(stack, t)
		for f := range t.Fields() {
			if _, _, ok := jsonName(f); !ok {
				continue
			}
			if visit(f.Type, stack) {
				return true
			}
		}
		return false
	}
	return visit(t, nil)
}

// bareDescription lets a field's whole jsonschema tag be its description,
// as in `jsonschema:"file to read, relative to the workspace"`, when the tag
// is prose rather than keywords (its first element has no "=" and is not a
// flag such as "required").
func bareDescription(t reflect.Type, fieldName string) string {
	if fieldName == "" || t.Kind() != reflect.Struct {
		return ""
	}
	f, ok := t.FieldByName(fieldName)
	if !ok {
		return ""
	}
	tag := f.Tag.Get("jsonschema")
	first := strings.TrimSpace(strings.Split(tag, ",")[0])
	switch {
	case first == "", strings.Contains(first, "="):
		return ""
	case first == "required", first == "nullable", first == "-", first == "uniqueItems":
		return ""
	}
	return tag
}

// embedsItself reports whether a struct reachable from t embeds (promotes
// the fields of) a struct that embeds it back, which the reflector cannot
// handle.
func embedsItself(t reflect.Type, seen []reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || slices.Contains(seen, t) {
		return false
	}
	var chain func(t reflect.Type, path []reflect.Type) bool
	chain = func(t reflect.Type, path []reflect.Type) bool {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if slices.Contains(path, t) {
			return true
		}
		path = append(path, t)
		for f := range t.Fields() {
			if _, embed, ok := jsonName(f); ok && embed && chain(f.Type, path) {
				return true
			}
		}
		return false
	}
	if chain(t, nil) {
		return true
	}
	seen = append(seen, t)
	for f := range t.Fields() {
		if _, _, ok := jsonName(f); ok && embedsItself(f.Type, seen) {
			return true
		}
	}
	return false
}
