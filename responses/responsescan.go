package responses

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// decodeResponse decodes the response object b into r as json.Unmarshal
// does, reading the members without reflection and keeping each output
// item's JSON inside b (so b must not be modified afterwards). valid says
// that b is already known to be valid JSON (it was checked as part of a
// stream event); otherwise the grammar is checked in the same pass. What
// the scan cannot read exactly as encoding/json would (odd types, keys
// that differ only in case, repeated keys) is left to encoding/json.
func decodeResponse(b []byte, r *Response, valid bool) error {
	var fast Response
	if scanResponse(b, &fast, valid) {
		*r = fast
		return nil
	}
	return json.Unmarshal(b, r)
}

var responseKeys = []string{"id", "object", "created_at", "completed_at", "status", "error",
	"incomplete_details", "model", "output", "usage", "previous_response_id", "instructions",
	"metadata", "store", "parallel_tool_calls", "conversation"}

func scanResponse(b []byte, r *Response, valid bool) bool {
	each := validMembers
	if valid {
		each = members
	}
	var seen uint32
	return each(b, func(key, v []byte) bool {
		k := string(key)
		i := slices.Index(responseKeys, k)
		if i < 0 {
			// Not a field of Response, unless encoding/json would match it
			// regardless of case: let it.
			return !foldsToAny(key, responseKeys)
		}
		if seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		null := v[0] == 'n'
		switch k {
		case "id", "object", "status", "model", "previous_response_id":
			if null {
				return true
			}
			s, ok := stringValue(v)
			if !ok {
				return false
			}
			switch k {
			case "id":
				r.ID = s
			case "object":
				r.Object = s
			case "status":
				r.Status = s
			case "model":
				r.Model = s
			default:
				r.PreviousResponseID = s
			}
		case "created_at", "completed_at":
			if null {
				return true
			}
			if !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
				return false
			}
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return false
			}
			if k == "created_at" {
				r.CreatedAt = f
			} else {
				r.CompletedAt = &f
			}
		case "store", "parallel_tool_calls":
			if null {
				return true
			}
			var t bool
			switch string(v) {
			case "true":
				t = true
			case "false":
			default:
				return false
			}
			if k == "store" {
				r.Store = &t
			} else {
				r.ParallelToolCalls = &t
			}
		case "output":
			if null {
				return true
			}
			out, ok := scanItems(v)
			if !ok {
				return false
			}
			r.Output = out
		case "instructions":
			r.Instructions = append(json.RawMessage(nil), v...)
		case "conversation":
			r.Conversation = append(json.RawMessage(nil), v...)
		case "error":
			return null || v[0] == '{' && json.Unmarshal(v, &r.Error) == nil
		case "incomplete_details":
			return null || v[0] == '{' && json.Unmarshal(v, &r.IncompleteDetails) == nil
		case "usage":
			if null {
				return true
			}
			r.Usage = new(Usage)
			return scanUsage(v, r.Usage)
		case "metadata":
			return null || v[0] == '{' && json.Unmarshal(v, &r.Metadata) == nil
		}
		return true
	})
}

// stringValue returns the value of the JSON string v.
func stringValue(v []byte) (string, bool) {
	if v[0] != '"' {
		return "", false
	}
	if s, ok := plainString(v); ok {
		return s, true
	}
	return unescape(v)
}

// scanItems returns the items of the JSON array v (valid JSON), each
// keeping its bytes inside v.
func scanItems(v []byte) ([]Item, bool) {
	if v[0] != '[' {
		return nil, false
	}
	out := []Item{}
	i := skipSpace(v, 1)
	if i < len(v) && v[i] == ']' {
		return out, true
	}
	for i < len(v) {
		end := skipValue(v, i)
		if end < 0 {
			return nil, false
		}
		e := v[i:end]
		var it Item
		if e[0] != 'n' {
			var err error
			if it, err = itemFrom(e, false); err != nil {
				return nil, false
			}
		}
		out = append(out, it)
		i = skipSpace(v, end)
		if i >= len(v) {
			return nil, false
		}
		switch v[i] {
		case ',':
			i = skipSpace(v, i+1)
		case ']':
			return out, true
		default:
			return nil, false
		}
	}
	return nil, false
}

// foldsToAny reports whether key matches one of names (all lower-case
// ASCII) the way encoding/json matches keys, ignoring case, without being
// one of them. A key of lower-case ASCII only cannot: it is compared only
// when it has an upper-case or non-ASCII byte (the Kelvin sign folds to
// "k").
func foldsToAny(key []byte, names []string) bool {
	plain := true
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return false
	}
	for _, n := range names {
		if strings.EqualFold(n, string(key)) {
			return true
		}
	}
	return false
}

var (
	usageKeys  = []string{"input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"}
	inputKeys  = []string{"cached_tokens", "cache_write_tokens"}
	outputKeys = []string{"reasoning_tokens"}
)

// scanUsage decodes the usage object v (valid JSON) into u as json.Unmarshal
// would, reading its integers without reflection; it reports false for
// what it leaves to encoding/json (a value that is not a plain integer, a
// repeated key, a key that matches only regardless of case).
func scanUsage(v []byte, u *Usage) bool {
	var seen uint8
	return v[0] == '{' && members(v, func(key, val []byte) bool {
		i, ok := knownKey(key, usageKeys, &seen)
		if !ok || i < 0 {
			return ok
		}
		switch i {
		case 1:
			return scanCounts(val, inputKeys, &u.InputTokensDetails.CachedTokens, &u.InputTokensDetails.CacheWriteTokens)
		case 3:
			return scanCounts(val, outputKeys, &u.OutputTokensDetails.ReasoningTokens)
		}
		dst := [...]*int64{&u.InputTokens, nil, &u.OutputTokens, nil, &u.TotalTokens}[i]
		return intValue(val, dst)
	})
}

// scanCounts decodes an object of integers whose keys are keys, each into
// the destination at the same index; null leaves them unchanged.
func scanCounts(v []byte, keys []string, dst ...*int64) bool {
	if v[0] == 'n' {
		return true
	}
	var seen uint8
	return v[0] == '{' && members(v, func(key, val []byte) bool {
		i, ok := knownKey(key, keys, &seen)
		if !ok || i < 0 {
			return ok
		}
		return intValue(val, dst[i])
	})
}

// knownKey matches the member name key against a struct's field names as
// encoding/json would: it returns the field's index, or -1 for a member to
// ignore, and false for what encoding/json must decide (a repeated field,
// or a name that matches only regardless of case). seen records the
// fields met so far (at most 8).
func knownKey(key []byte, keys []string, seen *uint8) (int, bool) {
	i := slices.Index(keys, string(key))
	if i < 0 {
		return -1, !foldsToAny(key, keys)
	}
	if *seen&(1<<i) != 0 {
		return 0, false
	}
	*seen |= 1 << i
	return i, true
}

// intValue decodes the JSON integer v into dst (null leaves it unchanged);
// it reports false for anything else, a fraction or an exponent included.
func intValue(v []byte, dst *int64) bool {
	if v[0] == 'n' {
		return true
	}
	if !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') || bytes.ContainsAny(v, ".eE") {
		return false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	return true
}
