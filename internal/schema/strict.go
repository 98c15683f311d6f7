package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The limits strict mode puts on a whole schema.
const (
	maxDepth       = 10      // levels of nested objects
	maxProperties  = 5000    // object properties in all
	maxEnumValues  = 1000    // enum values in all
	maxStringChars = 120_000 // characters of property and definition names, enum and const strings
)

// CheckStrict reports whether the Responses API's strict mode (the
// structured-output subset of JSON Schema) takes schema exactly as it is. It
// returns nil when it does and otherwise an error naming the first place
// that does not fit, as a path of keywords ("properties.tags.items: ...").
// The same rules decide whether a schema derived by [Derive] is strict and
// whether a schema received as JSON (an MCP tool's input schema, a
// function.NewRaw schema) is sent with strict true; a schema that fails is
// sent with strict false, never rewritten.
//
// The rules, after the Structured Outputs guide's "supported schemas":
//
//   - The top level is an object schema: "type": "object", not "anyOf".
//   - Every object (a schema whose type is or includes "object", or that has
//     "properties") sets "additionalProperties": false and lists every one
//     of its properties in "required", once; an optional value is a union
//     with null ("type": ["string", "null"] or "anyOf" with {"type": "null"}).
//   - Every schema says what it accepts: "type", "anyOf", "enum", "const" or
//     "$ref". A schema that accepts any value ({} or true) is not strict.
//   - Only these keywords appear: type, description, title, enum, const,
//     anyOf, properties, required, additionalProperties, items, $ref, and at
//     the top level $defs or definitions; for strings pattern and format;
//     for numbers minimum, maximum, exclusiveMinimum, exclusiveMaximum and
//     multipleOf; for arrays minItems and maxItems. Not supported, among
//     others: allOf, oneOf, not, if/then/else, dependentRequired,
//     dependentSchemas, patternProperties, propertyNames, minProperties,
//     maxProperties, minLength, maxLength, uniqueItems, prefixItems,
//     contains, default, examples, $schema, $id, readOnly, deprecated.
//   - A format is one of date-time, time, date, duration, email, hostname,
//     ipv4, ipv6 and uuid.
//   - A $ref is "#" or points into the top level's $defs or definitions
//     ("#/$defs/name"); "items" is one schema, not a list.
//   - At most 10 levels of nested objects, 5000 properties and 1000 enum
//     values in all, and 120,000 characters of property names, definition
//     names and enum and const strings.
//
// Beyond the API's rules, the values of keywords must be well formed (a
// pattern compiles as a Go regular expression, a minimum is a number, ...)
// so that a schema CheckStrict accepts is also one [Compile] accepts and
// arguments can be validated locally.
func CheckStrict(schema json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if len(bytes.Trim(schema[dec.InputOffset():], " \t\r\n")) > 0 {
		return errors.New("not JSON: data after the schema")
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return errors.New("the schema is not a JSON object")
	}
	if root["type"] != "object" {
		return errors.New(`the top level must have "type": "object"`)
	}
	if _, has := root["anyOf"]; has {
		return errors.New(`the top level must not be "anyOf"`)
	}
	c := &strictChecker{root: root}
	return c.node(root, "", 0, true)
}

type strictChecker struct {
	root                   map[string]any
	props, enums, strChars int
}

// at joins a path and a keyword.
func at(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fail returns the error for the schema at path.
func fail(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		return errors.New(msg)
	}
	return errors.New(path + ": " + msg)
}

// strictKeyword reports whether strict mode accepts the keyword k.
func strictKeyword(k string) bool {
	switch k {
	case "type", "description", "title", "enum", "const", "anyOf",
		"properties", "required", "additionalProperties", "items", "$ref",
		"pattern", "format",
		"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
		"minItems", "maxItems":
		return true
	}
	return false
}

// StrictFormat reports whether strict mode accepts the string format f.
func StrictFormat(f string) bool {
	switch f {
	case "date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid":
		return true
	}
	return false
}

