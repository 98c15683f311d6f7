package mcp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSession is a session whose calls answer with call.
type fakeSession struct {
	tools  []toolInfo
	call   func(ctx context.Context, name string) (*mcpgo.CallToolResult, error)
	closed atomic.Bool
}

func (f *fakeSession) ListTools(context.Context) ([]toolInfo, error) { return f.tools, nil }
func (f *fakeSession) CallTool(ctx context.Context, name string, _ map[string]any, _ callMeta) (*mcpgo.CallToolResult, error) {
	return f.call(ctx, name)
}
func (f *fakeSession) Close() error { f.closed.Store(true); return nil }

// fakeDialer dials fake sessions made by next, counting dials.
type fakeDialer struct {
	mu    sync.Mutex
	dials int
	next  func(n int) (*fakeSession, error)
	made  []*fakeSession
}

func (d *fakeDialer) dial(context.Context, *server, sessionHooks) (*dialed, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dials++
	s, err := d.next(d.dials)
	if err != nil {
		return nil, err
	}
	d.made = append(d.made, s)
	return &dialed{sess: s}, nil
}

var transportErr = transport.NewError(errors.New("broken pipe"))

func TestFakeSessionFailures(t *testing.T) {
	checkLeaks(t)
	echo := []toolInfo{{Name: "echo"}}
	for _, tc := range []struct {
		name      string
		call      func(n int) func(ctx context.Context, name string) (*mcpgo.CallToolResult, error)
		dialErr   func(n int) error
		wantFirst string // error of the first call
		wantDials int    // after the second call
		second    string // error of the second call, "" for success
	}{
		{
			name: "json-rpc error keeps the server",
			call: func(int) func(context.Context, string) (*mcpgo.CallToolResult, error) {
				return func(context.Context, string) (*mcpgo.CallToolResult, error) {
					return nil, &rpcError{fmt.Errorf("%w: unknown tool", mcpgo.ErrMethodNotFound)}
				}
			},
			wantFirst: `mcp server "f" rejected the call of tool "echo": method not found: unknown tool`,
			wantDials: 1,
			second:    "rejected",
		},
		{
			name: "transport error restarts",
			call: func(n int) func(context.Context, string) (*mcpgo.CallToolResult, error) {
				return func(context.Context, string) (*mcpgo.CallToolResult, error) {
					if n == 1 {
						return nil, transportErr
					}
					return mcpgo.NewToolResultText("ok"), nil
				}
			},
			wantFirst: "failed during the call",
			wantDials: 2,
		},
		{
			name: "restart that fails is reported and retried later",
			call: func(int) func(context.Context, string) (*mcpgo.CallToolResult, error) {
				return func(context.Context, string) (*mcpgo.CallToolResult, error) { return nil, transportErr }
			},
			dialErr: func(n int) error {
				if n == 2 {
					return errors.New("exec: no such file")
				}
				return nil
			},
			wantFirst: "failed during the call",
			wantDials: 2,
			second:    "restart failed (will retry): exec: no such file",
		},
		{
			name: "a server ignoring cancellation still returns at the timeout",
			call: func(int) func(context.Context, string) (*mcpgo.CallToolResult, error) {
				return func(ctx context.Context, _ string) (*mcpgo.CallToolResult, error) {
					<-ctx.Done()
					return nil, transport.NewError(ctx.Err())
				}
			},
			wantFirst: "timed out after 100ms",
			wantDials: 1,
			second:    "timed out",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDialer{next: func(n int) (*fakeSession, error) {
				if tc.dialErr != nil {
					if err := tc.dialErr(n); err != nil {
						return nil, err
					}
				}
				return &fakeSession{tools: echo, call: tc.call(n)}, nil
			}}
			set, err := connect(t.Context(), &Config{Servers: map[string]ServerConfig{"f": {Command: "fake"}}},
				&Options{RestartBackoff: time.Millisecond, CallTimeout: 100 * time.Millisecond}, d.dial)
			require.NoError(t, err)
			defer set.Close()
			tl := toolByName(t, set, "f__echo")
			_, err = callText(t.Context(), t, tl, `{}`)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantFirst)
			out, err := callText(t.Context(), t, tl, `{}`)
			if tc.second == "" {
				require.NoError(t, err)
				assert.Equal(t, "ok", out)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.second)
			}
			d.mu.Lock()
			assert.Equal(t, tc.wantDials, d.dials)
			if tc.wantDials > 1 {
				assert.True(t, d.made[0].closed.Load(), "the failed session is closed")
			}
			d.mu.Unlock()
		})
	}
}

func TestFakeCancelledRun(t *testing.T) {
	d := &fakeDialer{next: func(int) (*fakeSession, error) {
		return &fakeSession{tools: []toolInfo{{Name: "wait"}}, call: func(ctx context.Context, _ string) (*mcpgo.CallToolResult, error) {
			<-ctx.Done()
			return nil, transport.NewError(ctx.Err())
		}}, nil
	}}
	set, err := connect(t.Context(), &Config{Servers: map[string]ServerConfig{"f": {Command: "fake"}}}, nil, d.dial)
	require.NoError(t, err)
	defer set.Close()
	wait := toolByName(t, set, "f__wait")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = callText(ctx, t, wait, "")
	require.ErrorIs(t, err, context.DeadlineExceeded, "the run's own context ending is reported as such")
	assert.Equal(t, StateRunning, set.Servers()[0].State, "a cancelled run does not count as a server failure")
	require.NoError(t, set.Close())
	_, err = callText(t.Context(), t, wait, "")
	assert.ErrorContains(t, err, "closed")
}
