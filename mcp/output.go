package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ErrOutputSchema is wrapped by the error [Tool.Call] returns when a
// result's structuredContent does not match the tool's output schema (the
// MCP specification asks clients to check it). The call is a failure: the
// model is told why and does not see the result.
var ErrOutputSchema = errors.New("structuredContent does not match the tool's output schema")

// outputSchemas compiles and caches the output schemas of a server's tools.
// It is safe for concurrent use.
type outputSchemas struct {
	mu    sync.Mutex
	byDoc map[string]*compiledSchema // keyed by the schema's JSON text
}

type compiledSchema struct {
	s   *jsonschema.Schema
	err error
}

// check validates structured against schema. A schema that does not compile
// (or that refers to a document it cannot load) checks nothing: the
// server's result is not blamed for its schema; the returned bad error says
// so once per schema, for the log.
func (o *outputSchemas) check(schema, structured json.RawMessage) (err, bad error) {
	if len(bytes.TrimSpace(schema)) == 0 || string(schema) == "null" || structured == nil {
		return nil, nil
	}
	o.mu.Lock()
	if o.byDoc == nil {
		o.byDoc = map[string]*compiledSchema{}
	}
	c, ok := o.byDoc[string(schema)]
	if !ok {
		c = compileOutputSchema(schema)
		o.byDoc[string(schema)] = c
		bad = c.err
	}
	o.mu.Unlock()
	if c.s == nil {
		return nil, bad
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(structured))
	if err != nil {
		return fmt.Errorf("%w: not valid JSON: %v", ErrOutputSchema, err), bad
	}
	if err := c.s.Validate(doc); err != nil {
		return fmt.Errorf("%w: %v", ErrOutputSchema, err), bad
	}
	return nil, bad
}

func compileOutputSchema(schema json.RawMessage) *compiledSchema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return &compiledSchema{err: fmt.Errorf("parse output schema: %w", err)}
	}
	c := jsonschema.NewCompiler()
	const url = "urn:agentloop:mcp:output"
	if err := c.AddResource(url, doc); err != nil {
		return &compiledSchema{err: fmt.Errorf("load output schema: %w", err)}
	}
	s, err := c.Compile(url)
	if err != nil {
		return &compiledSchema{err: fmt.Errorf("compile output schema: %w", err)}
	}
	return &compiledSchema{s: s}
}
