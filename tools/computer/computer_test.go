package computer_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/computer"
)

// fake is an in-memory computer: it logs actions and paints each click
// into a tiny screen, so successive screenshots differ.
type fake struct {
	mu      sync.Mutex
	log     []string
	clicks  int
	failOn  string // action that fails
	shotErr error
}

func (f *fake) do(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failOn != "" && strings.HasPrefix(s, f.failOn) {
		return errors.New("device busy")
	}
	f.log = append(f.log, s)
	return nil
}

func (f *fake) Screenshot(ctx context.Context) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shotErr != nil {
		return nil, f.shotErr
	}
	img := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := 0; i < f.clicks && i < 12; i++ {
		img.Pix[i] = 255
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (f *fake) Click(ctx context.Context, x, y int, button string, keys []string) error {
	if err := f.do(fmt.Sprintf("click %s %d,%d %v", button, x, y, keys)); err != nil {
		return err
	}
	f.mu.Lock()
	f.clicks++
	f.mu.Unlock()
	return nil
}
func (f *fake) DoubleClick(ctx context.Context, x, y int, keys []string) error {
	return f.do(fmt.Sprintf("double_click %d,%d", x, y))
}
func (f *fake) Scroll(ctx context.Context, x, y, sx, sy int, keys []string) error {
	return f.do(fmt.Sprintf("scroll %d,%d by %d,%d", x, y, sx, sy))
}
func (f *fake) Type(ctx context.Context, text string) error { return f.do("type " + text) }
func (f *fake) Keypress(ctx context.Context, keys []string) error {
	return f.do("keypress " + strings.Join(keys, "+"))
}
func (f *fake) Wait(ctx context.Context) error { return f.do("wait") }
func (f *fake) Move(ctx context.Context, x, y int, keys []string) error {
	return f.do(fmt.Sprintf("move %d,%d", x, y))
}
func (f *fake) Drag(ctx context.Context, path []responses.Point, keys []string) error {
	return f.do(fmt.Sprintf("drag %v", path))
}

func shot(t *testing.T, f *fake) string {
	t.Helper()
	img, err := f.Screenshot(context.Background())
	require.NoError(t, err)
	return "data:image/png;base64," + b64(img)
}

func TestDefinition(t *testing.T) {
	f := &fake{}
	assert.JSONEq(t, `{"type":"computer"}`, string(computer.New(f, nil).Definition().Raw()))
	assert.JSONEq(t, `{"type":"computer_use_preview","display_width":1280,"display_height":800,"environment":"mac"}`,
		string(computer.New(f, &computer.Options{Preview: true, Width: 1280, Height: 800, Environment: computer.Mac}).Definition().Raw()))
	assert.JSONEq(t, `{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"}`,
		string(computer.New(f, &computer.Options{Preview: true}).Definition().Raw()))
	assert.Panics(t, func() { computer.New(nil, nil) })
	assert.Panics(t, func() { computer.New(f, &computer.Options{Environment: "amiga"}) })
	assert.Panics(t, func() { computer.New(f, &computer.Options{Width: -1}) })
	assert.False(t, computer.New(f, nil).ParallelSafe())
}

func TestCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		item     string
		failOn   string
		wantLog  []string
		wantAck  string
		progress string
	}{
		{
			name: "batched actions in order",
			item: `{"type":"computer_call","call_id":"c1","actions":[{"type":"click","button":"left","x":10,"y":20},{"type":"type","text":"hello"},{"type":"keypress","keys":["CTRL","L"]},{"type":"scroll","x":5,"y":6,"scroll_x":0,"scroll_y":300},{"type":"double_click","x":1,"y":2},{"type":"move","x":3,"y":4},{"type":"drag","path":[{"x":1,"y":1},{"x":9,"y":9}]},{"type":"wait"},{"type":"screenshot"}],"pending_safety_checks":[]}`,
			wantLog: []string{"click left 10,20 []", "type hello", "keypress CTRL+L", "scroll 5,6 by 0,300",
				"double_click 1,2", "move 3,4", "drag [{1 1} {9 9}]", "wait"},
		},
		{
			name:    "preview single action with default button and modifier keys",
			item:    `{"type":"computer_call","call_id":"c1","action":{"type":"click","x":7,"y":8,"keys":["SHIFT"]}}`,
			wantLog: []string{"click left 7,8 [SHIFT]"},
		},
		{
			name:    "safety checks acknowledged",
			item:    `{"type":"computer_call","call_id":"c1","action":{"type":"type","text":"pay"},"pending_safety_checks":[{"id":"sc_1","code":"malicious_instructions","message":"Careful."}]}`,
			wantLog: []string{"type pay"},
			wantAck: `[{"id":"sc_1","code":"malicious_instructions","message":"Careful."}]`,
		},
		{
			name:     "failed action skips the rest",
			item:     `{"type":"computer_call","call_id":"c1","actions":[{"type":"type","text":"a"},{"type":"keypress","keys":["ENTER"]},{"type":"type","text":"b"}]}`,
			failOn:   "keypress",
			wantLog:  []string{"type a"},
			progress: "action 2 (keypress) failed: device busy",
		},
		{
			name:     "outside the display",
			item:     `{"type":"computer_call","call_id":"c1","action":{"type":"click","x":5000,"y":1}}`,
			progress: "action 1 (click) failed: (5000, 1) is outside the 1024x768 display",
		},
		{
			name:     "unknown action",
			item:     `{"type":"computer_call","call_id":"c1","actions":[{"type":"teleport"},{"type":"wait"}]}`,
			progress: `action 1 (teleport) failed: unknown action type "teleport"`,
		},
		{
			name:     "bad button",
			item:     `{"type":"computer_call","call_id":"c1","action":{"type":"click","button":"middle","x":1,"y":1}}`,
			progress: `action 1 (click) failed: unknown button "middle"`,
		},
		{
			name:     "short drag",
			item:     `{"type":"computer_call","call_id":"c1","action":{"type":"drag","path":[{"x":1,"y":1}]}}`,
			progress: "action 1 (drag) failed: drag path has 1 points, need at least 2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{failOn: tc.failOn}
			tool := computer.New(f, nil)
			call := tools.NewCall(rt.Raw(tc.item))
			var progress []string
			call.Progress = func(p tools.Progress) { progress = append(progress, p.Message) }
			out, err := tool.Call(t.Context(), call)
			require.NoError(t, err)
			assert.Equal(t, tc.wantLog, f.log)
			want := `{"type":"computer_call_output","call_id":"c1","output":{"type":"computer_screenshot","image_url":"` + shot(t, f) + `"}`
			if tc.wantAck != "" {
				want += `,"acknowledged_safety_checks":` + tc.wantAck
			}
			assert.JSONEq(t, want+"}", string(out.Raw()))
			if tc.progress != "" {
				assert.Equal(t, []string{tc.progress}, progress)
			} else {
				assert.Empty(t, progress)
			}
		})
	}
}

