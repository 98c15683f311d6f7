package responses

import (
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
			return null || v[0] == '{' && json.Unmarshal(v, &r.Usage) == nil
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
