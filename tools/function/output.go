package function

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/agentloop/agentloop/responses"
)

// encodeOutput returns the output field of an output item for a function's
// result: a JSON string for text, an array for content parts.
func encodeOutput(v any) (json.RawMessage, error) {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case []responses.ContentPart:
		if len(x) == 0 {
			break
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		return b, nil
	case json.RawMessage:
		if !json.Valid(x) {
			return nil, fmt.Errorf("encode result: json.RawMessage is not valid JSON")
		}
		text = string(x)
	default:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
			text = rv.String()
			break
		}
		// The model reads this text: keep <, > and & as they are.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		text = strings.TrimSuffix(buf.String(), "\n")
	}
	if len(text) > maxOutput {
		return nil, fmt.Errorf("result too large: %d bytes; the limit is %d", len(text), maxOutput)
	}
	return responses.MustJSON(text), nil
}

// isStrictSchema reports whether a raw schema is already in the
// structured-output subset's shape: every object lists all of its properties
// in required and sets additionalProperties false.
func isStrictSchema(schema json.RawMessage) bool {
	var doc any
	if json.Unmarshal(schema, &doc) != nil {
		return false
	}
	var ok func(v any) bool
	ok = func(v any) bool {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if !ok(e) {
					return false
				}
			}
		case map[string]any:
			if isObjectSchema(x) {
				if ap, has := x["additionalProperties"]; !has || ap != false {
					return false
				}
				props, _ := x["properties"].(map[string]any)
				req, _ := x["required"].([]any)
				if len(req) != len(props) {
					return false
				}
				for _, r := range req {
					name, _ := r.(string)
					if _, has := props[name]; !has {
						return false
					}
				}
			}
			for k, e := range x {
				if k == "enum" || k == "const" || k == "default" || k == "examples" {
					continue
				}
				if k == "properties" || k == "$defs" || k == "definitions" {
					m, _ := e.(map[string]any)
					for _, s := range m {
						if !ok(s) {
							return false
						}
					}
					continue
				}
				if !ok(e) {
					return false
				}
			}
		}
		return true
	}
	return ok(doc)
}

func isObjectSchema(s map[string]any) bool {
	switch t := s["type"].(type) {
	case string:
		return t == "object"
	case []any:
		for _, e := range t {
			if e == "object" {
				return true
			}
		}
	}
	_, has := s["properties"]
	return has
}