func TestCallErrors(t *testing.T) {
	tool := computer.New(&fake{shotErr: errors.New("display gone")}, nil)
	_, err := tool.Call(t.Context(), tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","actions":[]}`)))
	assert.ErrorContains(t, err, "screenshot: display gone")

	_, err = computer.New(&fake{}, nil).Call(t.Context(), tools.NewCall(rt.Raw(`{"type":"function_call","call_id":"c1","name":"x","arguments":"{}"}`)))
	assert.ErrorContains(t, err, "cannot handle a function_call item")

	_, err = computer.New(&fake{}, nil).Call(t.Context(), tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","actions":"click"}`)))
	assert.ErrorContains(t, err, "malformed computer_call")
}

func TestReview(t *testing.T) {
	tool := computer.New(&fake{}, nil)
	rv, err := tool.Review(t.Context(), tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","actions":[{"type":"wait"}],"pending_safety_checks":[]}`)))
	require.NoError(t, err)
	assert.Equal(t, tools.Allow, rv.Decision)

	rv, err = tool.Review(t.Context(), tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","actions":[{"type":"click","x":1,"y":2},{"type":"type","text":"secret"}],"pending_safety_checks":[{"id":"sc_1","code":"sensitive_domain","message":"This is a bank."}]}`)))
	require.NoError(t, err)
	assert.Equal(t, tools.Ask, rv.Decision)
	assert.Equal(t, "computer", rv.Request.Kind)
	assert.Equal(t, "c1", rv.Request.CallID)
	assert.Empty(t, rv.Request.Key)
	assert.Equal(t, `click at (1, 2), type "secret"; safety check sensitive_domain: This is a bank.`, rv.Request.Summary)
	assert.JSONEq(t, `[{"type":"click","x":1,"y":2},{"type":"type","text":"secret"}]`, string(rv.Request.Arguments))

	always := computer.New(&fake{}, &computer.Options{AlwaysAsk: true})
	rv, err = always.Review(t.Context(), tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","action":{"type":"keypress","keys":["ENTER"]}}`)))
	require.NoError(t, err)
	assert.Equal(t, tools.Ask, rv.Decision)
	assert.Equal(t, "press ENTER", rv.Request.Summary)
}

func TestDeclined(t *testing.T) {
	f := &fake{}
	tool := computer.New(f, nil)
	out, err := tool.Declined(t.Context(), tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","action":{"type":"click","x":1,"y":2},"pending_safety_checks":[{"id":"sc_1","code":"x"}]}`)), "no")
	require.NoError(t, err)
	assert.Empty(t, f.log, "a declined call performs no action")
	assert.JSONEq(t, `{"type":"computer_call_output","call_id":"c1","output":{"type":"computer_screenshot","image_url":"`+shot(t, f)+`"}}`, string(out.Raw()))
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f := &ctxFake{}
	_, err := computer.New(f, nil).Call(ctx, tools.NewCall(rt.Raw(`{"type":"computer_call","call_id":"c1","actions":[{"type":"wait"},{"type":"wait"}]}`)))
	assert.ErrorIs(t, err, context.Canceled)
}

// ctxFake honours cancellation in Wait.
type ctxFake struct{ fake }

func (f *ctxFake) Wait(ctx context.Context) error { return ctx.Err() }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
