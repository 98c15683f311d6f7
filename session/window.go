package session

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/agentloop/agentloop/responses"
)

// EstimateTokens returns a rough count of the tokens item takes in a
// request: a quarter of its JSON length, rounded up. It over-counts
// encrypted reasoning, which is the safe side for a budget.
func EstimateTokens(item responses.Item) int { return tokensOfSize(len(item.Raw())) }

// TokensOfSize is [EstimateTokens] for an item whose JSON is size bytes
// long, for stores that keep the size beside the item.
func TokensOfSize(size int) int { return tokensOfSize(size) }

func tokensOfSize(size int) int { return (size + 3) / 4 }

// Range returns the index range [lo, hi) that o selects by Last and History
// in the conversation info, before the token budget and the boundary rule
// of [Trim] apply. It is meant for Store implementations. A nil o selects
// the current context.
func (o *LoadOptions) Range(info Info) (lo, hi int64) {
	hi = info.Len
	if o == nil {
		return info.Base, hi
	}
	if o.Last < 0 {
		return hi, hi
	}
	if !o.History {
		lo = info.Base
	}
	if o.Last > 0 && hi-int64(o.Last) > lo {
		lo = hi - int64(o.Last)
	}
	return lo, hi
}

// Trim returns how many leading items of a loaded window to drop so that
// the rest fits the token budget of o and starts on a boundary a model
// accepts: the window never begins with a call (whose reasoning may have
// been cut off) and never holds an output whose call it does not hold. It
// is meant for Store implementations, which call it on the items of
// [LoadOptions.Range] (or fewer, when they applied the budget already).
func (o *LoadOptions) Trim(items []responses.Item) int {
	start := 0
	if o != nil && o.Tokens > 0 {
		sum := 0
		start = len(items)
		for start > 0 {
			sum += EstimateTokens(items[start-1])
			if sum > o.Tokens {
				break
			}
			start--
		}
	}
	for {
		next := boundary(items, start)
		if next == start {
			return start
		}
		start = next
	}
}

// boundary returns start if items[start:] is a valid window, or a later
// start to try.
func boundary(items []responses.Item, start int) int {
	if start < len(items) && items[start].IsCall() {
		return start + 1
	}
	calls := map[string]bool{}
	for i := start; i < len(items); i++ {
		it := items[i]
		if k := it.CallKey(); k != "" {
			calls[k] = true
		}
		if it.IsOutput() && !calls[it.OutputKey()] {
			return i + 1
		}
	}
	return start
}

// NewID returns a random id (32 hexadecimal digits) for a conversation or
// a pending continuation. Being unguessable, it can go into a URL.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
