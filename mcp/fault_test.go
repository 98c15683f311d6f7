package mcp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// fnCall returns the tools.Call of a function_call item.
func fnCall(name, args string) tools.Call {
	it := responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "call_" + name, Name: name, Arguments: args})
	return tools.NewCall(it)
}

// outputText returns the string output of a function_call_output item.
func outputText(t *testing.T, it responses.Item) string {
	t.Helper()
	var out responses.FunctionCallOutput
	require.NoError(t, it.Decode(&out))
	var s string
	require.NoError(t, jsonUnmarshal(out.Output, &s), "output %s", out.Output)
	return s
}

// toolByName finds a tool of set by its model name.
func toolByName(t *testing.T, set *Set, name string) *Tool {
	t.Helper()
	ts, err := set.Tools(t.Context())
	require.NoError(t, err)
	var names []string
	for _, tl := range ts {
		if tl.(*Tool).Name() == name {
			return tl.(*Tool)
		}
		names = append(names, tl.(*Tool).Name())
	}
	t.Fatalf("no tool %q in %v", name, names)
	return nil
}

// callText calls the tool and returns its text output and its error. An
// isError result has both; the test fails unless the error then wraps
// ErrToolFailed.
func callText(ctx context.Context, t *testing.T, tl *Tool, args string) (string, error) {
	t.Helper()
	it, err := tl.Call(ctx, fnCall(tl.Name(), args))
	if it.IsZero() {
		require.Error(t, err, "a zero item comes with an error")
		return "", err
	}
	out := outputText(t, it)
	if strings.HasPrefix(out, "error: ") {
		require.ErrorIs(t, err, ErrToolFailed, "an isError output comes with ErrToolFailed")
	} else {
		require.NoError(t, err)
	}
	return out, err
}

// checkLeaks verifies, after the test's other cleanups (which close its
// sets), that the test left no goroutine behind.
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func connectTest(t *testing.T, cfg *Config, opts *Options) *Set {
	t.Helper()
	set, err := Connect(t.Context(), cfg, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = set.Close() })
	return set
}

func TestStdioEchoAndProgress(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, nil)

	out, err := callText(t.Context(), t, toolByName(t, set, "test__echo"), `{"text":"hello"}`)
	require.NoError(t, err)
	assert.Equal(t, "hello", out)

	var (
		mu  sync.Mutex
		got []tools.Progress
	)
	call := fnCall("test__progress", "")
	call.Progress = func(p tools.Progress) { mu.Lock(); got = append(got, p); mu.Unlock() }
	it, err := toolByName(t, set, "test__progress").Call(t.Context(), call)
	require.NoError(t, err)
	assert.Equal(t, "done", outputText(t, it))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	assert.Equal(t, tools.Progress{Message: "step 3", Progress: 3, Total: 3}, got[2])
	mu.Unlock()

	out, err = callText(t.Context(), t, toolByName(t, set, "test__fail"), `{}`)
	assert.ErrorIs(t, err, ErrToolFailed)
	assert.Equal(t, tools.OutcomeError, tools.OutcomeOf(err))
	assert.Equal(t, "error: disk full", out)

	weather := toolByName(t, set, "test__weather")
	it, sc, err := weather.CallStructured(t.Context(), fnCall("test__weather", `{}`))
	require.NoError(t, err)
	assert.Equal(t, "21.5 degrees", outputText(t, it), "the model gets the content")
	assert.JSONEq(t, `{"temperature":21.5}`, string(sc), "Go gets structuredContent")
	it, _, err = weather.CallStructured(t.Context(), fnCall("test__weather", `{"bad":true}`))
	assert.ErrorIs(t, err, ErrOutputSchema)
	assert.True(t, it.IsZero(), "a result that breaks its schema is not shown")

	assert.Contains(t, set.Instructions(), "Use echo to echo.")
	require.NoError(t, set.Close())
	require.NoError(t, set.Close(), "Close is idempotent")
}

