package responsestest

import (
	"encoding/json"

	"github.com/agentloop/agentloop/responses"
)

// hosted emits the progress events of an item of a tool the server runs,
// between its output_item.added and output_item.done, in the real API's
// order: web and file search in_progress, searching, completed; the code
// interpreter's in_progress, code deltas and done, interpreting, completed;
// image generation in_progress, generating, one partial_image (the final
// image itself, index 0) when the item has a result, completed; and for a
// shell_call_output the server made, one output_content delta per command
// and a done with the whole output.
func (w *eventWriter) hosted(i int, id string, it responses.Item) {
	at := []any{"item_id", id, "output_index", i}
	step := func(typ string, kv ...any) { w.emit(typ, append(append([]any{}, at...), kv...)...) }
	switch it.Type {
	case responses.TypeWebSearchCall, responses.TypeFileSearchCall:
		step("response." + it.Type + ".in_progress")
		step("response." + it.Type + ".searching")
		step("response." + it.Type + ".completed")
	case responses.TypeCodeInterpreterCall:
		var c struct{ Code string }
		_ = it.Decode(&c)
		step("response.code_interpreter_call.in_progress")
		for _, d := range chunks(c.Code) {
			step("response.code_interpreter_call_code.delta", "delta", d)
		}
		step("response.code_interpreter_call_code.done", "code", c.Code)
		step("response.code_interpreter_call.interpreting")
		step("response.code_interpreter_call.completed")
	case responses.TypeImageGenerationCall:
		var c struct{ Result string }
		_ = it.Decode(&c)
		step("response.image_generation_call.in_progress")
		step("response.image_generation_call.generating")
		if c.Result != "" {
			step("response.image_generation_call.partial_image", "partial_image_index", 0, "partial_image_b64", c.Result)
		}
		step("response.image_generation_call.completed")
	case responses.TypeShellCallOutput:
		var c struct{ Output []json.RawMessage }
		_ = it.Decode(&c)
		for ci, o := range c.Output {
			var out struct{ Stdout, Stderr string }
			_ = json.Unmarshal(o, &out)
			step("response.shell_call_output_content.delta", "command_index", ci,
				"delta", object("stdout", out.Stdout, "stderr", out.Stderr))
		}
		step("response.shell_call_output_content.done", "output", json.RawMessage(orEmpty(c.Output)))
	}
}

func orEmpty(parts []json.RawMessage) []byte {
	if parts == nil {
		return []byte("[]")
	}
	b, _ := json.Marshal(parts)
	return b
}
