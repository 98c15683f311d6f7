package agent

import (
	"encoding/json"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// The pure helpers of the Machine's rules.

// responseError returns the typed error of a response that did not complete.
func responseError(resp *responses.Response) error {
	switch resp.Status {
	case responses.StatusFailed, responses.StatusCancelled:
		return &ResponseError{ResponseID: resp.ID, Status: resp.Status, Err: resp.Error}
	case responses.StatusIncomplete:
		e := &ResponseError{ResponseID: resp.ID, Status: resp.Status}
		if resp.IncompleteDetails != nil {
			e.Reason = resp.IncompleteDetails.Reason
		}
		return e
	}
	return nil
}

// isAnswerable reports whether the client must answer the item: a call it
// executes (not one of a hosted environment) or an MCP approval request.
func isAnswerable(it responses.Item) bool {
	if it.Type == responses.TypeMCPApprovalRequest {
		return true
	}
	if !it.IsCall() {
		return false
	}
	if it.Type == responses.TypeShellCall {
		var env struct {
			Type string `json:"type"`
		}
		if e := it.Field("environment"); e != nil && json.Unmarshal(e, &env) == nil && env.Type != "" && env.Type != "local" {
			return false // runs in a hosted container
		}
	}
	return true
}

// answerable returns the items of output the client must answer, in order,
// leaving out calls the server answered itself in the same output.
func answerable(output []responses.Item) []responses.Item {
	var answered map[string]bool
	var calls []responses.Item
	for _, it := range output {
		if it.IsOutput() {
			if answered == nil {
				answered = map[string]bool{}
			}
			answered[it.OutputKey()] = true
		}
	}
	for _, it := range output {
		if isAnswerable(it) && !answered[it.CallKey()] {
			calls = append(calls, it)
		}
	}
	return calls
}

// checkAnswered verifies that outputs hold exactly one output per call.
func checkAnswered(calls, outputs []responses.Item) error {
	count := make(map[string]int, len(outputs))
	for _, o := range outputs {
		count[o.OutputKey()]++
	}
	var e InvariantError
	for _, c := range calls {
		switch n := count[c.CallKey()]; {
		case n == 0:
			e.Missing = append(e.Missing, c.CallKey())
		case n > 1:
			e.Duplicate = append(e.Duplicate, c.CallKey())
		}
	}
	if e.Missing != nil || e.Duplicate != nil {
		return &e
	}
	return nil
}

func toolName(call tools.Call) string {
	if call.Name != "" {
		return call.Name
	}
	return strings.TrimSuffix(call.Type, "_call")
}

// outputText returns the text an output item carries.
func outputText(out responses.Item) string {
	var o struct {
		Output json.RawMessage `json:"output"`
	}
	if out.Decode(&o) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(o.Output, &s) == nil {
		return s
	}
	var parts []responses.ContentPart
	if json.Unmarshal(o.Output, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	var sh []responses.ShellCommandOutput
	if json.Unmarshal(o.Output, &sh) == nil {
		var b strings.Builder
		for _, c := range sh {
			b.WriteString(c.Stdout)
			b.WriteString(c.Stderr)
		}
		return b.String()
	}
	return string(o.Output)
}
