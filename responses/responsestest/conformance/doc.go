// Package conformance checks responsestest against official clients that
// nobody here wrote: the OpenAI Go SDK (github.com/openai/openai-go/v3, in
// this nested module so the core module does not depend on it) drives the
// server through every endpoint and asserts that each event and item maps to
// the SDK's types with no field the SDK does not know; cmd/serve starts a
// server for the Node clients of .ci/conformance.
package conformance
