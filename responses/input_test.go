package responses_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
)

func TestDataURL(t *testing.T) {
	for _, tc := range []struct {
		name, mime, want string
		data             []byte
	}{
		{"given type", "image/webp", "data:image/webp;base64,AQI=", []byte{1, 2}},
		{"sniffed png", "", "data:image/png;base64,iVBORw0KGgo=", []byte("\x89PNG\r\n\x1a\n")},
		{"sniffed text drops the charset", "", "data:text/plain;base64,aGk=", []byte("hi")},
		{"parameters dropped", "text/csv; charset=utf-8", "data:text/csv;base64,YQ==", []byte("a")},
		{"empty", "", "data:text/plain;base64,", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, responses.DataURL(tc.data, tc.mime))
		})
	}
}

func TestInlineFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	// The extension decides the media type; the content when there is none.
	part, err := responses.InputImageFile(write("noext", []byte("\x89PNG\r\n\x1a\n")), "")
	require.NoError(t, err)
	assert.Equal(t, "data:image/png;base64,iVBORw0KGgo=", part.ImageURL)
	part, err = responses.InputImageFile(write("x.jpg", []byte("not really")), responses.ImageDetailOriginal)
	require.NoError(t, err)
	assert.Equal(t, "data:image/jpeg;base64,bm90IHJlYWxseQ==", part.ImageURL)
	assert.Equal(t, "original", part.Detail)

	part, err = responses.InputFileFromPath(write("a.json", []byte("{}")))
	require.NoError(t, err)
	assert.Equal(t, responses.ContentPart{Type: "input_file", Filename: "a.json", FileData: "data:application/json;base64,e30="}, part)

	big, err := os.Create(filepath.Join(dir, "big.png"))
	require.NoError(t, err)
	require.NoError(t, big.Truncate(responses.MaxInlineFileSize+1))
	require.NoError(t, big.Close())
	_, err = responses.InputImageFile(big.Name(), "")
	assert.ErrorContains(t, err, "more than the")

	assert.Equal(t, responses.ContentPart{Type: "input_file", FileURL: "https://example.test/a.pdf"}, responses.InputFileURL("https://example.test/a.pdf"))
	assert.JSONEq(t, `{"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]}`, string(responses.AssistantMessage("ok").Raw()))
	assert.JSONEq(t, `{"type":"message","role":"user","content":[]}`, string(responses.NewMessage(responses.RoleUser).Raw()))
}

func TestWithoutEmptySafetyChecks(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty dropped", `{"type":"computer_call","id":"cu_1","pending_safety_checks":[],"call_id":"c"}`, `{"call_id":"c","id":"cu_1","type":"computer_call"}`},
		{"checks kept", `{"type":"computer_call","pending_safety_checks":[{"id":"s"}]}`, `{"type":"computer_call","pending_safety_checks":[{"id":"s"}]}`},
		{"absent", `{"type":"computer_call","call_id":"c"}`, `{"type":"computer_call","call_id":"c"}`},
		{"other item", `{"type":"function_call","pending_safety_checks":[]}`, `{"type":"function_call","pending_safety_checks":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var it responses.Item
			require.NoError(t, it.UnmarshalJSON([]byte(tc.in)))
			assert.Equal(t, tc.want, string(responses.WithoutEmptySafetyChecks(it).Raw()))
		})
	}
}
