package shell

import "strings"

// sedScriptReadOnly reports whether a sed script (GNU syntax) only prints
// and edits the stream: it has no w or W command, no e command, and no s
// command with the w or e flag. Anything it does not understand counts as
// not read-only.
func sedScriptReadOnly(s string) bool {
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	// delimited skips a delimited part (regex or replacement) ending at an
	// unescaped delim; it reports false if the part is not closed.
	delimited := func(delim byte) bool {
		for i < len(s) {
			switch s[i] {
			case '\\':
				i += 2
				continue
			case delim:
				i++
				return true
			case '\n':
				if delim != '\n' {
					return false
				}
			}
			i++
		}
		return false
	}
	address := func() bool {
		switch {
		case i < len(s) && s[i] == '/':
			i++
			if !delimited('/') {
				return false
			}
		case i+1 < len(s) && s[i] == '\\':
			d := s[i+1]
			i += 2
			if !delimited(d) {
				return false
			}
		case i < len(s) && s[i] == '$':
			i++
		default:
			for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '~' || s[i] == '+') {
				i++
			}
		}
		for i < len(s) && (s[i] == 'I' || s[i] == 'M') { // regex address flags
			i++
		}
		return true
	}
	toEndOfLine := func() {
		for i < len(s) && s[i] != '\n' {
			i++
		}
	}
	for i < len(s) {
		skipSpace()
		if i >= len(s) {
			break
		}
		switch s[i] {
		case ';', '\n', '}':
			i++
			continue
		case '#':
			toEndOfLine()
			continue
		}
		if !address() {
			return false
		}
		skipSpace()
		if i < len(s) && s[i] == ',' {
			i++
			skipSpace()
			if !address() {
				return false
			}
		}
		skipSpace()
		for i < len(s) && s[i] == '!' {
			i++
			skipSpace()
		}
		if i >= len(s) {
			return false // an address without a command
		}
		cmd := s[i]
		i++
		switch cmd {
		case '{':
			continue // a block's commands follow directly
		case '=', 'd', 'D', 'g', 'G', 'h', 'H', 'n', 'N', 'p', 'P', 'x', 'z', 'F':
		case 'q', 'Q', 'l', 'L':
			skipSpace()
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		case ':', 'b', 't', 'T':
			for i < len(s) && s[i] != '\n' && s[i] != ';' {
				i++
			}
		case 'a', 'i', 'c', 'r', 'R':
			// Text or a file to read, to the end of the line (with
			// backslash-newline continuations for text).
			for i < len(s) && s[i] != '\n' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
		case 's':
			if i >= len(s) || s[i] == '\n' || s[i] == '\\' {
				return false
			}
			d := s[i]
			i++
			if !twoParts(delimited, d) {
				return false
			}
			for i < len(s) && strings.IndexByte("gpiImM0123456789", s[i]) >= 0 {
				i++
			}
			if i < len(s) && (s[i] == 'w' || s[i] == 'W' || s[i] == 'e') {
				return false
			}
		case 'y':
			if i >= len(s) || s[i] == '\n' || s[i] == '\\' {
				return false
			}
			d := s[i]
			i++
			if !twoParts(delimited, d) {
				return false
			}
		default: // w, W, e, v and anything unknown
			return false
		}
		skipSpace()
		if i < len(s) && s[i] != ';' && s[i] != '\n' && s[i] != '}' && s[i] != '#' {
			return false
		}
	}
	return true
}

// twoParts skips the two delimited parts of an s or y command.
func twoParts(delimited func(byte) bool, d byte) bool {
	if !delimited(d) {
		return false
	}
	return delimited(d)
}
