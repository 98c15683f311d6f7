package function

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	xmessage "golang.org/x/text/message"
)

// validator checks arguments against a compiled JSON Schema. It is safe for
// concurrent use.
type validator struct {
	schema *jsonschema.Schema
}

// compile compiles a parameters schema; formats (date-time, email, ...) are
// asserted, not just annotations.
func compile(name string, schema []byte) (*validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "urn:agentloop:function:" + name
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return &validator{schema: s}, nil
}

// validate parses args, checks them against the schema and returns them
// decoded (numbers as json.Number). Its errors are short and name the
// offending field, for the model to read.
func (v *validator) validate(args []byte) (map[string]any, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(args))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	err = v.schema.Validate(doc)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return nil, errors.New(describe(ve))
	}
	if err != nil {
		return nil, err
	}
	return obj, nil
}

var printer = xmessage.NewPrinter(language.English)

// message describes one failed keyword; values are written as JSON.
func message(k jsonschema.ErrorKind) string {
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
	return k.LocalizedString(printer)
}

// describe turns a validation error tree into one line: the leaf errors, each
// prefixed with the JSON path of the offending value. A leaf that only says a
// value is not null is dropped when a sibling explains what was expected.
func describe(ve *jsonschema.ValidationError) string {
	type leaf struct{ at, msg string }
	var leaves []leaf
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, leaf{at: path(e.InstanceLocation), msg: message(e.ErrorKind)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	var parts []string
	for _, l := range leaves {
		if strings.HasSuffix(l.msg, ", want null") && slices.ContainsFunc(leaves, func(o leaf) bool {
			return o.at == l.at && o.msg != l.msg && !strings.HasSuffix(o.msg, ", want null")
		}) {
			continue
		}
		s := l.msg
		if l.at != "" {
			s = l.at + ": " + s
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

// path renders an instance location as a dotted path: items[2].name.
func path(loc []string) string {
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
