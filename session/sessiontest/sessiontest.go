// Package sessiontest is the conformance suite every [session.Store] passes:
// the module runs it against the memory, SQLite and PostgreSQL stores, and a
// store written elsewhere can run it too:
//
//	func TestConformance(t *testing.T) {
//		sessiontest.Run(t, sessiontest.Suite{
//			New: func(t *testing.T) session.Store { return mystore.New(t.TempDir()) },
//		})
//	}
//
// The crash test runs when Suite.Shared and Suite.Open are set: it re-runs
// the test binary (the same test, selected with -test.run) as a child
// process that appends large turns in a loop, kills it with SIGKILL in the
// middle of an append, and checks the conversation holds whole turns only.
package sessiontest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/session"
)

// Suite describes the store under test.
type Suite struct {
	// New returns an empty store, closed by a t.Cleanup it registers.
	// Required.
	New func(t *testing.T) session.Store
	// Shared returns an empty store (closed by a t.Cleanup) and the
	// address (a file name, a URL) under which Open opens the same store
	// in another process. Shared and Open enable the crash test.
	Shared func(t *testing.T) (session.Store, string)
	// Open opens the store at addr. In the crash test's child process it
	// is the only function called.
	Open func(ctx context.Context, addr string) (session.Store, error)
	// NoCrash, when Shared is nil, says why the store has no crash test
	// (the skip message).
	NoCrash string
}

// crashEnv carries the store's address to the crash test's child process.
const crashEnv = "AGENTLOOP_SESSIONTEST_CRASH_ADDR"

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, s Suite) {
	if addr := os.Getenv(crashEnv); addr != "" {
		// The crash test's child: only the crash subtest is selected.
		t.Run("crash", func(t *testing.T) { crashChild(t, s, addr) })
		return
	}
	require.NotNil(t, s.New, "sessiontest: Suite.New is required")
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Suite)
	}{
		{"round trip", testRoundTrip},
		{"missing", testMissing},
		{"bad input", testBadInput},
		{"version conflict", testConflict},
		{"concurrent appends", testConcurrentAppends},
		{"window", testWindow},
		{"compaction", testCompaction},
		{"pending", testPending},
		{"pending with turn", testPendingWithTurn},
		{"pending replaces", testPendingReplaces},
		{"concurrent takes", testConcurrentTakes},
		{"branch", testBranch},
		{"delete", testDelete},
		{"list", testList},
		{"crash", testCrash},
		{"attached run crash", testAttachCrash},
		{"attached run approval", testAttachApproval},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, s) })
	}
}

func item(t testing.TB, raw string) responses.Item {
	t.Helper()
	var it responses.Item
	require.NoError(t, it.UnmarshalJSON([]byte(raw)))
	return it
}

func msg(t testing.TB, role, text string) responses.Item {
	return item(t, fmt.Sprintf(`{"type":"message","role":%q,"content":%q}`, role, text))
}

// rawItems are items whose bytes a store must not change: odd spacing and
// key order, escapes, numbers, encrypted reasoning, hosted-tool items and a
// type this module does not know.
var rawItems = []string{
	`{"type":"message","role":"user","content":"héllo \u00e9 \ud83d\ude00 <b>&amp;</b>"}`,
	`{"role":"user","content":[{"type":"input_text","text":"easy message"}]}`,
	`{ "type" : "reasoning", "id":"rs_1","summary":[],"encrypted_content":"gAAAAABo` + strings.Repeat("Zm9v", 300) + `=="}`,
	`{"type":"function_call","id":"fc_1","call_id":"call_1","name":"read","arguments":"{\"path\":\"a.txt\"}","status":"completed"}`,
	`{"type":"function_call_output","call_id":"call_1","output":"line1\nline2\t\u0000end"}`,
	`{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"go sqlite"}}`,
	`{"type":"mcp_call","id":"mcp_1","server_label":"x","name":"y","arguments":"{}","output":"ok","error":null}`,
	`{"type":"compaction","id":"cmp_1","encrypted_content":"opaque"}`,
	`{"type":"future_item_type","n":1.50,"big":12345678901234567890123,"e":1E+2,"nested":{"z":1,"a":[true,false,null]}}`,
	`{"type":"message","role":"assistant","id":"msg_1","content":[{"type":"output_text","text":"done","annotations":[]}],"status":"completed"}`,
}

