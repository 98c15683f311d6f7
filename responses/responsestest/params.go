package responsestest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A Rule names a group of the request checks the server applies the way the
// real API does (see docs/responsestest-rules.md for every check and its
// source). All are enforced by default; [Server.Lenient] turns rules off for a test that sends odd requests on
// purpose, and [Server.Enforce] turns them on.
type Rule string

const (
	// RuleParams checks the create request's top-level parameters: no
	// unknown parameter, model present, input present, values in range
	// (temperature, top_p, max_output_tokens, top_logprobs) and in their
	// sets (include, truncation, service_tier, reasoning, text, tool_choice),
	// metadata within its limits.
	RuleParams Rule = "params"
	// RuleItems checks input items: objects with a known type and the
	// fields the type requires, messages with a known role.
	RuleItems Rule = "items"
	// RuleTools checks tool definitions: objects with a known type, and a
	// valid name for function and custom tools (server_label for mcp).
	RuleTools Rule = "tools"
	// RuleConversationExists rejects a conversation id that was never
	// created (POST /conversations or [Server.CreateConversation]).
	RuleConversationExists Rule = "conversation_exists"
)

// allRules are the rules [Server.Lenient] with no argument turns off.
var allRules = []Rule{RuleParams, RuleItems, RuleTools, RuleConversationExists}

// defaultRules are enforced by a new server.
var defaultRules = []Rule{RuleParams, RuleItems, RuleTools, RuleConversationExists}

// Lenient turns the given rules off, or every rule when none is given, so
// that a test can send a request the real API would reject (to test a
// client's own validation, say). The conversation rules of the API (chained
// calls need their outputs, previous_response_id must exist) stay on. It
// returns s.
func (s *Server) Lenient(rules ...Rule) *Server {
	if len(rules) == 0 {
		rules = allRules
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rules {
		delete(s.rules, r)
	}
	return s
}

// Enforce turns the given rules on. It returns s.
func (s *Server) Enforce(rules ...Rule) *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rules {
		s.rules[r] = true
	}
	return s
}

func (s *Server) enforced(r Rule) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rules[r]
}

// The error bodies below follow the API's 400 answers as recorded in public
// issue threads (see the rules page): the message names the parameter in
// quotes, param is its path ("input[3].call_id"), and code says what is
// wrong.

func unknownParameter(param string) *apiError {
	e := invalidRequest(fmt.Sprintf("Unknown parameter: '%s'.", param), param, "unknown_parameter")
	return &e
}

func missingParameter(param string) *apiError {
	e := invalidRequest(fmt.Sprintf("Missing required parameter: '%s'.", param), param, "missing_required_parameter")
	return &e
}

func invalidValue(param, got string, supported []string) *apiError {
	quoted := make([]string, len(supported))
	for i, v := range supported {
		quoted[i] = "'" + v + "'"
	}
	list := strings.Join(quoted, ", ")
	if n := len(quoted); n > 1 {
		list = strings.Join(quoted[:n-1], ", ") + ", and " + quoted[n-1]
	}
	e := invalidRequest(fmt.Sprintf("Invalid value: '%s'. Supported values are: %s.", got, list), param, "invalid_value")
	return &e
}

