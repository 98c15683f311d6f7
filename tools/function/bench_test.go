package function

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// BenchmarkCall measures the cost of Call (decode the call item, validate
// the arguments, decode them into In, invoke the function on its goroutine
// under a timeout, encode the result, build the output item) as a ratio
// (x-floor) to a floor measured in the same run: plain json.Unmarshal of the
// same arguments into In, the same function, and json.Marshal of its result.
func BenchmarkCall(b *testing.B) {
	type Item struct {
		SKU   string `json:"sku"`
		Count int    `json:"count" jsonschema:"minimum=1"`
	}
	type Args struct {
		Customer string  `json:"customer"`
		Items    []Item  `json:"items"`
		Note     *string `json:"note,omitempty"`
		Express  bool    `json:"express"`
	}
	type Result struct {
		OrderID string `json:"order_id"`
		Items   int    `json:"items"`
	}
	fn := func(_ context.Context, a Args) (Result, error) {
		return Result{OrderID: "ord_" + a.Customer, Items: len(a.Items)}, nil
	}
	const args = `{"customer":"c42","items":[{"sku":"A-1","count":2},{"sku":"B-7","count":1},{"sku":"C-3","count":5}],"note":null,"express":true}`
	tool := New("order", "Place an order.", fn, nil)
	call := functionCall("order", args)
	ctx := context.Background()

	floorOp := func() {
		var a Args
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			b.Fatal(err)
		}
		r, _ := fn(ctx, a)
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
	callOp := func() {
		if _, err := tool.Call(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
	// The ratio: floor and Call timed in alternating batches, the fastest
	// batch of each counted, so that noise from the shared machine (which
	// only ever slows a batch down) cancels out.
	perOp := func(op func(), n int) float64 {
		start := time.Now()
		for range n {
			op()
		}
		return float64(time.Since(start).Nanoseconds()) / float64(n)
	}
	floor, cost := math.Inf(1), math.Inf(1)
	for range 15 {
		floor = min(floor, perOp(floorOp, 300))
		cost = min(cost, perOp(callOp, 300))
	}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		callOp()
	}
	b.ReportMetric(floor, "floor-ns/op")
	b.ReportMetric(cost/floor, "x-floor")
}
