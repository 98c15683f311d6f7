package responses

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzItemText checks the scan of a message's text against encoding/json:
// whenever the scan answers, it answers the same.
func FuzzItemText(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]},{"type":"refusal","refusal":"no"},{"type":"output_text","text":" there"}]}`,
		`{"type":"message","role":"user","content":"plain \"quoted\"\n"}`,
		`{"type":"message","content":[{"type":"input_text","text":"a","type":"x"}]}`,
		`{"type":"message","content":[null,{"Type":"text","text":"b"}]}`,
		`{"type":"message","content":[{"type":"text","text":"\u00e9"}],"content":null}`,
		`{"type":"message","content":[{"type":"text","text":1}]}`,
		`{"type":"message","content":[]}`,
		`{"type":"message"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		got, ok := scanText([]byte(in))
		if !ok {
			return
		}
		require.Equal(t, decodeText([]byte(in)), got, "input: %s", in)
	})
}

// The values every response repeats (types, statuses, roles) are read
// without allocating.
func TestKnownValuesDoNotAllocate(t *testing.T) {
	for _, v := range []string{`"completed"`, `"function_call"`, `"assistant"`, `"response.output_item.done"`} {
		b := []byte(v)
		s, ok := plainString(b)
		require.True(t, ok)
		require.Equal(t, v[1:len(v)-1], s)
		require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = plainString(b) }), v)
	}
	s, ok := plainString([]byte(`"resp_123"`))
	require.True(t, ok)
	require.Equal(t, "resp_123", s)
}
