package function

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/agentloop/agentloop/internal/schemacheck"
)

// validator checks arguments against a resolved JSON Schema. It is safe for
// concurrent use.
type validator struct {
	schema *schemacheck.Schema
}

// compile resolves a parameters schema once, at construction.
func compile(schema []byte) (*validator, error) {
	s, err := schemacheck.Compile(schema)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return &validator{schema: s}, nil
}

// validate parses args and checks them against the schema. Its errors are
// short and name the offending field, for the model to read.
func (v *validator) validate(args []byte) error {
	doc, err := schemacheck.Decode(args)
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("not valid JSON: %v", err)
	case err != nil:
		return err // a number beyond float64
	}
	if _, ok := doc.(map[string]any); !ok {
		return errors.New("not a JSON object")
	}
	return v.schema.Validate(doc)
}

// decodeExact decodes arguments already validated as a JSON object, keeping
// numbers as written (json.Number), so that re-encoding them after defaults
// are filled in loses no precision.
func decodeExact(args []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(args))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