func TestCrashMidCallThenRestart(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}},
		&Options{CallTimeout: 20 * time.Second, RestartBackoff: 50 * time.Millisecond})

	pid1, err := callText(t.Context(), t, toolByName(t, set, "test__pid"), "")
	require.NoError(t, err)

	start := time.Now()
	_, err = callText(t.Context(), t, toolByName(t, set, "test__crash"), "")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "a crash must not wait for the call timeout")
	assert.Contains(t, err.Error(), "failed during the call")
	assert.Contains(t, err.Error(), "panic: crash tool called", "the stderr tail is shown")
	assert.Contains(t, err.Error(), "restarted")

	pid2, err := callText(t.Context(), t, toolByName(t, set, "test__pid"), "")
	require.NoError(t, err, "the next call works after the restart")
	assert.NotEqual(t, pid1, pid2)
	p1, _ := strconv.Atoi(pid1)
	assert.Eventually(t, func() bool { return processGone(p1) }, 5*time.Second, 10*time.Millisecond, "the crashed server is reaped")
	assert.Equal(t, StateRunning, set.Servers()[0].State)
}

func TestRepeatedCrashesDisable(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}},
		&Options{MaxRestarts: 2, RestartBackoff: 10 * time.Millisecond})
	crash := toolByName(t, set, "test__crash")
	echo := toolByName(t, set, "test__echo")
	for range 3 {
		_, err := callText(t.Context(), t, crash, "")
		require.Error(t, err)
	}
	_, err := callText(t.Context(), t, echo, `{"text":"x"}`)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrDisabled)
	assert.Contains(t, err.Error(), "failing 3 times")
	st := set.Servers()[0]
	assert.Equal(t, StateDisabled, st.State)
	ts, err := set.Tools(t.Context())
	require.NoError(t, err)
	assert.Empty(t, ts, "a disabled server offers no tools")
}

func TestSlowToolCancelled(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		cancel  bool
		want    string
	}{
		{"timeout", 300 * time.Millisecond, false, "timed out after 300ms"},
		{"context", time.Minute, true, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := filepath.Join(t.TempDir(), "mark")
			set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve", testMarkEnv+"="+mark)}},
				&Options{CallTimeout: tc.timeout})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancel {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			start := time.Now()
			_, err := callText(ctx, t, toolByName(t, set, "test__slow"), "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Less(t, time.Since(start), 10*time.Second)
			assert.Eventually(t, func() bool {
				b, _ := os.ReadFile(mark)
				return string(b) == "cancelled"
			}, 10*time.Second, 20*time.Millisecond, "the server sees the cancellation")
			out, err := callText(t.Context(), t, toolByName(t, set, "test__echo"), `{"text":"still here"}`)
			require.NoError(t, err)
			assert.Equal(t, "still here", out, "a cancelled call does not kill the server")
		})
	}
}

func TestFailingServerDoesNotStopOthers(t *testing.T) {
	checkLeaks(t)
	cfg := &Config{Servers: map[string]ServerConfig{
		"good":    testServer(t, "serve"),
		"early":   testServer(t, "exit-early"),
		"hang":    testServer(t, "hang"),
		"missing": {Command: filepath.Join(t.TempDir(), "no-such-server")},
	}}
	cfg.Servers["hang"] = withStartup(cfg.Servers["hang"], 500*time.Millisecond)
	start := time.Now()
	set, err := Connect(t.Context(), cfg, nil)
	require.NotNil(t, set)
	defer set.Close()
	require.Error(t, err)
	assert.Less(t, time.Since(start), 15*time.Second, "servers start concurrently")

	var se *ServerError
	require.ErrorAs(t, err, &se)
	msg := err.Error()
	assert.Contains(t, msg, `mcp server "early"`)
	assert.Contains(t, msg, "fatal: no workspace given", "stderr tail")
	assert.Contains(t, msg, `mcp server "early": exited during start-up (exit status 1)`)
	assert.Contains(t, msg, `mcp server "hang"`)
	assert.Contains(t, msg, "no answer within 500ms")
	assert.Contains(t, msg, `mcp server "missing"`)
	assert.NotContains(t, msg, `"good"`)

	out, err := callText(t.Context(), t, toolByName(t, set, "good__echo"), `{"text":"ok"}`)
	require.NoError(t, err)
	assert.Equal(t, "ok", out)
	states := map[string]string{}
	for _, st := range set.Servers() {
		states[st.Name] = st.State
	}
	assert.Equal(t, map[string]string{"good": StateRunning, "early": StateDisabled, "hang": StateDisabled, "missing": StateDisabled}, states)
}

