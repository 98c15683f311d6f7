package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/agentloop/agentloop/internal/schema"
	"github.com/agentloop/agentloop/responses"
)

// ErrNoOutput is wrapped by the error of [DecodeOutput] (and [RunAs]) when
// the run ended without a final answer: it stopped for approvals, at a stop
// tool or at a budget.
var ErrNoOutput = errors.New("agent: the run ended without a final answer")

// OutputError reports a final answer that is not the structured output the
// run asked for: a refusal, text that is not JSON, or JSON that does not
// match the schema or does not decode into the Go type.
type OutputError struct {
	Text    string // the model's final text
	Refusal string // the model's refusal, when it refused
	Err     error  // what is wrong with Text; nil for a refusal
}

func (e *OutputError) Error() string {
	if e.Refusal != "" {
		return "agent: the model refused to answer: " + e.Refusal
	}
	return fmt.Sprintf("agent: the final answer does not match the output schema: %v", e.Err)
}

func (e *OutputError) Unwrap() error { return e.Err }

// OutputFormat returns the text.format that makes the model answer with a
// JSON object matching T: a json_schema format named after T (or "output"),
// whose schema is derived from T by the rules of function.New (field names
// from json tags, descriptions and keywords from jsonschema tags). It is
// strict when T allows it, as function tools are (a T with a map or an
// interface, for example, cannot be). T must be a struct (or a map with
// string keys): the API wants an object at the top.
func OutputFormat[T any]() (responses.TextFormat, error) {
	s, err := schemaOf[T]()
	if err != nil {
		return responses.TextFormat{}, err
	}
	return s.format, nil
}

// RunAs runs prompt on a with the final answer constrained to JSON matching
// T (see [OutputFormat]; strict), and returns it decoded, together with the
// run's result. An answer that does not match is an [*OutputError]; a run
// that ends without an answer wraps [ErrNoOutput]; other errors are the
// run's. The format applies to every turn of the run; tool calls are not
// affected. Unlike function arguments, the answer gets no jsonschema
// defaults: a property the model leaves null stays the zero value.
func RunAs[T any](ctx context.Context, a *Agent, prompt string, opts ...RunOption) (T, *Result, error) {
	return RunItemsAs[T](ctx, a, []responses.Item{responses.UserMessage(prompt)}, opts...)
}

// RunItemsAs is [RunAs] with input items instead of a prompt.
func RunItemsAs[T any](ctx context.Context, a *Agent, input []responses.Item, opts ...RunOption) (T, *Result, error) {
	var zero T
	s, err := schemaOf[T]()
	if err != nil {
		return zero, nil, err
	}
	opts = append(opts[:len(opts):len(opts)], WithTextFormat(s.format))
	res, err := a.RunItems(ctx, input, opts...)
	if err != nil {
		return zero, res, err
	}
	v, err := decodeOutput[T](s, res)
	return v, res, err
}

// DecodeOutput decodes the final answer of res, a run made with
// [OutputFormat]'s format (for example after [Agent.Resume]), into T,
// checking it against T's schema first. Its errors are those of [RunAs].
func DecodeOutput[T any](res *Result) (T, error) {
	s, err := schemaOf[T]()
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeOutput[T](s, res)
}

func decodeOutput[T any](s *outputSchema, res *Result) (T, error) {
	var v T
	if res == nil {
		return v, fmt.Errorf("%w: no result", ErrNoOutput)
	}
	if res.StopReason != "done" {
		return v, fmt.Errorf("%w (stopped: %s)", ErrNoOutput, res.StopReason)
	}
	if refusal := lastRefusal(res.Items); refusal != "" {
		return v, &OutputError{Text: res.Text, Refusal: refusal}
	}
	doc, err := schema.DecodeString(res.Text)
	if err != nil {
		return v, &OutputError{Text: res.Text, Err: fmt.Errorf("not JSON: %w", err)}
	}
	if err := s.validator.Check(doc); err != nil {
		return v, &OutputError{Text: res.Text, Err: schemaError(err)}
	}
	dec := json.NewDecoder(strings.NewReader(res.Text))
	if err := dec.Decode(&v); err != nil {
		return v, &OutputError{Text: res.Text, Err: err}
	}
	return v, nil
}

// lastRefusal returns the refusal of the run's last message, if any.
func lastRefusal(items []responses.Item) string {
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].Type != responses.TypeMessage {
			continue
		}
		var m responses.Message
		if items[i].Decode(&m) != nil {
			return ""
		}
		var parts []responses.ContentPart
		_ = json.Unmarshal(m.Content, &parts)
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "refusal" {
				b.WriteString(p.Refusal)
			}
		}
		return b.String()
	}
	return ""
}

// schemaError flattens a validation error into one line naming each
// offending place: "missing property 'wind'; /celsius: got string, want
// number".
func schemaError(err error) error {
	var ve *schema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var parts []string
	for _, v := range ve.Violations {
		msg := v.Message
		if len(v.Location) > 0 {
			msg = "/" + strings.Join(v.Location, "/") + ": " + msg
		}
		if !slices.Contains(parts, msg) {
			parts = append(parts, msg)
		}
	}
	if len(parts) == 0 {
		return errors.New("does not match the schema")
	}
	return errors.New(strings.Join(parts, "; "))
}

type outputSchema struct {
	format    responses.TextFormat
	validator *schema.Validator
}

var schemaCache sync.Map // reflect.Type -> *outputSchema

// schemaOf derives (once per type) the output schema of T with
// [schema.Derive], the derivation of function.New: T's schema is exactly
// the parameters schema a function tool taking T would declare.
func schemaOf[T any]() (*outputSchema, error) {
	typ := reflect.TypeFor[T]()
	if v, ok := schemaCache.Load(typ); ok {
		return v.(*outputSchema), nil
	}
	d, err := schema.Derive(typ, true)
	if err != nil {
		return nil, fmt.Errorf("agent: no output schema for %v: %v", typ, err)
	}
	v, err := schema.Compile("output:"+url.PathEscape(typ.String()), d.Schema)
	if err != nil {
		return nil, fmt.Errorf("agent: output schema for %v: %w", typ, err)
	}
	s := &outputSchema{
		format:    responses.TextFormat{Type: "json_schema", Name: formatName(typ), Schema: d.Schema, Strict: responses.Ptr(d.Strict)},
		validator: v,
	}
	cached, _ := schemaCache.LoadOrStore(typ, s)
	return cached.(*outputSchema), nil
}

// formatName is T's name as a text.format name: runs of characters other
// than ASCII letters, digits, '_' and '-' become '_', at most 64 of them,
// "output" when nothing is left.
func formatName(t reflect.Type) string {
	var b strings.Builder
	under := false
	for _, r := range t.Name() {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
			under = false
			continue
		}
		if !under {
			b.WriteByte('_')
			under = true
		}
	}
	name := b.String()
	if name == "" || name == "_" {
		return "output"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}
