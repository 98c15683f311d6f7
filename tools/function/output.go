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
