// Computer shows computer use: the model operates a computer through
// screenshots and actions (click, type, keypress, ...), which the
// computer tool performs on a Computer the application implements, here a
// fake in-memory browser that draws its screen as a PNG. A risky action comes
// with a safety check, which the approver must accept before the action runs
// and which is then acknowledged to the model. It runs offline against a
// scripted model.
//
//	go run ./examples/computer
package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"sync"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/computer"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "computer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	srv := rt.NewServer(
		// The model clicks the search box, types and presses Enter: one
		// batch of actions, then it looks at the screenshot.
		rt.Output(rt.Raw(`{"type":"computer_call","call_id":"call_1","status":"completed","pending_safety_checks":[],"actions":[`+
			`{"type":"click","button":"left","x":60,"y":20},{"type":"type","text":"quarterly report"},{"type":"keypress","keys":["ENTER"]}]}`)),
		// Clicking "Send" on a page that asked for it raises a safety check.
		rt.Output(rt.Raw(`{"type":"computer_call","call_id":"call_2","status":"completed","action":{"type":"click","button":"left","x":280,"y":180},`+
			`"pending_safety_checks":[{"id":"sc_1","code":"malicious_instructions","message":"The page asks the agent to send the report to an outside address."}]}`)),
		rt.Output(rt.Text("I searched for the quarterly report and sent it.")),
	)
	defer srv.Close()

	browser := newBrowser(320, 200)
	approver := agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
		fmt.Printf("approval asked (%s): %s → approved\n", req.Kind, req.Summary)
		return agent.Approve, nil
	})
	a := agent.New(responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL}),
		"computer-use-preview", &agent.Options{
			Tools: []tools.Tool{computer.New(browser, &computer.Options{
				Preview: true, Environment: computer.Browser, Width: 320, Height: 200,
			})},
			Approver: approver,
			Request:  responses.Request{Truncation: "auto"}, // the preview tool wants it
		})

	res, err := a.Run(ctx, "Find the quarterly report and send it.")
	if err != nil {
		return err
	}
	if err := srv.Err(); err != nil {
		return err
	}
	fmt.Println("actions performed:")
	for _, l := range browser.history() {
		fmt.Println("  " + l)
	}
	for _, it := range res.Items {
		if it.Type != responses.TypeComputerCallOutput {
			continue
		}
		var out responses.ComputerCallOutput
		if err := it.Decode(&out); err != nil {
			return err
		}
		var acked []string
		for _, sc := range out.AcknowledgedSafetyChecks {
			acked = append(acked, sc.ID)
		}
		fmt.Printf("output %s: %s screenshot of %d bytes, acknowledged %v\n",
			out.CallID, mediaType(out.Output.ImageURL), len(out.Output.ImageURL), acked)
	}
	fmt.Println("answer:", res.Text)
	return nil
}

func mediaType(dataURL string) string {
	mt, _, _ := strings.Cut(strings.TrimPrefix(dataURL, "data:"), ";")
	return mt
}

// browser is a fake in-memory browser: a search box and a Send button. Its
// screenshot is a real PNG drawn from its state.
type browser struct {
	mu      sync.Mutex
	w, h    int
	cursor  image.Point
	focused bool
	query   string
	results bool
	sent    bool
	log     []string
}

func newBrowser(w, h int) *browser { return &browser{w: w, h: h} }

func (b *browser) history() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.log...)
}

func (b *browser) record(format string, args ...any) {
	b.log = append(b.log, fmt.Sprintf(format, args...))
}

var searchBox = image.Rect(10, 10, 310, 30)
var sendButton = image.Rect(250, 170, 310, 190)

func (b *browser) Screenshot(ctx context.Context) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	img := image.NewRGBA(image.Rect(0, 0, b.w, b.h))
	fill := func(r image.Rectangle, c color.Color) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.Set(x, y, c)
			}
		}
	}
	fill(img.Bounds(), color.RGBA{230, 230, 230, 255})
	fill(searchBox, color.White)
	fill(image.Rect(14, 16, 14+4*len(b.query), 24), color.Black) // the typed text
	if b.results {
		for i := range 3 {
			fill(image.Rect(10, 40+30*i, 250, 60+30*i), color.RGBA{200, 210, 255, 255})
		}
		fill(sendButton, color.RGBA{0, 120, 0, 255})
	}
	if b.sent {
		fill(image.Rect(10, 140, 120, 160), color.RGBA{0, 200, 0, 255})
	}
	fill(image.Rect(b.cursor.X-2, b.cursor.Y-2, b.cursor.X+2, b.cursor.Y+2), color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (b *browser) Click(ctx context.Context, x, y int, button string, keys []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cursor = image.Pt(x, y)
	p := image.Pt(x, y)
	b.focused = p.In(searchBox)
	if b.results && p.In(sendButton) {
		b.sent = true
	}
	b.record("click %s at (%d, %d)", button, x, y)
	return nil
}

func (b *browser) DoubleClick(ctx context.Context, x, y int, keys []string) error {
	return b.Click(ctx, x, y, "left", keys)
}

func (b *browser) Scroll(ctx context.Context, x, y, sx, sy int, keys []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.record("scroll by (%d, %d)", sx, sy)
	return nil
}

func (b *browser) Type(ctx context.Context, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.focused {
		return fmt.Errorf("nothing has the focus")
	}
	b.query += text
	b.record("type %q", text)
	return nil
}

func (b *browser) Keypress(ctx context.Context, keys []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(keys) == 1 && keys[0] == "ENTER" && b.focused && b.query != "" {
		b.results = true
	}
	b.record("press %s", strings.Join(keys, "+"))
	return nil
}

func (b *browser) Wait(ctx context.Context) error { return nil }

func (b *browser) Move(ctx context.Context, x, y int, keys []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cursor = image.Pt(x, y)
	return nil
}

func (b *browser) Drag(ctx context.Context, path []responses.Point, keys []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	last := path[len(path)-1]
	b.cursor = image.Pt(last.X, last.Y)
	b.record("drag to (%d, %d)", last.X, last.Y)
	return nil
}
