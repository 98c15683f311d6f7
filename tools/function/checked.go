package function

import (
	"encoding/json"
	"sync"
	"unsafe"
)

// checkedArgs remembers the arguments Review has decoded, validated and
// completed with defaults, for the Call of the same call item that usually
// follows, so that they are parsed once. A call item is recognised by its
// call id and by the identity of its JSON (an item's JSON is immutable and
// the entry keeps it alive, so its address cannot be reused while the entry
// exists). It holds the last few calls; entries of calls that never come
// (denied ones) fall out.
type checkedArgs struct {
	mu      sync.Mutex
	entries [checkedMax]checkedEntry
	next    int
}

const checkedMax = 16

type checkedEntry struct {
	callID string
	raw    json.RawMessage // the call item's JSON, by identity
	input  string          // the arguments, validated, with defaults
	caller json.RawMessage // the call's caller member
}

func (c *checkedArgs) put(callID string, raw json.RawMessage, input string, caller json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[c.next] = checkedEntry{callID: callID, raw: raw, input: input, caller: caller}
	c.next = (c.next + 1) % checkedMax
}

// take returns and forgets the checked arguments of the call item raw.
func (c *checkedArgs) take(callID string, raw json.RawMessage) (checkedEntry, bool) {
	if len(raw) == 0 {
		return checkedEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.entries {
		e := &c.entries[i]
		if e.raw != nil && e.callID == callID && len(e.raw) == len(raw) && unsafe.SliceData(e.raw) == unsafe.SliceData(raw) {
			found := *e
			*e = checkedEntry{}
			return found, true
		}
	}
	return checkedEntry{}, false
}
