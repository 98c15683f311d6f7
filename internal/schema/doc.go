// Package schema is the one place of the module that handles JSON Schema:
// function tools (tools/function), MCP tools (mcp) and structured output
// (agent.RunAs) all go through it.
//
// It does three jobs:
//
//   - [Derive] derives a schema from a Go type, in the strict subset when
//     the type allows it and otherwise non-strict, with the reason.
//   - [CheckStrict] decides whether a schema is in the subset the Responses
//     API's strict mode accepts. One rule set serves derived schemas and
//     schemas that arrive as JSON (an MCP server's input schema, a raw
//     function schema); its doc comment lists the rules.
//   - [Compile] and [Validator.Check] validate arguments or answers locally,
//     with errors a model can act on ([ValidationError]).
//
// A minimal use:
//
//	d, err := schema.Derive(reflect.TypeFor[Args](), true)
//	v, err := schema.Compile("function:read_file", d.Schema)
//	doc, err := schema.Decode(args)
//	err = v.Check(doc) // *ValidationError: "path: got 3, want string"
//
// Nothing here runs at package initialisation: no regular expression,
// table or message printer is built before it is first needed, so that a
// program that links the package but does not use it (the sandbox helper
// re-executing the agent binary) does not pay for it. The validator library
// (santhosh-tekuri/jsonschema) loads its meta-schemas in its own
// initialisers, which this package cannot defer.
package schema
