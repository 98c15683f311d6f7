package schema

import (
	"reflect"
)

// Defaults are the default values of struct fields tagged
// `jsonschema:"default=..."`, applied to arguments where the model sent
// null or left the property out. They are immutable once derived and safe
// for concurrent use.
type Defaults struct {
	values map[reflect.Type]map[string]any   // struct type -> property -> default
	fields map[reflect.Type]map[string]field // struct type -> its JSON fields
}

// Apply fills in defaults in v, a value of type t decoded as generic JSON
// (maps, slices), and reports whether it changed anything.
func (d *Defaults) Apply(v any, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	changed := false
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for name, def := range d.values[t] {
			if cur, has := m[name]; !has || cur == nil {
				m[name] = def
				changed = true
			}
		}
		fields := d.fields[t]
		for name, val := range m {
			if f, ok := fields[name]; ok && val != nil {
				changed = d.Apply(val, f.typ) || changed
			}
		}
	case reflect.Slice, reflect.Array:
		if a, ok := v.([]any); ok {
			for _, e := range a {
				changed = d.Apply(e, t.Elem()) || changed
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for _, e := range m {
				changed = d.Apply(e, t.Elem()) || changed
			}
		}
	}
	return changed
}