func invalidType(param, want string, got json.RawMessage) *apiError {
	e := invalidRequest(fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.", param, want, jsonKind(got)), param, "invalid_type")
	return &e
}

func outOfRange(param string, integer, above bool, limit, got float64) *apiError {
	kind, rel, cmp := "decimal", "below_min", ">="
	if integer {
		kind = "integer"
	}
	if above {
		rel, cmp = "above_max", "<="
	}
	words := strings.ReplaceAll(strings.ReplaceAll(rel, "_min", " minimum"), "_max", " maximum")
	e := invalidRequest(fmt.Sprintf("Invalid '%s': %s %s value. Expected a value %s %s, but got %s instead.",
		param, kind, words, cmp, num(limit), num(got)), param, kind+"_"+rel+"_value")
	return &e
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// jsonKind names the JSON type of b the way the API's invalid_type
// messages do.
func jsonKind(b json.RawMessage) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if bytes.ContainsAny(b, ".eE") {
		return "a decimal"
	}
	return "an integer"
}

// knownParams are the create request's top-level parameters: the fields of
// ResponseNewParams in openai-go v3.102.0 (responses/response.go), plus
// stream, which the SDK's NewStreaming sets.
var knownParams = []string{
	"access_programs", "background", "background_options", "context_management", "conversation",
	"image", "include", "input", "instructions", "max_output_tokens", "max_tool_calls", "metadata",
	"model", "moderation", "parallel_tool_calls", "previous_response_id", "prompt", "prompt_cache_key",
	"prompt_cache_options", "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier",
	"store", "stream", "stream_options", "temperature", "text", "tool_choice", "tools", "top_logprobs",
	"top_p", "truncation", "user",
}

// Value sets, from the enums of openai-go v3.102.0 (ResponseIncludable,
// ResponseNewParamsTruncation, ResponseNewParamsServiceTier,
// shared.ReasoningEffort and ReasoningSummary, ResponseTextConfigParam,
// ToolChoiceOptions).
var (
	includables = []string{"file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
		"message.input_image.image_url", "computer_call_output.output.image_url", "code_interpreter_call.outputs",
		"reasoning.encrypted_content", "message.output_text.logprobs"}
	truncations     = []string{"auto", "disabled"}
	serviceTiers    = []string{"auto", "default", "flex", "scale", "priority", "fast", "ultrafast"}
	efforts         = []string{"none", "minimal", "low", "medium", "high", "xhigh"}
	summaries       = []string{"auto", "concise", "detailed"}
	verbosities     = []string{"low", "medium", "high"}
	formatTypes     = []string{"text", "json_schema", "json_object"}
	toolChoiceModes = []string{"none", "auto", "required"}
	roles           = []string{"user", "assistant", "system", "developer"}
)

// toolTypes are the discriminators of ToolUnionParam in openai-go v3.102.0.
var toolTypes = []string{"function", "file_search", "computer", "computer_use_preview", "web_search",
	"web_search_2025_08_26", "mcp", "code_interpreter", "programmatic_tool_calling", "image_generation",
	"local_shell", "shell", "custom", "namespace", "tool_search", "web_search_preview",
	"web_search_preview_2025_03_11", "apply_patch"}

// itemRequired maps each input item type (the discriminators of
// ResponseInputItemUnionParam in openai-go v3.102.0) to the fields the
// server checks. They are the SDK's required fields for the items a client
// writes (calls it answers, results, messages); for items a client replays
// from the server's output only the keys that identify them are checked,
// since replays without ids are accepted (see the reasoning rules).
var itemRequired = map[string][]string{
	"message":                 {"role", "content"},
	"file_search_call":        nil,
	"computer_call":           {"call_id"},
	"computer_call_output":    {"call_id", "output"},
	"web_search_call":         nil,
	"function_call":           {"call_id", "name", "arguments"},
	"function_call_output":    {"call_id", "output"},
	"tool_search_call":        nil,
	"tool_search_output":      nil,
	"additional_tools":        nil,
	"configuration_update":    nil,
	"reasoning":               {"summary"},
	"compaction":              {"encrypted_content"},
	"image_generation_call":   nil,
	"code_interpreter_call":   nil,
	"local_shell_call":        {"call_id", "action"},
	"local_shell_call_output": {"output"},
	"shell_call":              {"call_id", "action"},
	"shell_call_output":       {"call_id", "output"},
	"apply_patch_call":        {"call_id", "operation"},
	"apply_patch_call_output": {"call_id", "status"},
	"mcp_list_tools":          nil,
	"mcp_approval_request":    {"id", "name", "server_label", "arguments"},
	"mcp_approval_response":   {"approval_request_id", "approve"},
	"mcp_call":                nil,
	"custom_tool_call_output": {"call_id", "output"},
	"custom_tool_call":        {"call_id", "name", "input"},
	"compaction_trigger":      nil,
	"item_reference":          {"id"},
	"program":                 nil,
	"program_output":          nil,
}

// toolNamePattern is the API's rule for function names (recorded 400:
// "Invalid 'tools[0].name': string does not match pattern.").
var toolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// checkParams applies the enforced rules to a create request's body.
func (s *Server) checkParams(body []byte) *apiError {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil // not a JSON object: the decoder reports it (a script mismatch)
	}
	if s.enforced(RuleParams) {
		if e := checkTop(m); e != nil {
			return e
		}
	}
	if s.enforced(RuleItems) {
		if e := checkItems(m["input"]); e != nil {
			return e
		}
	}
	if s.enforced(RuleTools) {
		if e := checkTools(m["tools"]); e != nil {
			return e
		}
	}
	return nil
}

func isNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func checkTop(m map[string]json.RawMessage) *apiError {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(knownParams, k) {
			return unknownParameter(k)
		}
	}
	// model is required unless a stored prompt names it (API reference:
	// "model ... required"; prompt templates carry their own model).
	if isNull(m["model"]) && isNull(m["prompt"]) {
		return missingParameter("model")
	}
	if v := m["model"]; !isNull(v) {
		if e := wantString("model", v, nil); e != nil {
			return e
		}
	}
	// input may be left out only when the context comes from elsewhere: a
	// stored prompt, a conversation or a previous response.
	if isNull(m["input"]) && isNull(m["prompt"]) && isNull(m["conversation"]) && isNull(m["previous_response_id"]) {
		return missingParameter("input")
	}
	if v := m["input"]; !isNull(v) {
		if k := jsonKind(v); k != "a string" && k != "an array" {
			return invalidType("input", "one of a string or an array", v)
		}
	}
	for _, r := range []struct {
		param    string
		integer  bool
		min, max float64
		hasMax   bool
	}{
		{"temperature", false, 0, 2, true},
		{"top_p", false, 0, 1, true},
		{"max_output_tokens", true, 16, 0, false},
		{"top_logprobs", true, 0, 20, true},
		{"max_tool_calls", true, 1, 0, false},
	} {
		if e := checkNumber(r.param, m[r.param], r.integer, r.min, r.max, r.hasMax); e != nil {
			return e
		}
	}
	for _, b := range []string{"stream", "store", "background", "parallel_tool_calls"} {
		if v := m[b]; !isNull(v) && jsonKind(v) != "a boolean" {
			return invalidType(b, "a boolean", v)
		}
	}
	for _, p := range []string{"instructions", "previous_response_id", "prompt_cache_key", "safety_identifier", "user"} {
		if v := m[p]; !isNull(v) {
			if e := wantString(p, v, nil); e != nil {
				return e
			}
		}
	}
	if e := wantString("truncation", m["truncation"], truncations); e != nil {
		return e
	}
	if e := wantString("service_tier", m["service_tier"], serviceTiers); e != nil {
		return e
	}
	if v := m["include"]; !isNull(v) {
		var inc []json.RawMessage
		if json.Unmarshal(v, &inc) != nil {
			return invalidType("include", "an array", v)
		}
		for i, x := range inc {
			if e := wantString(fmt.Sprintf("include[%d]", i), x, includables); e != nil {
				return e
			}
		}
	}
	if e := checkObject("reasoning", m["reasoning"], map[string][]string{"effort": efforts, "summary": summaries, "generate_summary": summaries}); e != nil {
		return e
	}
	if e := checkText(m["text"]); e != nil {
		return e
	}
	if e := checkToolChoice(m["tool_choice"]); e != nil {
		return e
	}
	if e := checkMetadata(m["metadata"]); e != nil {
		return e
	}
	if v := m["conversation"]; !isNull(v) {
		switch jsonKind(v) {
		case "a string":
		case "an object":
			var c map[string]json.RawMessage
			_ = json.Unmarshal(v, &c)
			if isNull(c["id"]) {
				return missingParameter("conversation.id")
			}
			if e := wantString("conversation.id", c["id"], nil); e != nil {
				return e
			}
			for k := range c {
				if k != "id" {
					return unknownParameter("conversation." + k)
				}
			}
		default:
			return invalidType("conversation", "one of a string or an object", v)
		}
	}
	return nil
}

// wantString checks that v, if present, is a string in set (any string when
// set is nil).
func wantString(param string, v json.RawMessage, set []string) *apiError {
	if isNull(v) {
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return invalidType(param, "a string", v)
	}
	if set != nil && !slices.Contains(set, s) {
		return invalidValue(param, s, set)
	}
	return nil
}

func checkNumber(param string, v json.RawMessage, integer bool, lo, hi float64, hasMax bool) *apiError {
	if isNull(v) {
		return nil
	}
	var f float64
	if json.Unmarshal(v, &f) != nil {
		want := "a decimal"
		if integer {
			want = "an integer"
		}
		return invalidType(param, want, v)
	}
	if integer && bytes.ContainsAny(v, ".eE") {
		return invalidType(param, "an integer", v)
	}
	if f < lo {
		return outOfRange(param, integer, false, lo, f)
	}
	if hasMax && f > hi {
		return outOfRange(param, integer, true, hi, f)
	}
	return nil
}

// checkObject checks that v, if present, is an object whose string members
// named in sets take values from them.
func checkObject(param string, v json.RawMessage, sets map[string][]string) *apiError {
	if isNull(v) {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return invalidType(param, "an object", v)
	}
	for k, set := range sets {
		if e := wantString(param+"."+k, m[k], set); e != nil {
			return e
		}
	}
	return nil
}

func checkText(v json.RawMessage) *apiError {
	if e := checkObject("text", v, map[string][]string{"verbosity": verbosities}); e != nil || isNull(v) {
		return e
	}
	var t struct{ Format json.RawMessage }
	_ = json.Unmarshal(v, &t)
	if isNull(t.Format) {
		return nil
	}
	var f map[string]json.RawMessage
	if json.Unmarshal(t.Format, &f) != nil {
		return invalidType("text.format", "an object", t.Format)
	}
	if isNull(f["type"]) {
		return missingParameter("text.format.type")
	}
	if e := wantString("text.format.type", f["type"], formatTypes); e != nil {
		return e
	}
	if string(bytes.TrimSpace(f["type"])) == `"json_schema"` {
		for _, k := range []string{"name", "schema"} {
			if isNull(f[k]) {
				return missingParameter("text.format." + k)
			}
		}
	}
	return nil
}

