package responses

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeEventSlow is decodeEvent with encoding/json only, the reference the
// scanner must agree with.
func decodeEventSlow(raw []byte) (Event, bool, error) {
	var w eventWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return Event{}, false, err
	}
	return decodeWire(raw, &w)
}

// FuzzDecodeEvent checks that the reflection-free scanner decodes every
// input to the same event as encoding/json does.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}`,
		`{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","call_id":"c","arguments":"{\"a\":1}"}}`,
		`{"type":"response.completed","response":{"id":"r","status":"completed","output":[]}}`,
		`{"type":"error","code":null,"message":"m","param":null}`,
		`{"error":{"message":"x"}}`,
		`{"TYPE":"x","Delta":"y"}`,
		`{"type":"a","type":"b","delta":"\u00e9\n","output_index":1.5e0,"sequence_number":"3"}`,
		`{"type":null,"output_index":null,"delta":{"stdout":"x"},"text":5}`,
		`{"type":7}`,
		` { "type" : "x" , "part" : { "a" : [ ] } } `,
		`[]`,
		`{"type":"x"`,
		`{"typ\u0065":"x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fast, fastErr, errFast := decodeEvent([]byte(in))
		slow, slowErr, errSlow := decodeEventSlow([]byte(in))
		require.Equal(t, errSlow == nil, errFast == nil, "errors: fast %v, slow %v", errFast, errSlow)
		if errSlow != nil {
			return
		}
		require.Equal(t, slowErr, fastErr)
		// Compare the decoded fields; Part may be "null" vs nil, both mean absent.
		require.Equal(t, slow.Type, fast.Type)
		require.Equal(t, slow.SequenceNumber, fast.SequenceNumber)
		require.Equal(t, slow.OutputIndex, fast.OutputIndex)
		require.Equal(t, slow.ContentIndex, fast.ContentIndex)
		require.Equal(t, slow.SummaryIndex, fast.SummaryIndex)
		require.Equal(t, slow.CommandIndex, fast.CommandIndex)
		require.Equal(t, slow.ItemID, fast.ItemID)
		require.Equal(t, slow.Delta, fast.Delta)
		require.Equal(t, slow.Text, fast.Text)
		require.Equal(t, slow.Item, fast.Item)
		require.Equal(t, slow.Response, fast.Response)
		require.Equal(t, string(slow.Part), string(fast.Part))
	})
}
