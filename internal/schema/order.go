package schema

import (
	"bytes"
	"encoding/json"
	"slices"
)

// keyOrder is the order in which schema keywords are written, so that a
// schema reads top-down: what it is, what it means, then its parts. Other
// keywords follow in the order the reflector wrote them, and $defs comes
// last.
var keyOrder = []string{"type", "description", "enum", "const", "format", "properties", "items", "anyOf", "required", "additionalProperties"}

// ordered rewrites the keywords of every schema object in b into keyOrder.
// The order of properties is kept: the model fills arguments in that order.
func ordered(b []byte) []byte {
	var buf bytes.Buffer
	if err := writeSchema(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

type member struct {
	key string
	val json.RawMessage
}

func members(b []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var ms []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		ms = append(ms, member{k, v})
	}
	return ms, true
}

// writeSchema writes the schema b (an object or a boolean) with its keywords
// in order.
func writeSchema(buf *bytes.Buffer, b []byte) error {
	ms, ok := members(b)
	if !ok {
		buf.Write(b)
		return nil
	}
	rank := func(k string) int {
		if i := slices.Index(keyOrder, k); i >= 0 {
			return i
		}
		if k == "$defs" {
			return len(keyOrder) + 1
		}
		return len(keyOrder)
	}
	slices.SortStableFunc(ms, func(a, b member) int { return rank(a.key) - rank(b.key) })
	buf.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		buf.Write(k)
		buf.WriteByte(':')
		var err error
		switch m.key {
		case "properties", "$defs", "patternProperties", "dependentSchemas":
			err = writeSchemaMap(buf, m.val)
		case "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "contentSchema":
			err = writeSchema(buf, m.val)
		case "anyOf", "allOf", "oneOf", "prefixItems":
			err = writeSchemaList(buf, m.val)
		default:
			buf.Write(m.val)
		}
		if err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeSchemaMap(buf *bytes.Buffer, b []byte) error {
	ms, ok := members(b)
	if !ok {
		buf.Write(b)
		return nil
	}
	buf.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		buf.Write(k)
		buf.WriteByte(':')
		if err := writeSchema(buf, m.val); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeSchemaList(buf *bytes.Buffer, b []byte) error {
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		buf.Write(b)
		return nil
	}
	buf.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeSchema(buf, s); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}
