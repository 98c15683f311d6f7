package schemacheck_test

import (
	"fmt"

	"github.com/agentloop/agentloop/internal/schemacheck"
)

func ExampleCompile() {
	s, err := schemacheck.Compile([]byte(`{"type":"object","properties":{
		"city":{"type":"string"},
		"days":{"type":"integer","minimum":1}
	},"required":["city"],"additionalProperties":false}`))
	if err != nil {
		panic(err)
	}
	for _, args := range []string{`{"city":"Paris","days":3}`, `{"days":0,"x":true}`} {
		v, err := schemacheck.Decode([]byte(args))
		if err != nil {
			panic(err)
		}
		fmt.Println(s.Validate(v))
	}
	// Output:
	// <nil>
	// missing property 'city'; additional properties 'x' not allowed; days: minimum: got 0, want 1
}
