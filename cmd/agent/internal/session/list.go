package session

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentloop/agentloop/responses"
	store "github.com/agentloop/agentloop/session"
)

// Summary describes a saved session, for choosing one to resume.
type Summary struct {
	ID      string
	Created time.Time // when the session started
	Updated time.Time // when it was last written
	Model   string
	Dir     string // the workspace
	// Prompt is the first line of the session's first prompt, clipped to
	// about 200 bytes; "" when the session has none.
	Prompt string
	Tasks  int
	// Busy says an agent process has the session open (this one
	// included): [Open] would fail with an error matching [ErrBusy].
	Busy bool
}

// maxPromptLine is how much of the first prompt a session keeps for the
// list.
const maxPromptLine = 200

// List returns the sessions saved in dir, the most recently updated
// first; limit bounds how many (zero or less: all of them). A dir that does
// not exist holds none. Entries of the database that are not sessions of
// the agent command, or of another format version, are left out. List
// opens no session, and does not change which process has one open.
func List(dir string, limit int) ([]Summary, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil
	}
	st, _, err := openStore(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ctx := context.Background()
	infos, err := st.List(ctx, nil)
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, in := range infos {
		if limit > 0 && len(out) == limit {
			break
		}
		var m meta
		if !IsID(in.ID) || json.Unmarshal(in.Meta, &m) != nil || m.Header.Type != "session" || m.Header.V != Version {
			continue
		}
		s := Summary{
			ID: in.ID, Created: m.Header.Created, Updated: in.Updated,
			Model: m.Header.Model, Dir: m.Header.Dir, Prompt: m.Prompt, Tasks: m.Tasks,
			Busy: busy(dir, in.ID),
		}
		if s.Created.IsZero() {
			s.Created = in.Created
		}
		if s.Prompt == "" && in.Len > 0 {
			// Saved before sessions kept their first prompt: the first
			// user message stored.
			if c, err := st.Load(ctx, in.ID, &store.LoadOptions{History: true}); err == nil {
				s.Prompt = firstUserText(c.Items)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// promptLine returns the first non-blank line of a prompt, clipped.
func promptLine(text string) string {
	for l := range strings.Lines(text) {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			return clip(l, maxPromptLine)
		}
	}
	return ""
}

// clip cuts s to at most n bytes on a character boundary, marking the cut
// with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// firstUserText returns the first line of the first user message's text.
func firstUserText(items []responses.Item) string {
	for _, it := range items {
		var m struct {
			Type    string          `json:"type"`
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		}
		if it.Decode(&m) != nil || m.Role != "user" || (m.Type != "" && m.Type != "message") {
			continue
		}
		var text string
		if json.Unmarshal(m.Content, &text) != nil {
			var parts []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if json.Unmarshal(m.Content, &parts) != nil {
				continue
			}
			for _, p := range parts {
				if p.Type == "input_text" {
					text += p.Text + "\n"
				}
			}
		}
		if l := promptLine(text); l != "" {
			return l
		}
	}
	return ""
}
