package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The payload's reader, read in any size of pieces or written out with
// WriteTo, gives the request encoding/json gives (the input last), and its
// length is the one announced.
func TestPayloadReader(t *testing.T) {
	for n := range 5 {
		items := make([]Item, n)
		for i := range items {
			items[i] = UserMessage(fmt.Sprintf("message %d", i))
		}
		if n > 2 {
			items[1] = Item{} // no JSON: null
		}
		req := &Request{Model: "m", Input: ItemsInput(items...), Store: Ptr(false)}
		p, err := encodeParts(req)
		require.NoError(t, err)
		want, err := json.Marshal(req)
		require.NoError(t, err)
		require.Equal(t, int64(len(want)), p.n, "items: %d", n)

		got, err := io.ReadAll(p.reader())
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got), "items: %d", n)
		want = got

		got, err = io.ReadAll(iotest.OneByteReader(p.reader()))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))

		var buf bytes.Buffer
		w, err := p.reader().(io.WriterTo).WriteTo(&buf)
		require.NoError(t, err)
		assert.Equal(t, int64(len(want)), w)
		assert.Equal(t, string(want), buf.String())

		require.NoError(t, iotest.TestReader(p.reader(), want))
	}
}
