// Package function turns Go functions into tools the model can call.
//
// [New] derives a function tool from a typed Go function: the JSON Schema of
// its parameters comes from the input type, arguments are validated against
// it before the function runs, and the result goes back as the call's output.
//
//	type Args struct {
//		City  string  `json:"city" jsonschema:"the city, e.g. Paris"`
//		Units *string `json:"units,omitempty" jsonschema:"enum=c,enum=f"`
//	}
//	forecast := function.New("get_forecast", "Three-day forecast for a city.",
//		func(ctx context.Context, a Args) (string, error) { ... }, nil)
//
// Pass the tool to the agent with its other tools; the loop calls
// [Tool.Review] and [Tool.Call] for every function_call named get_forecast.
//
// # Schemas
//
// Field names come from json tags. Keywords come from jsonschema tags in the
// form of github.com/invopop/jsonschema (`jsonschema:"description=...,enum=a,enum=b,default=a,minimum=1"`,
// or `jsonschema_description:"..."`); a jsonschema tag that is plain prose,
// such as `jsonschema:"file to read, relative to the workspace"`, is the
// field's description. Nested structs are inlined (recursive types use $defs),
// time.Time is a date-time string, []byte a base64 string, json.RawMessage
// and interfaces accept any value.
//
// Definitions are strict by default: every property is listed in required,
// every object has additionalProperties false, and optional fields (pointers,
// and fields tagged omitempty or omitzero) accept null, which decodes as the
// zero value. Defaults and examples, which strict mode does not accept, move
// into the description; a default is applied when the model sends null for
// its property or leaves it out ([NewRaw] applies none). When the input
// type cannot be strict — it has a map, an interface or a json.RawMessage,
// or a keyword or format strict mode does not support (minLength,
// maxLength, uniqueItems, oneOf, readOnly, a format such as uri) — the tool
// silently falls back to a non-strict definition (the reason is logged at
// debug level); [Tool.Strict] tells which one was built and
// [Options.NonStrict] asks for non-strict outright. Arguments are validated
// locally in both cases. The same rules decide whether a [NewRaw] schema,
// or an MCP server's input schema in package mcp, is sent as strict.
//
// [NewRaw] takes the schema as JSON instead and hands the function the
// validated arguments as JSON; [NewCustom] builds a custom tool whose input
// is free text, optionally constrained by a [Grammar].
//
// # Failures
//
// Invalid JSON, arguments that do not match the schema, an error returned by
// the function, a timeout ([Options.Timeout], 60 seconds by default) and a
// panic are tool failures: [Tool.Call] returns them as errors, which the
// loop sends back to the model with [tools.FailedOutput], and the run goes
// on. The model reads, for example:
//
//	error: invalid arguments: units: got "k", want one of "c", "f", null
//	error: invalid arguments: missing property 'city'
//	error: timed out after 1m0s
//	error: the tool crashed (internal error); its details were logged
//
// A panic's value and stack go to [Options.Logger], never to the model. Only
// a cancelled run context is returned as ctx.Err(), so that the run stops.
//
// # Results
//
// A string result (or any type whose kind is string) is sent as text, a
// []responses.ContentPart as an array of content parts (for example an
// image), and anything else as its JSON encoding. A fmt.Stringer is encoded
// as JSON like any other value.
package function
