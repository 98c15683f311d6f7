package function

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkCall measures the overhead of Call (decode the call item,
// validate the arguments, decode them into In, invoke, encode the result,
// build the output item) as a ratio to a floor measured in the same run:
// plain json.Unmarshal of the same arguments into In and json.Marshal of the
// same result.
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
	// The floor: enough iterations for a stable figure, in the same run.
	const floorN = 20000
	for range 1000 {
		floorOp()
	}
	start := time.Now()
	for range floorN {
		floorOp()
	}
	floor := float64(time.Since(start).Nanoseconds()) / floorN

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tool.Call(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(floor, "floor-ns/op")
	b.ReportMetric(perOp/floor, "x-floor")
}
