package function

import (
	"encoding/json"
	"reflect"

	"github.com/agentloop/agentloop/internal/schema"
)

// derived is a schema derived from a Go type.
type derived struct {
	schema   json.RawMessage
	strict   bool
	reason   string           // why the schema is not strict, when strict was asked for
	defaults *schema.Defaults // nil when no field has a default
}

// schemaFor derives the parameters schema of a function tool from the Go
// type t with [schema.Derive]: with strict set, the strict subset when t
// allows it, and otherwise a non-strict schema and the reason.
//
// It panics when no schema can be derived from t (not an object type,
// channels, functions, complex numbers).
func schemaFor(t reflect.Type, strict bool) derived {
	d, err := schema.Derive(t, strict)
	if err != nil {
		panic("function: " + err.Error())
	}
	return derived{schema: d.Schema, strict: d.Strict, reason: d.Reason, defaults: d.Defaults}
}

// isStrictSchema reports whether a raw schema is already in the strict
// subset ([schema.CheckStrict]).
func isStrictSchema(s json.RawMessage) bool {
	return schema.CheckStrict(s) == nil
}