func checkToolChoice(v json.RawMessage) *apiError {
	if isNull(v) {
		return nil
	}
	switch jsonKind(v) {
	case "a string":
		return wantString("tool_choice", v, toolChoiceModes)
	case "an object":
		var o map[string]json.RawMessage
		_ = json.Unmarshal(v, &o)
		if isNull(o["type"]) {
			return missingParameter("tool_choice.type")
		}
		return nil
	}
	return invalidType("tool_choice", "one of a string or an object", v)
}

// checkMetadata applies the API reference's limits: at most 16 pairs, keys
// of at most 64 characters, string values of at most 512.
func checkMetadata(v json.RawMessage) *apiError {
	if isNull(v) {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return invalidType("metadata", "an object", v)
	}
	if len(m) > 16 {
		e := invalidRequest(fmt.Sprintf("Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with %d properties instead.", len(m)), "metadata", "object_above_max_properties")
		return &e
	}
	for k, x := range m {
		if len(k) > 64 {
			e := invalidRequest(fmt.Sprintf("Invalid 'metadata': key '%s' is longer than 64 characters.", k), "metadata", "invalid_value")
			return &e
		}
		var s string
		if json.Unmarshal(x, &s) != nil {
			return invalidType("metadata."+k, "a string", x)
		}
		if len(s) > 512 {
			e := invalidRequest(fmt.Sprintf("Invalid 'metadata.%s': string too long. Expected a string with maximum length 512, but got a string with length %d instead.", k, len(s)), "metadata."+k, "string_above_max_length")
			return &e
		}
	}
	return nil
}

func checkItems(v json.RawMessage) *apiError {
	if isNull(v) || jsonKind(v) != "an array" {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(v, &items) != nil {
		return invalidType("input", "an array of objects", v)
	}
	types := make([]string, 0, len(itemRequired))
	for t := range itemRequired {
		types = append(types, t)
	}
	slices.Sort(types)
	for i, raw := range items {
		p := fmt.Sprintf("input[%d]", i)
		var it map[string]json.RawMessage
		if jsonKind(raw) != "an object" || json.Unmarshal(raw, &it) != nil {
			return invalidType(p, "an object", raw)
		}
		typ := "message" // EasyInputMessage: type may be left out
		if t := it["type"]; !isNull(t) {
			if e := wantString(p+".type", t, types); e != nil {
				return e
			}
			_ = json.Unmarshal(t, &typ)
		} else if isNull(it["role"]) {
			return missingParameter(p + ".type")
		}
		for _, k := range itemRequired[typ] {
			if isNull(it[k]) {
				return missingParameter(p + "." + k)
			}
		}
		if typ == "message" {
			if e := wantString(p+".role", it["role"], roles); e != nil {
				return e
			}
			if k := jsonKind(it["content"]); k != "a string" && k != "an array" {
				return invalidType(p+".content", "one of a string or an array", it["content"])
			}
		}
	}
	return nil
}

func checkTools(v json.RawMessage) *apiError {
	if isNull(v) {
		return nil
	}
	var tools []json.RawMessage
	if json.Unmarshal(v, &tools) != nil {
		return invalidType("tools", "an array", v)
	}
	for i, raw := range tools {
		p := fmt.Sprintf("tools[%d]", i)
		var t map[string]json.RawMessage
		if jsonKind(raw) != "an object" || json.Unmarshal(raw, &t) != nil {
			return invalidType(p, "an object", raw)
		}
		if isNull(t["type"]) {
			return missingParameter(p + ".type")
		}
		if e := wantString(p+".type", t["type"], toolTypes); e != nil {
			return e
		}
		var typ string
		_ = json.Unmarshal(t["type"], &typ)
		switch typ {
		case "function", "custom":
			if isNull(t["name"]) {
				return missingParameter(p + ".name")
			}
			var name string
			if json.Unmarshal(t["name"], &name) != nil {
				return invalidType(p+".name", "a string", t["name"])
			}
			if !toolNamePattern.MatchString(name) {
				e := invalidRequest(fmt.Sprintf("Invalid '%s.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", p), p+".name", "invalid_value")
				return &e
			}
		case "mcp":
			if isNull(t["server_label"]) {
				return missingParameter(p + ".server_label")
			}
		}
	}
	return nil
}