// TestStartupExitReported: a server that exits during start-up is reported
// as exited, with its exit status and stderr tail, at once; never as "no
// answer" (the exit used to race the initialize error).
func TestStartupExitReported(t *testing.T) {
	checkLeaks(t)
	cfg := &Config{Servers: map[string]ServerConfig{}}
	for i := range 8 {
		cfg.Servers[fmt.Sprintf("boom%d", i)] = ServerConfig{Command: "sh", Args: []string{"-c", "echo boom >&2; exit 3"}}
	}
	start := time.Now()
	set, err := Connect(t.Context(), cfg, nil)
	require.NotNil(t, set)
	defer set.Close()
	assert.Less(t, time.Since(start), 10*time.Second)
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	require.Len(t, errs, 8)
	for _, err := range errs {
		var se *ServerError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "exited during start-up (exit status 3)", se.Err.Error())
		assert.Equal(t, "boom", se.Stderr)
		assert.NotContains(t, err.Error(), "no answer")
	}
}

func withStartup(sc ServerConfig, d time.Duration) ServerConfig {
	sc.StartupTimeout = Duration(d)
	return sc
}

func TestCloseReapsEveryProcess(t *testing.T) {
	checkLeaks(t)
	set, err := Connect(t.Context(), &Config{Servers: map[string]ServerConfig{
		"a":        testServer(t, "serve"),
		"stubborn": testServer(t, "stubborn"),
	}}, nil)
	require.NoError(t, err)
	var pids []int
	for _, name := range []string{"a__pid", "stubborn__pid"} {
		out, err := callText(t.Context(), t, toolByName(t, set, name), "")
		require.NoError(t, err)
		pid, _ := strconv.Atoi(out)
		pids = append(pids, pid)
	}
	out, err := callText(t.Context(), t, toolByName(t, set, "a__spawn"), "")
	require.NoError(t, err)
	grandchild, _ := strconv.Atoi(out)
	for _, st := range set.Servers() {
		assert.NotZero(t, st.PID)
	}

	start := time.Now()
	require.NoError(t, set.Close())
	assert.Less(t, time.Since(start), 8*time.Second, "Close is bounded even when a server ignores stdin and SIGTERM")
	for _, pid := range pids {
		assert.True(t, processGone(pid), "server %d is reaped", pid)
	}
	assert.Eventually(t, func() bool { return processDead(grandchild) }, 5*time.Second, 20*time.Millisecond, "the server's own children are killed")

	_, err = callText(t.Context(), t, &Tool{srv: set.servers[0], info: toolInfo{Name: "echo"}, name: "a__echo"}, `{"text":"x"}`)
	require.Error(t, err, "calls after Close fail")
}

func TestListChangedRefreshesTools(t *testing.T) {
	checkLeaks(t)
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, nil)
	_, err := callText(t.Context(), t, toolByName(t, set, "test__add_tool"), `{"name":"late"}`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ts, err := set.Tools(t.Context())
		require.NoError(t, err)
		for _, tl := range ts {
			if tl.(*Tool).Name() == "test__late" {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond)
	out, err := callText(t.Context(), t, toolByName(t, set, "test__late"), "")
	require.NoError(t, err)
	assert.Equal(t, "I am late", out)
}

func TestBadArguments(t *testing.T) {
	set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, nil)
	echo := toolByName(t, set, "test__echo")
	for _, tc := range []struct{ name, args, want string }{
		{"not json", `{"text":`, "not valid JSON"},
		{"array", `[1]`, "must be a JSON object, got an array"},
		{"two values", `{} {}`, "single JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := callText(t.Context(), t, echo, tc.args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLargeResultCapped(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		name string
		max  int
		want int // output length bound; 0 means uncapped
	}{
		{"default", 0, 32 << 10},
		{"custom", 1000, 1000},
		{"uncapped", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := connectTest(t, &Config{Servers: map[string]ServerConfig{"test": testServer(t, "serve")}}, &Options{MaxOutputBytes: tc.max})
			out, err := callText(t.Context(), t, toolByName(t, set, "test__big"), "")
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(out, "BEGIN"))
			assert.True(t, strings.HasSuffix(out, "END"))
			if tc.want == 0 {
				assert.Len(t, out, 100000)
			} else {
				assert.LessOrEqual(t, len(out), tc.want)
				assert.Contains(t, out, "bytes dropped")
			}
			require.NoError(t, set.Close())
		})
	}
}
