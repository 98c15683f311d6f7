package main

import (
	"os"
	"path/filepath"
	"strings"
)

// pastedImages returns the image files a chat line names: words that are
// paths (absolute, ~/..., or relative to dir) of existing png, jpeg, webp
// or gif files, as a terminal pastes them when a file is dropped on it
// (possibly quoted, with backslash-escaped spaces).
func pastedImages(line, dir, home string) []string {
	var out []string
	for _, word := range splitPasted(line) {
		word = strings.TrimRight(word, "?!.,;:)") // "what is in shot.png?"
		if _, ok := imageTypes[strings.ToLower(filepath.Ext(word))]; !ok {
			continue
		}
		p := word
		switch {
		case strings.HasPrefix(p, "~/") && home != "":
			p = filepath.Join(home, p[2:])
		case !filepath.IsAbs(p):
			p = filepath.Join(dir, p)
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out
}

// splitPasted splits a line into words the way a pasted path is quoted:
// 'single', "double", and backslash-escaped characters.
func splitPasted(line string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	in := false
	flush := func() {
		if in {
			words = append(words, cur.String())
		}
		cur.Reset()
		in = false
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			in = true
		case r == ' ' || r == '\t':
			flush()
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	flush()
	return words
}

// attachPasted attaches the images a chat line names to the next message.
func (a *app) attachPasted(line string) {
	paths := pastedImages(line, a.dir, a.e.getenv("HOME"))
	if len(paths) == 0 {
		return
	}
	parts, err := loadImages(paths)
	if err != nil {
		a.ui.notice(err.Error())
		return
	}
	a.images = append(a.images, parts...)
	for _, p := range paths {
		a.ui.notice("attached image " + p)
	}
}