func newConv(t *testing.T, st session.Store, n int) (string, []responses.Item) {
	t.Helper()
	conv := session.NewID()
	var items []responses.Item
	for i := range n {
		items = append(items, msg(t, "user", fmt.Sprintf("m%d", i)))
	}
	_, err := st.Append(t.Context(), conv, 0, session.Turn{Items: items})
	require.NoError(t, err)
	return conv, items
}

func requireSame(t *testing.T, want, got []responses.Item) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, string(want[i].Raw()), string(got[i].Raw()), "item %d", i)
	}
}

func testRoundTrip(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv := session.NewID()
	var items []responses.Item
	for _, r := range rawItems {
		items = append(items, item(t, r))
	}
	before := time.Now().Add(-time.Second)
	v, err := st.Append(ctx, conv, 0, session.Turn{Items: items[:4], ResponseID: "resp_1", Meta: []byte(`{"title":"t","model":"m"}`)})
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
	v, err = st.Append(ctx, conv, v, session.Turn{Items: items[4:], ResponseID: "resp_2"})
	require.NoError(t, err)
	require.Equal(t, int64(2), v)
	v, err = st.Append(ctx, conv, v, session.Turn{}) // nothing: the response id stays
	require.NoError(t, err)
	require.Equal(t, int64(3), v)

	c, err := st.Load(ctx, conv, nil)
	require.NoError(t, err)
	requireSame(t, items, c.Items)
	assert.Equal(t, conv, c.ID)
	assert.Equal(t, int64(3), c.Version)
	assert.Equal(t, int64(len(items)), c.Len)
	assert.Equal(t, int64(0), c.Start)
	assert.Equal(t, int64(0), c.Base)
	assert.Equal(t, "resp_2", c.ResponseID)
	assert.JSONEq(t, `{"title":"t","model":"m"}`, string(c.Meta))
	assert.True(t, c.Created.After(before) && !c.Updated.Before(c.Created), "created %v, updated %v", c.Created, c.Updated)
	for i, it := range c.Items { // the header fields are decoded again
		assert.Equal(t, items[i].Type, it.Type, "item %d", i)
		assert.Equal(t, items[i].CallID, it.CallID, "item %d", i)
	}

	c, err = st.Load(ctx, conv, &session.LoadOptions{Last: -1})
	require.NoError(t, err)
	assert.Empty(t, c.Items)
	assert.Equal(t, c.Len, c.Start)
	assert.Equal(t, "resp_2", c.ResponseID)
}

func testMissing(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	c, err := st.Load(ctx, "nope", nil)
	require.NoError(t, err)
	assert.Equal(t, "nope", c.ID)
	assert.Equal(t, int64(0), c.Version)
	assert.Empty(t, c.Items)
	assert.ErrorIs(t, st.Delete(ctx, "nope"), session.ErrNotFound)
	assert.ErrorIs(t, st.Branch(ctx, "nope", 0, "other"), session.ErrNotFound)
	assert.ErrorIs(t, st.PutPending(ctx, "nope", "p", []byte("{}")), session.ErrNotFound)
	_, err = st.TakePending(ctx, "nope")
	assert.ErrorIs(t, err, session.ErrNotFound)
	list, err := st.List(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func testBadInput(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	_, err := st.Append(ctx, "", 0, session.Turn{})
	assert.ErrorContains(t, err, "empty conversation id")
	_, err = st.Append(ctx, "c", 0, session.Turn{Items: []responses.Item{{}}})
	assert.ErrorContains(t, err, "item 0 is not a JSON object")
	_, err = st.Append(ctx, "c", 0, session.Turn{Meta: []byte("{")})
	assert.ErrorContains(t, err, "Meta is not valid JSON")
	c, err := st.Load(ctx, "c", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(0), c.Version, "a refused append creates nothing")
}

func testConflict(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, items := newConv(t, st, 2)
	for _, v := range []int64{0, 2, 7} {
		_, err := st.Append(ctx, conv, v, session.Turn{Items: items})
		require.ErrorIs(t, err, session.ErrConflict, "version %d", v)
		var ce *session.ConflictError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, &session.ConflictError{Conversation: conv, Expected: v, Actual: 1}, ce)
	}
	_, err := st.Append(ctx, "other", 3, session.Turn{Items: items})
	var ce *session.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, int64(0), ce.Actual)
	c, err := st.Load(ctx, conv, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Version)
	requireSame(t, items, c.Items)
}

