package function

import (
	"errors"

	"github.com/agentloop/agentloop/internal/schema"
)

// validator checks arguments against a compiled JSON Schema. It is safe for
// concurrent use.
type validator struct {
	schema *schema.Validator
}

// compile compiles a parameters schema; formats (date-time, email, ...) are
// asserted, not just annotations.
func compile(name string, s []byte) (*validator, error) {
	v, err := schema.Compile("function:"+name, s)
	if err != nil {
		return nil, err
	}
	return &validator{schema: v}, nil
}

// validate parses args, checks them against the schema and returns them
// decoded (numbers as json.Number). Its errors are short and name the
// offending field, for the model to read.
func (v *validator) validate(args []byte) (map[string]any, error) {
	doc, err := schema.Decode(args)
	if err != nil {
		return nil, errors.New("not valid JSON: " + err.Error())
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	if err := v.schema.Check(doc); err != nil {
		return nil, err
	}
	return obj, nil
}
