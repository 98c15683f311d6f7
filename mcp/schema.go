package mcp

import (
	"encoding/json"

	"github.com/agentloop/agentloop/internal/schema"
)

// emptySchema is sent for a tool that lists no input schema.
const emptySchema = `{"type":"object","properties":{}}`

// strictCompatible reports whether the Responses API's strict mode can take
// schema exactly as it is, by the rules of [schema.CheckStrict] (the same
// rules function tools use): every object closes additionalProperties and
// requires all of its properties, and only keywords and formats strict mode
// supports appear. A schema that fails is sent with strict false, never
// rewritten.
func strictCompatible(s json.RawMessage) bool {
	return schema.CheckStrict(s) == nil
}
