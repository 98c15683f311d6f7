package mcp

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// maxToolName is the longest function name the Responses API takes.
const maxToolName = 64

// toolKey identifies one tool of one server.
type toolKey struct{ server, tool string }

// sanitizeName maps s onto [a-zA-Z0-9_-], replacing every other byte with
// '_'. An empty result becomes "_".
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// modelNames returns the function name the model sees for each tool:
// "server__tool", sanitised to ^[a-zA-Z0-9_-]{1,64}$. A name that had to be
// shortened, or that two tools would share, is made unique with a suffix
// hashed from the original server and tool names, so the result depends only
// on the set of tools, not on the order in which they were listed.
func modelNames(keys []toolKey) map[toolKey]string {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b toolKey) int {
		return cmp.Or(cmp.Compare(a.server, b.server), cmp.Compare(a.tool, b.tool))
	})
	base := make(map[toolKey]string, len(keys))
	count := make(map[string]int, len(keys))
	for _, k := range keys {
		n := sanitizeName(k.server) + "__" + sanitizeName(k.tool)
		base[k] = n
		count[n]++
	}
	out := make(map[toolKey]string, len(keys))
	taken := make(map[string]bool, len(keys))
	// Names that need no sanitising keep them, unless two tools have the
	// same one ("a__b"/"c" and "a"/"b__c").
	exact := make(map[string]int, len(keys))
	for _, k := range keys {
		if n := base[k]; len(n) <= maxToolName && n == k.server+"__"+k.tool {
			exact[n]++
		}
	}
	for _, k := range keys {
		if n := base[k]; exact[n] == 1 && n == k.server+"__"+k.tool {
			out[k] = n
			taken[n] = true
		}
	}
	for _, k := range keys {
		if _, done := out[k]; done {
			continue
		}
		n := base[k]
		if count[n] == 1 && len(n) <= maxToolName && !taken[n] {
			out[k] = n
			taken[n] = true
			continue
		}
		sum := sha256.Sum256([]byte(k.server + "\x00" + k.tool))
		suffix := "_" + hex.EncodeToString(sum[:4])
		if len(n)+len(suffix) > maxToolName {
			n = n[:maxToolName-len(suffix)]
		}
		n = strings.TrimRight(n, "_") + suffix
		for i := 4; taken[n] && i < len(sum); i++ { // a hash prefix collision: lengthen it
			suffix = "_" + hex.EncodeToString(sum[:i+1])
			n = base[k]
			if len(n)+len(suffix) > maxToolName {
				n = n[:maxToolName-len(suffix)]
			}
			n = strings.TrimRight(n, "_") + suffix
		}
		out[k] = n
		taken[n] = true
	}
	return out
}