// testConcurrentAppends runs writers that all append to one conversation:
// at each version exactly one wins, the others get a conflict, reload and
// retry; in the end every turn is there, whole and in one piece.
func testConcurrentAppends(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, _ := newConv(t, st, 1)
	const writers, turns, size = 6, 4, 5
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		start     = make(chan struct{})
	)
	for w := range writers {
		wg.Go(func() {
			<-start
			for turn := 0; turn < turns; {
				c, err := st.Load(ctx, conv, &session.LoadOptions{Last: -1})
				if !assert.NoError(t, err) {
					return
				}
				var items []responses.Item
				for i := range size {
					items = append(items, msg(t, "assistant", fmt.Sprintf("w%d t%d i%d", w, turn, i)))
				}
				_, err = st.Append(ctx, conv, c.Version, session.Turn{Items: items, ResponseID: fmt.Sprintf("resp_w%d_t%d", w, turn)})
				if errors.Is(err, session.ErrConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				turn++
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d conflicts", conflicts)
	c, err := st.Load(ctx, conv, nil)
	require.NoError(t, err)
	require.Equal(t, int64(1+writers*turns), c.Version)
	require.Len(t, c.Items, 1+writers*turns*size)
	seen := map[string]bool{}
	for i := 1; i < len(c.Items); i += size {
		var w, turn int
		_, err := fmt.Sscanf(c.Items[i].Text(), "w%d t%d i0", &w, &turn)
		require.NoError(t, err, "item %d starts a turn", i)
		for j := range size {
			assert.Equal(t, fmt.Sprintf("w%d t%d i%d", w, turn, j), c.Items[i+j].Text(), "turn at %d is whole", i)
		}
		key := fmt.Sprint(w, turn)
		assert.False(t, seen[key], "turn %s stored twice", key)
		seen[key] = true
	}
	assert.Len(t, seen, writers*turns)
}

func testWindow(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv := session.NewID()
	// 0 user, 1 reasoning, 2 call a, 3 call b, 4 output a, 5 output b, 6 assistant, 7 user
	items := []responses.Item{
		msg(t, "user", "go"),
		item(t, `{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"xxxxxxxx"}`),
		item(t, `{"type":"function_call","call_id":"a","name":"f","arguments":"{}"}`),
		item(t, `{"type":"function_call","call_id":"b","name":"f","arguments":"{}"}`),
		item(t, `{"type":"function_call_output","call_id":"a","output":"1"}`),
		item(t, `{"type":"function_call_output","call_id":"b","output":"2"}`),
		msg(t, "assistant", "done"),
		msg(t, "user", "thanks"),
	}
	_, err := st.Append(ctx, conv, 0, session.Turn{Items: items})
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		opts      session.LoadOptions
		wantStart int64
	}{
		{"all", session.LoadOptions{}, 0},
		{"last 7 starts at the reasoning", session.LoadOptions{Last: 7}, 1},
		{"last 6 cuts a call off its reasoning: skip to after the outputs", session.LoadOptions{Last: 6}, 6},
		{"last 4 starts at an output", session.LoadOptions{Last: 4}, 6},
		{"last 2", session.LoadOptions{Last: 2}, 6},
		{"last 1", session.LoadOptions{Last: 1}, 7},
		{"last 100", session.LoadOptions{Last: 100}, 0},
		{"none", session.LoadOptions{Last: -1}, 8},
		{"tokens for two messages", session.LoadOptions{Tokens: session.EstimateTokens(items[6]) + session.EstimateTokens(items[7])}, 6},
		{"tokens for one less than two messages", session.LoadOptions{Tokens: session.EstimateTokens(items[6]) + session.EstimateTokens(items[7]) - 1}, 7},
		{"tokens for everything", session.LoadOptions{Tokens: 1 << 20}, 0},
		{"tokens and last", session.LoadOptions{Tokens: 1 << 20, Last: 2}, 6},
		{"tokens for nothing", session.LoadOptions{Tokens: 1}, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := st.Load(ctx, conv, &tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.wantStart, c.Start)
			requireSame(t, items[tc.wantStart:], c.Items)
			assert.Equal(t, int64(len(items)), c.Len, "the window deletes nothing")
		})
	}
}

func testCompaction(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, old := newConv(t, st, 5)
	compacted := []responses.Item{
		msg(t, "user", "m0"),
		item(t, `{"type":"compaction","id":"cmp_1","encrypted_content":"summary"}`),
	}
	v, err := st.Append(ctx, conv, 1, session.Turn{Items: compacted, Compacted: true, ResponseID: "resp_c"})
	require.NoError(t, err)
	next := []responses.Item{msg(t, "assistant", "after")}
	_, err = st.Append(ctx, conv, v, session.Turn{Items: next})
	require.NoError(t, err)

	c, err := st.Load(ctx, conv, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(5), c.Base)
	assert.Equal(t, int64(5), c.Start)
	requireSame(t, append(compacted, next...), c.Items)

	c, err = st.Load(ctx, conv, &session.LoadOptions{History: true})
	require.NoError(t, err)
	assert.Equal(t, int64(0), c.Start)
	requireSame(t, append(append(old, compacted...), next...), c.Items)

	c, err = st.Load(ctx, conv, &session.LoadOptions{History: true, Last: 4})
	require.NoError(t, err)
	assert.Equal(t, int64(4), c.Start)
}

func testPending(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, _ := newConv(t, st, 1)
	state := []byte(`{"version":1,"pending":[{"call_id":"c1"}],"bytes":"\u0000"}`)
	require.NoError(t, st.PutPending(ctx, conv, "p1", state))
	assert.ErrorIs(t, st.PutPending(ctx, conv, "p1", []byte("{}")), session.ErrExists)
	assert.ErrorContains(t, st.PutPending(ctx, conv, "", []byte("{}")), "empty pending id")
	got, err := st.TakePending(ctx, "p1")
	require.NoError(t, err)
	assert.Equal(t, string(state), string(got))
	_, err = st.TakePending(ctx, "p1")
	assert.ErrorIs(t, err, session.ErrPendingTaken)
	assert.ErrorIs(t, st.PutPending(ctx, conv, "p1", []byte("{}")), session.ErrExists, "a taken id is not reused")
	_, err = st.TakePending(ctx, "p2")
	assert.ErrorIs(t, err, session.ErrNotFound)
}

// testPendingReplaces: a turn's continuation that replaces an earlier one
// takes it in the same transaction; replacing one that is gone is no error.
func testPendingReplaces(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, items := newConv(t, st, 1)
	v, err := st.Append(ctx, conv, 1, session.Turn{Items: items, Pending: &session.Pending{ID: "t1", State: []byte(`{"turn":1}`)}})
	require.NoError(t, err)
	v, err = st.Append(ctx, conv, v, session.Turn{Items: items, Pending: &session.Pending{ID: "t2", State: []byte(`{"turn":2}`), Replaces: "t1"}})
	require.NoError(t, err)
	_, err = st.TakePending(ctx, "t1")
	assert.ErrorIs(t, err, session.ErrPendingTaken, "replaced")
	_, err = st.Append(ctx, conv, v, session.Turn{Pending: &session.Pending{ID: "t3", State: []byte(`{"turn":3}`), Replaces: "never-was"}})
	require.NoError(t, err)
	got, err := st.TakePending(ctx, "t2")
	require.NoError(t, err)
	assert.Equal(t, `{"turn":2}`, string(got))
}

func testPendingWithTurn(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, items := newConv(t, st, 1)
	call := item(t, `{"type":"function_call","call_id":"c1","name":"rm","arguments":"{}"}`)
	v, err := st.Append(ctx, conv, 1, session.Turn{Items: []responses.Item{call}, ResponseID: "r1", Pending: &session.Pending{ID: "p1", State: []byte(`{"a":1}`)}})
	require.NoError(t, err)
	// A turn whose pending id is taken is refused whole.
	_, err = st.Append(ctx, conv, v, session.Turn{Items: items, ResponseID: "r2", Pending: &session.Pending{ID: "p1", State: []byte(`{}`)}})
	assert.ErrorIs(t, err, session.ErrExists)
	c, err := st.Load(ctx, conv, nil)
	require.NoError(t, err)
	assert.Equal(t, v, c.Version)
	assert.Equal(t, "r1", c.ResponseID)
	requireSame(t, []responses.Item{items[0], call}, c.Items)
	got, err := st.TakePending(ctx, "p1")
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(got))
	// A new conversation with its first turn and a pending continuation.
	_, err = st.Append(ctx, "fresh", 0, session.Turn{Items: items, Pending: &session.Pending{ID: "p2", State: []byte(`{}`)}})
	require.NoError(t, err)
}

func testConcurrentTakes(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, _ := newConv(t, st, 1)
	for round := range 5 {
		id := fmt.Sprintf("p%d", round)
		require.NoError(t, st.PutPending(ctx, conv, id, []byte(id)))
		const takers = 8
		var (
			wg    sync.WaitGroup
			won   = make([]bool, takers)
			start = make(chan struct{})
		)
		for i := range takers {
			wg.Go(func() {
				<-start
				got, err := st.TakePending(ctx, id)
				if errors.Is(err, session.ErrPendingTaken) {
					return
				}
				if assert.NoError(t, err) {
					assert.Equal(t, id, string(got))
					won[i] = true
				}
			})
		}
		close(start)
		wg.Wait()
		n := 0
		for _, w := range won {
			if w {
				n++
			}
		}
		assert.Equal(t, 1, n, "round %d: exactly one take wins", round)
	}
}

func testBranch(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv := session.NewID()
	a := []responses.Item{msg(t, "user", "a0"), msg(t, "assistant", "a1")}
	b := []responses.Item{msg(t, "user", "b0"), msg(t, "assistant", "b1")}
	cmp := []responses.Item{item(t, `{"type":"compaction","encrypted_content":"x"}`)}
	v, err := st.Append(ctx, conv, 0, session.Turn{Items: a, ResponseID: "ra", Meta: []byte(`{"title":"x"}`)})
	require.NoError(t, err)
	v, err = st.Append(ctx, conv, v, session.Turn{Items: b, ResponseID: "rb"})
	require.NoError(t, err)
	_, err = st.Append(ctx, conv, v, session.Turn{Items: cmp, ResponseID: "rc", Compacted: true})
	require.NoError(t, err)

	for _, tc := range []struct {
		n        int64
		response string
		base     int64
	}{{0, "", 0}, {2, "ra", 0}, {3, "rb", 0}, {4, "rb", 0}, {5, "rc", 4}} {
		to := fmt.Sprintf("%s-at-%d", conv, tc.n)
		require.NoError(t, st.Branch(ctx, conv, tc.n, to))
		c, err := st.Load(ctx, to, &session.LoadOptions{History: true})
		require.NoError(t, err)
		assert.Equal(t, int64(1), c.Version, "n=%d", tc.n)
		assert.Equal(t, tc.n, c.Len, "n=%d", tc.n)
		assert.Equal(t, tc.response, c.ResponseID, "n=%d", tc.n)
		assert.Equal(t, tc.base, c.Base, "n=%d", tc.n)
		assert.JSONEq(t, `{"title":"x"}`, string(c.Meta))
		requireSame(t, append(append(append([]responses.Item{}, a...), b...), cmp...)[:tc.n], c.Items)
	}
	// The branch goes its own way; the original is unchanged.
	_, err = st.Append(ctx, conv+"-at-2", 1, session.Turn{Items: b[:1]})
	require.NoError(t, err)
	c, err := st.Load(ctx, conv, &session.LoadOptions{History: true})
	require.NoError(t, err)
	assert.Equal(t, int64(5), c.Len)
	assert.Equal(t, int64(3), c.Version)

	assert.ErrorIs(t, st.Branch(ctx, conv, 1, conv+"-at-2"), session.ErrExists)
	assert.ErrorContains(t, st.Branch(ctx, conv, 6, "beyond"), "it has 5 items")
	assert.ErrorContains(t, st.Branch(ctx, conv, -1, "before"), "it has 5 items")
}

func testDelete(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	conv, _ := newConv(t, st, 3)
	keep, keepItems := newConv(t, st, 2)
	require.NoError(t, st.PutPending(ctx, conv, "p-del", []byte("x")))
	require.NoError(t, st.PutPending(ctx, keep, "p-keep", []byte("y")))
	require.NoError(t, st.Delete(ctx, conv))
	assert.ErrorIs(t, st.Delete(ctx, conv), session.ErrNotFound)
	c, err := st.Load(ctx, conv, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(0), c.Version)
	assert.Empty(t, c.Items)
	_, err = st.TakePending(ctx, "p-del")
	assert.ErrorIs(t, err, session.ErrNotFound)
	got, err := st.TakePending(ctx, "p-keep")
	require.NoError(t, err)
	assert.Equal(t, "y", string(got))
	c, err = st.Load(ctx, keep, nil)
	require.NoError(t, err)
	requireSame(t, keepItems, c.Items)
	// The id can be used again.
	_, items := newConv(t, st, 0)
	_, err = st.Append(ctx, conv, 0, session.Turn{Items: items})
	require.NoError(t, err)
}

func testList(t *testing.T, s Suite) {
	st, ctx := s.New(t), t.Context()
	var ids []string
	for i := range 3 {
		id, _ := newConv(t, st, i+1)
		ids = append(ids, id)
		time.Sleep(3 * time.Millisecond) // distinct update times
	}
	_, err := st.Append(ctx, ids[0], 1, session.Turn{Items: []responses.Item{msg(t, "user", "again")}, Meta: []byte(`{"t":1}`)})
	require.NoError(t, err)
	list, err := st.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []string{ids[0], ids[2], ids[1]}, []string{list[0].ID, list[1].ID, list[2].ID})
	assert.Equal(t, int64(2), list[0].Len)
	assert.Equal(t, int64(2), list[0].Version)
	assert.JSONEq(t, `{"t":1}`, string(list[0].Meta))
	assert.Equal(t, int64(3), list[1].Len)
	list, err = st.List(ctx, &session.ListOptions{Limit: 2})
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

// Crash test: the child appends turns of crashTurn items in a loop and
// prints "begin V D" before each append (V the version it appends at, D how
// long the previous append took in nanoseconds) and "end V" after it. The
// parent kills it with SIGKILL half an append after a "begin".
const (
	crashTurn     = 2000
	crashItemSize = 1500
)

func crashItems(v int64) []responses.Item {
	items := make([]responses.Item, crashTurn)
	pad := strings.Repeat("z", crashItemSize)
	for i := range items {
		b := fmt.Appendf(nil, `{"type":"message","role":"assistant","content":"v%d i%d %s"}`, v, i, pad)
		_ = items[i].UnmarshalJSON(b)
	}
	return items
}

func crashChild(t *testing.T, s Suite, addr string) {
	go func() { // the parent holds our stdin: when it goes, so do we
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	ctx := context.Background()
	st, err := s.Open(ctx, addr)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var took time.Duration
	for v := int64(0); ; v++ {
		items := crashItems(v)
		fmt.Printf("begin %d %d\n", v, took)
		start := time.Now()
		if _, err := st.Append(ctx, "crash", v, session.Turn{Items: items, ResponseID: fmt.Sprintf("resp_%d", v)}); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		took = time.Since(start)
		fmt.Printf("end %d\n", v)
	}
}

func testCrash(t *testing.T, s Suite) {
	if s.Shared == nil || s.Open == nil {
		msg := s.NoCrash
		if msg == "" {
			msg = "Suite.Shared and Suite.Open are not set"
		}
		t.Skip("no crash test: " + msg)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	midAppend := 0
	for attempt := 0; attempt < 5 && midAppend < 2; attempt++ {
		st, addr := s.Shared(t)
		killedAt := runCrashChild(t, exe, strings.Join(pattern, "/"), addr)
		if killedAt >= 0 {
			midAppend++
		}
		c, err := st.Load(t.Context(), "crash", nil)
		require.NoError(t, err, "load after the crash")
		require.Equal(t, c.Version*crashTurn, c.Len, "whole turns only")
		if killedAt >= 0 {
			assert.Contains(t, []int64{killedAt, killedAt + 1}, c.Version, "the state before or after the killed append")
		}
		for v := range c.Version {
			want := crashItems(v)
			for _, i := range []int{0, crashTurn / 2, crashTurn - 1} {
				require.Equal(t, string(want[i].Raw()), string(c.Items[v*crashTurn+int64(i)].Raw()))
			}
		}
		if c.Version > 0 {
			assert.Equal(t, fmt.Sprintf("resp_%d", c.Version-1), c.ResponseID)
		}
		// The store still works after the crash.
		_, err = st.Append(t.Context(), "crash", c.Version, session.Turn{Items: crashItems(c.Version)[:1]})
		require.NoError(t, err)
		t.Logf("attempt %d: killed during the append at version %d; the conversation is at version %d (%d items)", attempt, killedAt, c.Version, c.Len)
	}
	require.GreaterOrEqual(t, midAppend, 2, "the child was never killed in the middle of an append")
}

// runCrashChild runs the child until it reports its third append, kills it
// half an append later and returns the version of the append it was in
// (-1 if it had finished it).
func runCrashChild(t *testing.T, exe, pattern, addr string) int64 {
	cmd := exec.Command(exe, "-test.run="+pattern, "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), crashEnv+"="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	defer func() {
		_ = stdin.Close()
		if !killed {
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	var last string
	for sc.Scan() {
		last = sc.Text()
		f := strings.Fields(last)
		if len(f) == 0 {
			continue
		}
		if f[0] == "error" {
			t.Fatalf("crash child: %s", last)
		}
		if f[0] != "begin" || len(f) != 3 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		took, _ := strconv.ParseInt(f[2], 10, 64)
		if v < 2 {
			continue
		}
		time.Sleep(time.Duration(took) / 2)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		killed = true
		rest, _ := io.ReadAll(out)
		if bytes.Contains(rest, []byte(fmt.Sprintf("end %d\n", v))) {
			return -1
		}
		return v
	}
	t.Fatalf("crash child ended before its third append (last line %q, %v)", last, sc.Err())
	return -1
}