func jsonType(t string) bool {
	switch t {
	case "string", "number", "integer", "boolean", "object", "array", "null":
		return true
	}
	return false
}

// node checks one schema object at path; depth counts the objects around it.
func (c *strictChecker) node(n map[string]any, path string, depth int, top bool) error {
	// Keywords first, in a fixed order, so that the error is deterministic.
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if top && (k == "$defs" || k == "definitions") {
			continue
		}
		if !strictKeyword(k) {
			return fail(path, "strict mode does not support %q", k)
		}
	}
	isObject := false
	switch t := n["type"].(type) {
	case nil:
		if _, has := n["type"]; has {
			return fail(path, `"type" is null`)
		}
	case string:
		if !jsonType(t) {
			return fail(path, "unknown type %q", t)
		}
		isObject = t == "object"
	case []any:
		if len(t) == 0 {
			return fail(path, `"type" is an empty list`)
		}
		seen := map[string]bool{}
		for _, e := range t {
			s, ok := e.(string)
			if !ok || !jsonType(s) {
				return fail(path, "unknown type %v", e)
			}
			if seen[s] {
				return fail(path, "type %q listed twice", s)
			}
			seen[s] = true
			isObject = isObject || s == "object"
		}
	default:
		return fail(path, `"type" is not a string or a list of strings`)
	}
	_, hasType := n["type"]
	_, hasAnyOf := n["anyOf"]
	_, hasEnum := n["enum"]
	_, hasConst := n["const"]
	_, hasRef := n["$ref"]
	_, hasProps := n["properties"]
	if isObject || hasProps {
		if !hasType || !isObject {
			return fail(path, `an object schema needs "type": "object"`)
		}
		depth++
		if depth > maxDepth {
			return fail(path, "more than %d levels of nested objects", maxDepth)
		}
		if n["additionalProperties"] != false {
			return fail(path, `strict mode needs "additionalProperties": false on every object (its properties must be known)`)
		}
	}
	if !hasType && !hasAnyOf && !hasEnum && !hasConst && !hasRef {
		return fail(path, `the schema accepts any value; strict mode needs "type", "anyOf", "enum", "const" or "$ref"`)
	}
	for _, k := range keys {
		v := n[k]
		p := at(path, k)
		switch k {
		case "description", "title":
			if _, ok := v.(string); !ok {
				return fail(p, "not a string")
			}
		case "enum":
			l, ok := v.([]any)
			if !ok || len(l) == 0 {
				return fail(p, "not a non-empty list")
			}
			c.enums += len(l)
			if c.enums > maxEnumValues {
				return fail(p, "more than %d enum values in the schema", maxEnumValues)
			}
			for _, e := range l {
				if s, ok := e.(string); ok {
					if err := c.chars(p, s); err != nil {
						return err
					}
				}
			}
		case "const":
			if s, ok := v.(string); ok {
				if err := c.chars(p, s); err != nil {
					return err
				}
			}
		case "anyOf":
			l, ok := v.([]any)
			if !ok || len(l) == 0 {
				return fail(p, "not a non-empty list of schemas")
			}
			for i, e := range l {
				if err := c.sub(e, p+"["+strconv.Itoa(i)+"]", depth); err != nil {
					return err
				}
			}
		case "properties":
			m, ok := v.(map[string]any)
			if !ok {
				return fail(p, "not an object")
			}
			c.props += len(m)
			if c.props > maxProperties {
				return fail(p, "more than %d properties in the schema", maxProperties)
			}
			for _, name := range sortedKeys(m) {
				if err := c.chars(p, name); err != nil {
					return err
				}
				if err := c.sub(m[name], at(p, name), depth); err != nil {
					return err
				}
			}
		case "required":
			if err := c.required(n, v, p); err != nil {
				return err
			}
		case "additionalProperties":
			if v != false {
				return fail(p, "strict mode needs false")
			}
		case "items":
			if err := c.sub(v, p, depth); err != nil {
				return err
			}
		case "$ref":
			if err := c.ref(v, p); err != nil {
				return err
			}
		case "$defs", "definitions":
			m, ok := v.(map[string]any)
			if !ok {
				return fail(p, "not an object")
			}
			for _, name := range sortedKeys(m) {
				if err := c.chars(p, name); err != nil {
					return err
				}
				if err := c.sub(m[name], at(p, name), 0); err != nil {
					return err
				}
			}
		case "pattern":
			s, ok := v.(string)
			if !ok {
				return fail(p, "not a string")
			}
			if _, err := regexp.Compile(s); err != nil {
				return fail(p, "not a regular expression: %v", err)
			}
		case "format":
			s, ok := v.(string)
			if !ok {
				return fail(p, "not a string")
			}
			if !StrictFormat(s) {
				return fail(path, "strict mode does not support format %q", s)
			}
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
			if _, ok := v.(json.Number); !ok {
				return fail(p, "not a number")
			}
		case "multipleOf":
			num, ok := v.(json.Number)
			if !ok {
				return fail(p, "not a number")
			}
			if f, err := num.Float64(); err != nil || !(f > 0) {
				return fail(p, "not a number greater than 0")
			}
		case "minItems", "maxItems":
			num, ok := v.(json.Number)
			if !ok {
				return fail(p, "not a non-negative integer")
			}
			if i, err := strconv.ParseInt(num.String(), 10, 64); err != nil || i < 0 {
				if f, ferr := num.Float64(); ferr != nil || f < 0 || f != float64(int64(f)) || f > 1<<53 {
					return fail(p, "not a non-negative integer")
				}
			}
		}
	}
	return nil
}

