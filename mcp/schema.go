package mcp

import (
	"encoding/json"
	"slices"
)

// emptySchema is sent for a tool that lists no input schema.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// strictKeywords are the JSON Schema keywords strict mode accepts.
var strictKeywords = map[string]bool{
	"type": true, "properties": true, "required": true, "additionalProperties": true,
	"items": true, "enum": true, "const": true, "anyOf": true, "description": true, "title": true,
	"$defs": true, "definitions": true, "$ref": true, "pattern": true, "format": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"multipleOf": true, "minItems": true, "maxItems": true,
}

// strictCompatible reports whether the Responses API's strict mode can take
// schema exactly as it is: every object closes additionalProperties and
// requires all of its properties, and only keywords strict mode supports
// appear. A schema that fails is sent with strict false, never rewritten.
func strictCompatible(schema json.RawMessage) bool {
	var v any
	if json.Unmarshal(schema, &v) != nil {
		return false
	}
	root, ok := v.(map[string]any)
	if !ok || root["type"] != "object" {
		return false
	}
	return strictNode(root)
}

func strictNode(n map[string]any) bool {
	for k, v := range n {
		if !strictKeywords[k] {
			return false
		}
		switch k {
		case "properties", "$defs", "definitions":
			m, ok := v.(map[string]any)
			if !ok {
				return false
			}
			for _, sub := range m {
				s, ok := sub.(map[string]any)
				if !ok || !strictNode(s) {
					return false
				}
			}
		case "items":
			s, ok := v.(map[string]any)
			if !ok || !strictNode(s) {
				return false
			}
		case "anyOf":
			l, ok := v.([]any)
			if !ok {
				return false
			}
			for _, sub := range l {
				s, ok := sub.(map[string]any)
				if !ok || !strictNode(s) {
					return false
				}
			}
		}
	}
	isObject := n["type"] == "object"
	if t, ok := n["type"].([]any); ok {
		isObject = slices.Contains(t, any("object"))
	}
	if !isObject {
		return true
	}
	if n["additionalProperties"] != false {
		return false
	}
	props, _ := n["properties"].(map[string]any)
	req, _ := n["required"].([]any)
	if len(req) != len(props) {
		return false
	}
	for _, r := range req {
		name, ok := r.(string)
		if !ok {
			return false
		}
		if _, ok := props[name]; !ok {
			return false
		}
	}
	return true
}
