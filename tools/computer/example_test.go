package computer_test

import (
	"context"
	"fmt"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/computer"
)

func ExampleNew() {
	screen := &fake{} // your Computer: a browser, a VM, a remote desktop
	t := computer.New(screen, &computer.Options{Preview: true, Environment: computer.Browser, Width: 1280, Height: 800})
	fmt.Println(string(t.Definition().Raw()))

	// The agent loop routes each computer_call to the tool; here by hand.
	call := tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"call_1","action":{"type":"click","button":"left","x":410,"y":92}}`))
	out, err := t.Call(context.Background(), call)
	if err != nil {
		panic(err)
	}
	var o responses.ComputerCallOutput
	_ = out.Decode(&o)
	fmt.Println(screen.log, o.Type, o.CallID, o.Output.Type, o.Output.ImageURL[:21])
	// Output:
	// {"type":"computer_use_preview","display_width":1280,"display_height":800,"environment":"browser"}
	// [click left 410,92 []] computer_call_output call_1 computer_screenshot data:image/png;base64
}