// sub checks a subschema, which must be a schema object.
func (c *strictChecker) sub(v any, path string, depth int) error {
	m, ok := v.(map[string]any)
	if !ok {
		if b, isBool := v.(bool); isBool && b {
			return fail(path, "the schema accepts any value; strict mode needs a type")
		}
		return fail(path, "not a schema object")
	}
	return c.node(m, path, depth, false)
}

// required checks that the required list of object n names each of its
// properties exactly once.
func (c *strictChecker) required(n map[string]any, v any, path string) error {
	l, ok := v.([]any)
	if !ok {
		return fail(path, "not a list of property names")
	}
	props, _ := n["properties"].(map[string]any)
	seen := map[string]bool{}
	for _, e := range l {
		name, ok := e.(string)
		if !ok {
			return fail(path, "not a list of property names")
		}
		if seen[name] {
			return fail(path, "%q listed twice", name)
		}
		seen[name] = true
		if _, has := props[name]; !has {
			return fail(path, "%q is not a property", name)
		}
	}
	for _, name := range sortedKeys(props) {
		if !seen[name] {
			return fail(path, "strict mode needs every property required; %q is not (make it nullable instead)", name)
		}
	}
	return nil
}

// ref checks that a $ref is "#" or names a top-level definition.
func (c *strictChecker) ref(v any, path string) error {
	s, ok := v.(string)
	if !ok {
		return fail(path, "not a string")
	}
	if s == "#" {
		return nil
	}
	for _, kw := range []string{"$defs", "definitions"} {
		name, ok := strings.CutPrefix(s, "#/"+kw+"/")
		if !ok {
			continue
		}
		name = strings.ReplaceAll(strings.ReplaceAll(name, "~1", "/"), "~0", "~")
		defs, _ := c.root[kw].(map[string]any)
		if _, has := defs[name]; !has || strings.Contains(s[len("#/"+kw+"/"):], "/") {
			return fail(path, "%q does not name a definition of the top level", s)
		}
		return nil
	}
	return fail(path, `strict mode supports only "#" and "#/$defs/<name>" references, not %q`, s)
}

// chars counts the characters of names and enum values against the limit.
func (c *strictChecker) chars(path, s string) error {
	c.strChars += len(s)
	if c.strChars > maxStringChars {
		return fail(path, "more than %d characters of names and enum values in the schema", maxStringChars)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
