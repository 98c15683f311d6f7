package agent

import (
	"bytes"
	"slices"

	"github.com/agentloop/agentloop/responses"
)

// replayable returns output items as they must be replayed in stateless
// mode: unchanged, except that a computer_call loses an empty
// pending_safety_checks array, which the API rejects in input.
func replayable(output []responses.Item) []responses.Item {
	out, copied := output, false
	for i, it := range output {
		if it.Type != responses.TypeComputerCall {
			continue
		}
		fixed := responses.WithoutEmptySafetyChecks(it)
		if bytes.Equal(fixed.Raw(), it.Raw()) {
			continue
		}
		if !copied {
			out, copied = slices.Clone(output), true
		}
		out[i] = fixed
	}
	return out
}
