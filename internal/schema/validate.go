package schema

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Validator checks JSON values against a compiled JSON Schema. It is safe
// for concurrent use.
type Validator struct {
	schema *jsonschema.Schema
}

// Compile compiles schema, any JSON Schema (draft 2020-12 unless it says
// otherwise with $schema), under the name id ("function:read_file"), which
// only appears in error messages. Formats (date-time, email, ...) are
// asserted, not just annotations. Its errors start with "parse schema",
// "load schema" or "compile schema".
func Compile(id string, schema []byte) (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "urn:agentloop:" + id
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return &Validator{schema: s}, nil
}

// Decode parses one JSON value as [Validator.Check] wants it: objects as
// map[string]any, numbers as json.Number (so that no precision is lost).
// Anything after the value other than white space is an error.
func Decode(b []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// DecodeString is [Decode] for a string, without copying it.
func DecodeString(s string) (any, error) {
	return jsonschema.UnmarshalJSON(strings.NewReader(s))
}

// Check checks doc, a value from [Decode], against the schema. A value that
// does not match gets a [*ValidationError]; other errors (a value Decode
// would not return) are returned as they are.
func (v *Validator) Check(doc any) error {
	err := v.schema.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return newValidationError(ve)
	}
	return err
}

// ValidationError says why a value does not match a schema: one
// [Violation] per failed keyword, in the order the validator found them,
// without duplicates.
type ValidationError struct {
	Violations []Violation
}

// Violation is one failed keyword: where, and what was wrong.
type Violation struct {
	// Location is the path of the offending value from the top: property
	// names and array indexes ("items", "2", "name"); empty for the top.
	Location []string
	// Message says what is wrong, with values written as JSON: `got "k",
	// want one of "c", "f"`, "missing property 'city'".
	Message string
}

// Error returns the violations on one line, each prefixed with the dotted
// path of its value ([Path]): `units: got "k", want one of "c", "f";
// missing property 'city'`.
func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Violations))
	for _, v := range e.Violations {
		s := v.Message
		if p := Path(v.Location); p != "" {
			s = p + ": " + s
		}
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return "does not match the schema"
	}
	return strings.Join(parts, "; ")
}

// Path renders an instance location as a dotted path: items[2].name.
func Path(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// newValidationError flattens a validation error tree into its leaves. A
// leaf that only says a value is not null is dropped when a sibling at the
// same place explains what was expected.
func newValidationError(ve *jsonschema.ValidationError) *ValidationError {
	var leaves []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, Violation{Location: e.InstanceLocation, Message: errorMessage(e.ErrorKind)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	out := &ValidationError{}
	for _, l := range leaves {
		if strings.HasSuffix(l.Message, ", want null") && slices.ContainsFunc(leaves, func(o Violation) bool {
			return slices.Equal(o.Location, l.Location) && o.Message != l.Message && !strings.HasSuffix(o.Message, ", want null")
		}) {
			continue
		}
		if !slices.ContainsFunc(out.Violations, func(o Violation) bool {
			return slices.Equal(o.Location, l.Location) && o.Message == l.Message
		}) {
			out.Violations = append(out.Violations, l)
		}
	}
	return out
}

// The printer of the validator's messages is built on first use, not at
// package initialisation.
var (
	printerOnce sync.Once
	printerVal  *message.Printer
)

func printer() *message.Printer {
	printerOnce.Do(func() { printerVal = message.NewPrinter(language.English) })
	return printerVal
}

// errorMessage describes one failed keyword; values are written as JSON.
func errorMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, v := range k.Want {
			want[i] = compactJSON(v)
		}
		if len(want) == 1 {
			return "got " + compactJSON(k.Got) + ", want " + want[0]
		}
		return "got " + compactJSON(k.Got) + ", want one of " + strings.Join(want, ", ")
	case *kind.Const:
		return "got " + compactJSON(k.Got) + ", want " + compactJSON(k.Want)
	}
	return k.LocalizedString(printer())
}
