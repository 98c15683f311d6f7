package schema_test

import (
	"reflect"
	"testing"

	"github.com/agentloop/agentloop/internal/schema"
)

// BenchmarkDerive is the schema work of building one function tool (or the
// first RunAs of a type): derive, check the strict rules, compile.
func BenchmarkDerive(b *testing.B) {
	typ := reflect.TypeFor[weather]()
	for b.Loop() {
		d, err := schema.Derive(typ, true)
		if err != nil || !d.Strict {
			b.Fatal(err, d.Reason)
		}
		if _, err := schema.Compile("function:weather", d.Schema); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckStrict is the strict check alone, as mcp runs it for each
// tool a server lists.
func BenchmarkCheckStrict(b *testing.B) {
	d, err := schema.Derive(reflect.TypeFor[weather](), true)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(d.Schema)))
	for b.Loop() {
		if err := schema.CheckStrict(d.Schema); err != nil {
			b.Fatal(err)
		}
	}
}
