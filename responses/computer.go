package responses

import "encoding/json"

// ComputerTool is the definition of the computer-use tool. The current form
// is {"type":"computer"} alone (its calls carry a batch of actions); the
// preview form, Type "computer_use_preview", declares the display size and
// environment (its calls carry a single action).
type ComputerTool struct {
	Type          string `json:"type"` // "computer" or "computer_use_preview"
	DisplayWidth  int    `json:"display_width,omitempty"`
	DisplayHeight int    `json:"display_height,omitempty"`
	Environment   string `json:"environment,omitempty"` // windows, mac, linux, ubuntu, browser
}

// ComputerCall is a computer_call item: one action (preview tool) or a
// batch of actions (computer tool) to perform in order, then a screenshot.
type ComputerCall struct {
	Type                string           `json:"type"`
	ID                  string           `json:"id,omitempty"`
	CallID              string           `json:"call_id"`
	Status              string           `json:"status,omitempty"`
	Action              *ComputerAction  `json:"action,omitempty"`
	Actions             []ComputerAction `json:"actions,omitempty"`
	PendingSafetyChecks []SafetyCheck    `json:"pending_safety_checks,omitempty"`
}

// ComputerAction is one action of a computer_call. Type is click,
// double_click, drag, keypress, move, screenshot, scroll, type or wait; the
// other fields are those of that action.
type ComputerAction struct {
	Type    string   `json:"type"`
	Button  string   `json:"button,omitempty"` // click: left, right, wheel, back, forward
	X       int      `json:"x,omitempty"`
	Y       int      `json:"y,omitempty"`
	ScrollX int      `json:"scroll_x,omitempty"`
	ScrollY int      `json:"scroll_y,omitempty"`
	Keys    []string `json:"keys,omitempty"` // keypress; modifier keys held for pointer actions
	Text    string   `json:"text,omitempty"` // type
	Path    []Point  `json:"path,omitempty"` // drag
}

// Point is a screen coordinate in pixels.
type Point struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// SafetyCheck is a pending safety check of a computer_call, acknowledged in
// the output once a person has approved it.
type SafetyCheck struct {
	ID      string `json:"id"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// ComputerCallOutput is a computer_call_output item: the screenshot taken
// after the call's actions, and the safety checks the user acknowledged.
type ComputerCallOutput struct {
	Type                     string             `json:"type"`
	CallID                   string             `json:"call_id"`
	Output                   ComputerScreenshot `json:"output"`
	AcknowledgedSafetyChecks []SafetyCheck      `json:"acknowledged_safety_checks,omitempty"`
	Status                   string             `json:"status,omitempty"`
}

// ComputerScreenshot is the output of a computer call: Type
// "computer_screenshot" with an image URL (usually a data URL) or a file id.
type ComputerScreenshot struct {
	Type     string `json:"type"`
	ImageURL string `json:"image_url,omitempty"`
	FileID   string `json:"file_id,omitempty"`
}

// WithoutEmptySafetyChecks returns it without an empty
// "pending_safety_checks" array when it is a computer_call: the API rejects
// one in a replayed computer_call. Any other item is returned unchanged.
func WithoutEmptySafetyChecks(it Item) Item {
	if it.Type != TypeComputerCall {
		return it
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(it.Raw(), &fields) != nil {
		return it
	}
	v, ok := fields["pending_safety_checks"]
	if !ok {
		return it
	}
	var checks []json.RawMessage
	if json.Unmarshal(v, &checks) != nil || len(checks) > 0 {
		return it
	}
	delete(fields, "pending_safety_checks")
	out, err := NewItem(fields)
	if err != nil {
		return it
	}
	return out
}
