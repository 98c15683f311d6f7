package responses

// scanHeader reads the top-level "type", "id", "call_id", "name", "status"
// and "role" string members of the JSON object b without decoding the rest:
// items carry large payloads (encrypted reasoning, images, patches) that the
// header does not need. It reports false when b is not a simple object it
// can read this way (escapes in a header value, or malformed input); the
// caller then falls back to encoding/json.
func scanHeader(b []byte) (h itemHeader, ok bool) {
	ok = members(b, func(key, v []byte) bool {
		var dst *string
		switch string(key) {
		case "type":
			dst = &h.Type
		case "id":
			dst = &h.ID
		case "call_id":
			dst = &h.CallID
		case "name":
			dst = &h.Name
		case "status":
			dst = &h.Status
		case "role":
			dst = &h.Role
		}
		if dst == nil || v[0] != '"' {
			return true // not a header member, or not a string: left empty
		}
		s, ok := plainString(v)
		*dst = s
		return ok
	})
	return h, ok
}

// members calls fn with the key and the raw value of each top-level member
// of the JSON object b, in order, without decoding the values. It reports
// false when b is not an object it can read this way (a key with escapes or
// non-ASCII bytes, malformed input) or when fn returns false.
func members(b []byte, fn func(key, value []byte) bool) bool {
	return eachMember(b, skipValue, fn)
}

// validMembers is members for input not known to be valid JSON: each
// value is checked against the JSON grammar as it is skipped, so that
// true means b is a valid JSON object (as json.Valid would say).
func validMembers(b []byte, fn func(key, value []byte) bool) bool {
	return eachMember(b, validValue, fn)
}

// objScan reads the members of a JSON object one at a time, like
// members, without a callback (so that what the caller fills stays on its
// stack). valid checks the grammar of each value as validMembers does.
//
//	s := newObjScan(b, true)
//	for key, value, ok := s.next(); ok; key, value, ok = s.next() { ... }
//	if s.failed { ... }
type objScan struct {
	b      []byte
	i      int
	valid  bool
	done   bool
	failed bool
}

func newObjScan(b []byte, valid bool) objScan {
	s := objScan{b: b, valid: valid}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		s.failed = true
		return s
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		s.done = true
		s.failed = skipSpace(b, i+1) != len(b)
	}
	s.i = i
	return s
}

// next returns the next member; ok is false at the end or on malformed
// input (then failed is set). failed may also be set after the last
// member, for input after the object's end.
func (s *objScan) next() (key, value []byte, ok bool) {
	if s.done || s.failed {
		return nil, nil, false
	}
	b, i := s.b, s.i
	if i >= len(b) || b[i] != '"' {
		s.failed = true
		return nil, nil, false
	}
	key, next, simple := scanString(b, i)
	if next < 0 || !simple {
		s.failed = true
		return nil, nil, false
	}
	i = skipSpace(b, next)
	if i >= len(b) || b[i] != ':' {
		s.failed = true
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	var end int
	if s.valid {
		end = validValue(b, i)
	} else {
		end = skipValue(b, i)
	}
	if end < 0 {
		s.failed = true
		return nil, nil, false
	}
	value = b[i:end]
	i = skipSpace(b, end)
	switch {
	case i >= len(b):
		s.failed = true
		return nil, nil, false
	case b[i] == ',':
		s.i = skipSpace(b, i+1)
	case b[i] == '}':
		s.done = true
		s.failed = skipSpace(b, i+1) != len(b)
	default:
		s.failed = true
		return nil, nil, false
	}
	return key, value, true
}

func eachMember(b []byte, skip func(b []byte, i int) int, fn func(key, value []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		key, next, simple := scanString(b, i)
		if next < 0 || !simple {
			return false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		end := skip(b, i)
		if end < 0 || !fn(key, b[i:end]) {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// plainString returns the value of v, a JSON string of plain ASCII without
// escapes; ok is false for anything else, which the callers leave to
// encoding/json.
func plainString(v []byte) (s string, ok bool) {
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	b, next, simple := scanString(v, 0)
	if !simple || next != len(v) {
		return "", false
	}
	if s, ok := known(b); ok {
		return s, true
	}
	return string(b), true
}

// knownValues are the values every response repeats (types, statuses,
// roles, event types), each its own key.
var knownValues = func() map[string]string {
	m := make(map[string]string)
	for _, v := range []string{
		"response", StatusCompleted, StatusInProgress, StatusIncomplete,
		TypeMessage, RoleAssistant, RoleUser, "output_text", TypeReasoning,
		TypeFunctionCall, TypeFunctionCallOutput, TypeCustomToolCall,
		TypeShellCall, TypeShellCallOutput, TypeApplyPatchCall, TypeApplyPatchCallOutput,
		EventResponseCreated, EventResponseInProgress, EventResponseCompleted,
		EventOutputItemAdded, EventOutputItemDone, EventOutputTextDelta,
		EventFunctionCallArgumentsDelta, EventFunctionCallArgumentsDone,
	} {
		m[v] = v
	}
	return m
}()

// known returns the string of b without allocating when it is one of
// knownValues (a map indexed by string(b) copies nothing).
func known(b []byte) (string, bool) {
	s, ok := knownValues[string(b)]
	return s, ok
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the contents of the string starting at b[i] == '"',
// the index after its closing quote (-1 if unterminated), and whether it
// is plain ASCII without escapes (so its bytes are its value).
func scanString(b []byte, i int) (s []byte, next int, simple bool) {
	simple = true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			simple = false
			j++
		case c == '"':
			return b[i+1 : j], j + 1, simple
		case c < 0x20:
			return nil, -1, false
		case c >= 0x80:
			simple = false // let encoding/json decide how to decode it
		}
	}
	return nil, -1, false
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
// It tracks nesting and strings; it does not validate numbers or literals
// beyond their characters.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		_, next, _ := scanString(b, i)
		return next
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, next, _ := scanString(b, j)
				if next < 0 {
					return -1
				}
				j = next - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			break
		}
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
			c >= 'a' && c <= 'z') {
			return -1
		}
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// validValue returns the index after the JSON value starting at b[i], or -1
// when it is not valid JSON (RFC 8259 grammar, as encoding/json checks it:
// invalid UTF-8 inside strings is accepted).
func validValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return validString(b, i)
	case c == '{':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = validString(b, i); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = validValue(b, skipSpace(b, i+1)); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case '}':
				return i + 1
			default:
				return -1
			}
		}
	case c == '[':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = validValue(b, i); i < 0 {
				return -1
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case ']':
				return i + 1
			default:
				return -1
			}
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	}
	return -1
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// validString returns the index after the string starting at b[i] == '"',
// or -1 when it is unterminated, holds a control character or a bad escape.
func validString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		case c == '\\':
			j++
			if j >= len(b) {
				return -1
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-j < 5 {
					return -1
				}
				for _, h := range b[j+1 : j+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				j += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// validNumber returns the index after the number starting at b[i], or -1.
func validNumber(b []byte, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i + 1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}
