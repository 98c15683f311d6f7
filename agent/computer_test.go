package agent_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/computer"
)

// screen is an in-memory computer whose screenshot is a real PNG that
// changes with every action, so each output proves which state it shows.
type screen struct {
	mu  sync.Mutex
	log []string
}

func (s *screen) act(format string, args ...any) error {
	s.mu.Lock()
	s.log = append(s.log, fmt.Sprintf(format, args...))
	s.mu.Unlock()
	return nil
}

func (s *screen) Screenshot(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	n := len(s.log)
	s.mu.Unlock()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range min(n, len(img.Pix)) {
		img.Pix[i] = 200
	}
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// shotAfter is the data URL of the screenshot after n actions.
func shotAfter(t *testing.T, n int) string {
	t.Helper()
	s := &screen{log: make([]string, n)}
	b, err := s.Screenshot(context.Background())
	require.NoError(t, err)
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}

func (s *screen) Click(ctx context.Context, x, y int, button string, keys []string) error {
	return s.act("click %s %d,%d", button, x, y)
}
func (s *screen) DoubleClick(ctx context.Context, x, y int, keys []string) error {
	return s.act("double_click %d,%d", x, y)
}
func (s *screen) Scroll(ctx context.Context, x, y, sx, sy int, keys []string) error {
	return s.act("scroll %d,%d %d,%d", x, y, sx, sy)
}
func (s *screen) Type(ctx context.Context, text string) error { return s.act("type %s", text) }
func (s *screen) Keypress(ctx context.Context, keys []string) error {
	return s.act("keypress %s", strings.Join(keys, "+"))
}
func (s *screen) Wait(ctx context.Context) error { return s.act("wait") }
func (s *screen) Move(ctx context.Context, x, y int, keys []string) error {
	return s.act("move %d,%d", x, y)
}
func (s *screen) Drag(ctx context.Context, path []responses.Point, keys []string) error {
	return s.act("drag %v", path)
}

func computerOutput(callID, imageURL, acks string) string {
	s := `{"type":"computer_call_output","call_id":"` + callID + `","output":{"type":"computer_screenshot","image_url":"` + imageURL + `"}`
	if acks != "" {
		s += `,"acknowledged_safety_checks":` + acks
	}
	return s + "}"
}

func TestComputerUse(t *testing.T) {
	const check = `{"id":"sc_1","code":"malicious_instructions","message":"The page asks to send money."}`
	for _, tc := range []struct {
		name      string
		stateless bool
		streaming bool
		preview   bool
		approve   bool
		wantLog   []string
		want2     string // input of request 2
		want3     string // input of request 3
	}{
		{
			name: "approved checks are acknowledged", approve: true,
			wantLog: []string{"click left 410,92", "type quarterly report", "keypress ENTER", "type 10 EUR"},
			want2:   computerOutput("call_c1", shotAfter(t, 3), ""),
			want3:   computerOutput("call_c2", shotAfter(t, 4), "["+check+"]"),
		},
		{
			name: "declined call does nothing and acknowledges nothing", approve: false, streaming: true,
			wantLog: []string{"click left 410,92", "type quarterly report", "keypress ENTER"},
			want2:   computerOutput("call_c1", shotAfter(t, 3), ""),
			want3:   computerOutput("call_c2", shotAfter(t, 3), ""),
		},
		{
			name: "preview tool, stateless", approve: true, stateless: true, preview: true,
			wantLog: []string{"click left 410,92", "type quarterly report", "keypress ENTER", "type 10 EUR"},
			want2:   computerOutput("call_c1", shotAfter(t, 3), ""),
			want3:   computerOutput("call_c2", shotAfter(t, 4), "["+check+"]"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := rt.New(t,
				rt.Output(rt.Raw(`{"type":"computer_call","call_id":"call_c1","status":"completed","pending_safety_checks":[],"actions":[{"type":"click","button":"left","x":410,"y":92},{"type":"type","text":"quarterly report"},{"type":"keypress","keys":["ENTER"]}]}`)),
				rt.Output(rt.Raw(`{"type":"computer_call","call_id":"call_c2","status":"completed","pending_safety_checks":[`+check+`],"action":{"type":"type","text":"10 EUR"}}`)),
				rt.Output(rt.Text("Done.")),
			)
			scr := &screen{}
			var asked []tools.ApprovalRequest
			approver := agent.ApproverFunc(func(ctx context.Context, req tools.ApprovalRequest) (agent.Approval, error) {
				asked = append(asked, req)
				if tc.approve {
					return agent.Approve, nil
				}
				return agent.Deny("not with my money"), nil
			})
			a := agent.New(client(srv), "computer-use-preview", &agent.Options{
				Tools:            []tools.Tool{computer.New(scr, &computer.Options{Preview: tc.preview})},
				Approver:         approver,
				Stateless:        tc.stateless,
				DisableStreaming: !tc.streaming,
			})
			res, err := a.Run(t.Context(), "File the quarterly report.")
			require.NoError(t, err)
			assert.Equal(t, "Done.", res.Text)
			assert.Equal(t, tc.wantLog, scr.log)

			require.Len(t, asked, 1, "only the call with a safety check asks")
			assert.Equal(t, "computer", asked[0].Kind)
			assert.Equal(t, "call_c2", asked[0].CallID)
			assert.Contains(t, asked[0].Summary, "malicious_instructions")

			reqs := served(srv)
			require.Len(t, reqs, 3)
			if tc.preview {
				assert.JSONEq(t, `{"type":"computer_use_preview","display_width":1024,"display_height":768,"environment":"browser"}`, string(reqs[0].Params.Tools[0].Raw()))
			} else {
				assert.JSONEq(t, `{"type":"computer"}`, string(reqs[0].Params.Tools[0].Raw()))
			}
			in2, in3 := input(t, reqs[1]), input(t, reqs[2])
			require.NotEmpty(t, in2)
			require.NotEmpty(t, in3)
			assert.JSONEq(t, tc.want2, in2[len(in2)-1])
			assert.JSONEq(t, tc.want3, in3[len(in3)-1])
			if tc.stateless {
				// The replayed calls travel with their outputs.
				require.Len(t, in3, 5)
				assert.Contains(t, in3[1], `"call_id":"call_c1"`)
				assert.NotContains(t, in3[1], "pending_safety_checks", "an empty list is not replayed")
				assert.Contains(t, in3[3], `"pending_safety_checks":[`+check+`]`)
				assert.Contains(t, in3[3], `"call_id":"call_c2"`)
			} else {
				assert.Len(t, in2, 1)
				assert.Len(t, in3, 1)
			}
		})
	}
}
