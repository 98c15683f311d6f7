package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func functionCall(name, args string) tools.Call {
	return tools.NewCall(responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, ID: "fc_1", CallID: "call_1", Name: name, Arguments: args}))
}

func customCall(name, input string) tools.Call {
	return tools.NewCall(responses.MustItem(responses.CustomToolCall{Type: responses.TypeCustomToolCall, ID: "ctc_1", CallID: "call_2", Name: name, Input: input}))
}

// output decodes the output field of an output item.
func output(t *testing.T, it responses.Item) json.RawMessage {
	t.Helper()
	var o struct {
		Output json.RawMessage `json:"output"`
	}
	require.NoError(t, it.Decode(&o))
	return o.Output
}

func textOutput(t *testing.T, it responses.Item) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(output(t, it), &s), "output is a string")
	return s
}

type weatherArgs struct {
	City  string  `json:"city" jsonschema:"the city"`
	Units *string `json:"units,omitempty" jsonschema:"enum=c,enum=f"`
	Days  int     `json:"days,omitempty" jsonschema:"minimum=1,maximum=7"`
}

type forecast struct {
	City  string `json:"city"`
	Temps []int  `json:"temps"`
}

func weather(_ context.Context, a weatherArgs) (forecast, error) {
	days := max(a.Days, 1)
	f := forecast{City: a.City}
	for i := range days {
		f.Temps = append(f.Temps, 20+i)
	}
	if a.Units != nil && *a.Units == "f" {
		for i := range f.Temps {
			f.Temps[i] = f.Temps[i]*9/5 + 32
		}
	}
	return f, nil
}

func TestCallResults(t *testing.T) {
	type none struct{}
	for _, tc := range []struct {
		name string
		tool *Tool
		call tools.Call
		want string // the output field, as JSON
	}{
		{"struct result is JSON text", New("weather", "", weather, nil), functionCall("weather", `{"city":"Paris","units":"f","days":2}`),
			`"{\"city\":\"Paris\",\"temps\":[68,69]}"`},
		{"null optional field", New("weather", "", weather, nil), functionCall("weather", `{"city":"Oslo","units":null,"days":null}`),
			`"{\"city\":\"Oslo\",\"temps\":[20]}"`},
		{"string result is text", New("echo", "", func(_ context.Context, a struct {
			S string `json:"s"`
		}) (string, error) {
			return a.S, nil
		}, nil), functionCall("echo", `{"s":"hi \"there\""}`), `"hi \"there\""`},
		{"named string type is text", New("kind", "", func(context.Context, none) (time.Month, error) { return 0, nil }, nil),
			functionCall("kind", `{}`), `"0"`},
		{"no-arg tool with empty arguments", New("now", "", func(context.Context, none) (string, error) { return "noon", nil }, nil),
			functionCall("now", ``), `"noon"`},
		{"content parts", New("shot", "", func(context.Context, none) ([]responses.ContentPart, error) {
			return []responses.ContentPart{responses.InputText("look:"), {Type: "input_image", ImageURL: "data:image/png;base64,AAAA", Detail: "auto"}}, nil
		}, nil), functionCall("shot", `{}`),
			`[{"type":"input_text","text":"look:"},{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"auto"}]`},
		{"HTML characters are not escaped", New("html", "", func(context.Context, none) (map[string]string, error) {
			return map[string]string{"tag": "<b>&</b>"}, nil
		}, nil),
			functionCall("html", `{}`), `"{\"tag\":\"<b>&</b>\"}"`},
		{"nil map result", New("nil", "", func(context.Context, none) (map[string]int, error) { return nil, nil }, nil),
			functionCall("nil", `{}`), `"null"`},
		{"raw tool", NewRaw("raw", "", json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`),
			func(_ context.Context, args json.RawMessage) (any, error) { return args, nil }, nil),
			functionCall("raw", `{"n": 3}`), `"{\"n\": 3}"`},
		{"custom tool", NewCustom("shout", "", func(_ context.Context, in string) (string, error) { return strings.ToUpper(in), nil }, nil),
			customCall("shout", "not {json}"), `"NOT {JSON}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it, err := tc.tool.Call(t.Context(), tc.call)
			require.NoError(t, err)
			wantType := responses.TypeFunctionCallOutput
			if tc.call.Type == responses.TypeCustomToolCall {
				wantType = responses.TypeCustomToolCallOutput
			}
			assert.Equal(t, wantType, it.Type)
			assert.Equal(t, tc.call.CallID, it.CallID)
			assert.Empty(t, it.ID, "outputs carry no id")
			assert.JSONEq(t, tc.want, string(output(t, it)))
		})
	}
}

func TestCallCopiesCaller(t *testing.T) {
	tool := New("echo", "", func(context.Context, struct{}) (string, error) { return "ok", nil }, nil)
	call := tools.NewCall(responses.MustItem(responses.FunctionCall{Type: responses.TypeFunctionCall, CallID: "call_9", Name: "echo", Arguments: "{}",
		Caller: json.RawMessage(`{"type":"programmatic","id":"ci_1"}`)}))
	it, err := tool.Call(t.Context(), call)
	require.NoError(t, err)
	var o responses.FunctionCallOutput
	require.NoError(t, it.Decode(&o))
	assert.JSONEq(t, `{"type":"programmatic","id":"ci_1"}`, string(o.Caller))
}

func TestCallFailures(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &logMu, w: &logs}, nil))
	ran := 0
	counting := func(ctx context.Context, a weatherArgs) (forecast, error) { ran++; return weather(ctx, a) }
	for _, tc := range []struct {
		name   string
		tool   *Tool
		call   tools.Call
		want   string // substring of the error
		notRun bool   // the function must not have run
	}{
		{"invalid JSON", New("weather", "", counting, nil), functionCall("weather", `{"city":`), "invalid arguments: not valid JSON", true},
		{"not an object", New("weather", "", counting, nil), functionCall("weather", `["Paris"]`), "invalid arguments: not a JSON object", true},
		{"trailing garbage", New("weather", "", counting, nil), functionCall("weather", `{"city":"a"} x`), "invalid arguments: not valid JSON", true},
		{"missing field", New("weather", "", counting, nil), functionCall("weather", `{"units":"c","days":1}`), "invalid arguments: missing property 'city'", true},
		{"wrong type", New("weather", "", counting, nil), functionCall("weather", `{"city":3,"units":"c","days":1}`), "invalid arguments: city: got number, want string", true},
		{"enum violated", New("weather", "", counting, nil), functionCall("weather", `{"city":"a","units":"k","days":1}`), `invalid arguments: units: got "k", want one of "c", "f", null`, true},
		{"minimum violated", New("weather", "", counting, nil), functionCall("weather", `{"city":"a","units":"c","days":0}`), "invalid arguments: days: minimum", true},
		{"extra field", New("weather", "", counting, nil), functionCall("weather", `{"city":"a","units":"c","days":1,"x":1}`), "invalid arguments: additional properties 'x' not allowed", true},
		{"nested path", New("nested", "", func(context.Context, nestedArgs) (string, error) { ran++; return "", nil }, nil),
			functionCall("nested", `{"home":{"street":"a","zip":null},"work":null,"others":[{"street":"b","zip":null},{"street":1,"zip":null}],"since":"2026-01-01T00:00:00Z","numbers":null}`),
			"invalid arguments: others[1].street: got number, want string", true},
		{"bad date-time", New("nested", "", func(context.Context, nestedArgs) (string, error) { ran++; return "", nil }, nil),
			functionCall("nested", `{"home":{"street":"a","zip":null},"work":null,"others":[],"since":"yesterday","numbers":null}`),
			"invalid arguments: since: 'yesterday' is not valid date-time", true},
		{"go decode error", New("small", "", func(context.Context, struct {
			N int8 `json:"n"`
		}) (string, error) {
			ran++
			return "", nil
		}, nil), functionCall("small", `{"n":1000}`), "invalid arguments: json: cannot unmarshal number 1000", true},
		{"function error", New("fail", "", func(context.Context, struct{}) (string, error) { return "", errors.New("no such city") }, nil),
			functionCall("fail", `{}`), "no such city", false},
		{"panic", New("boom", "", func(context.Context, struct{}) (string, error) { panic("secret internals") }, &Options{Logger: logger}),
			functionCall("boom", `{}`), "the tool crashed (internal error)", false},
		{"timeout with wrapped error", New("slow", "", func(ctx context.Context, _ struct{}) (string, error) {
			<-ctx.Done()
			return "", fmt.Errorf("query: %w", ctx.Err())
		}, &Options{Timeout: 20 * time.Millisecond}), functionCall("slow", `{}`), "timed out after 20ms", false},
		{"goexit", New("exit", "", func(context.Context, struct{}) (string, error) { runtime.Goexit(); return "", nil }, nil),
			functionCall("exit", `{}`), "the tool exited without a result", false},
		{"unencodable result", New("chan", "", func(context.Context, struct{}) (chan int, error) { return nil, nil }, nil),
			functionCall("chan", `{}`), "encode result: json: unsupported type: chan int", false},
		{"result too large", New("big", "", func(context.Context, struct{}) (string, error) { return strings.Repeat("x", maxOutput+1), nil }, nil),
			functionCall("big", `{}`), "result too large", false},
		{"custom call to function tool", New("weather", "", counting, nil), customCall("weather", "Paris"), `function tool "weather" cannot answer a custom_tool_call item`, true},
		{"function call to custom tool", NewCustom("c", "", func(context.Context, string) (string, error) { ran++; return "", nil }, nil),
			functionCall("c", `{}`), `custom tool "c" cannot answer a function_call item`, true},
		{"custom error", NewCustom("c", "", func(context.Context, string) (string, error) { return "", errors.New("syntax error at 1:3") }, nil),
			customCall("c", "x"), "syntax error at 1:3", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran = 0
			it, err := tc.tool.Call(t.Context(), tc.call)
			require.Error(t, err)
			assert.True(t, it.IsZero())
			assert.Contains(t, err.Error(), tc.want)
			if tc.notRun {
				assert.Zero(t, ran, "the function ran")
			}
			// The loop turns the error into an output the model reads.
			out := tools.FailedOutput(tc.call, err)
			assert.Contains(t, textOutput(t, out), "error: ")
		})
	}
	logMu.Lock()
	defer logMu.Unlock()
	assert.Contains(t, logs.String(), "function tool panicked")
	assert.Contains(t, logs.String(), "secret internals", "the panic value is logged")
	assert.Contains(t, logs.String(), "function_test.go", "the stack is logged")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestPanicNotShownToModel(t *testing.T) {
	tool := New("boom", "", func(context.Context, struct{}) (string, error) { panic("password=hunter2") }, nil)
	_, err := tool.Call(t.Context(), functionCall("boom", `{}`))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "goroutine")
}

func TestCallCancelled(t *testing.T) {
	started := make(chan struct{})
	tool := New("wait", "", func(ctx context.Context, _ struct{}) (string, error) {
		close(started)
		<-ctx.Done()
		return "", ctx.Err()
	}, &Options{Timeout: -1})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-started; cancel() }()
	_, err := tool.Call(ctx, functionCall("wait", `{}`))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, context.Canceled, err, "the run's ctx.Err() itself")

	// A function that swallows the cancellation still yields ctx.Err().
	tool = New("swallow", "", func(ctx context.Context, _ struct{}) (string, error) {
		<-ctx.Done()
		return "", errors.New("gave up")
	}, nil)
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = tool.Call(ctx, functionCall("swallow", `{}`))
	assert.Equal(t, context.Canceled, err)
}

func TestTimeouts(t *testing.T) {
	waitForCtx := func(ctx context.Context, _ struct{}) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		want    time.Duration // when Call returns, in the bubble's fake time
		wantErr string
	}{
		{"default", 0, DefaultTimeout, "timed out after 1m0s"},
		{"explicit", 5 * time.Second, 5 * time.Second, "timed out after 5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tool := New("wait", "", waitForCtx, &Options{Timeout: tc.timeout})
				start := time.Now()
				_, err := tool.Call(t.Context(), functionCall("wait", `{}`))
				assert.Equal(t, tc.want, time.Since(start))
				assert.EqualError(t, err, tc.wantErr)
			})
		})
	}

	t.Run("negative means none", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tool := New("sleep", "", func(ctx context.Context, _ struct{}) (string, error) {
				select {
				case <-time.After(24 * time.Hour):
					return "rested", nil
				case <-ctx.Done():
					return "", ctx.Err()
				}
			}, &Options{Timeout: -1})
			it, err := tool.Call(t.Context(), functionCall("sleep", `{}`))
			require.NoError(t, err)
			assert.Equal(t, "rested", textOutput(t, it))
		})
	})
}

func TestCallAbandonsStuckFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var logs bytes.Buffer
		var mu sync.Mutex
		tool := New("stuck", "", func(context.Context, struct{}) (string, error) {
			<-release // ignores its context
			return "late", nil
		}, &Options{Timeout: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logs}, nil))})
		start := time.Now()
		_, err := tool.Call(t.Context(), functionCall("stuck", `{}`))
		assert.Equal(t, 10*time.Second+abandonAfter, time.Since(start), "gives up a grace period after the timeout")
		assert.EqualError(t, err, "timed out after 10s")
		close(release)
		synctest.Wait()
		mu.Lock()
		assert.Contains(t, logs.String(), "ignored cancellation")
		mu.Unlock()
	})
}

func TestCallAbandonedOnCancelReturnsCtxErr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		tool := New("stuck", "", func(context.Context, struct{}) (string, error) {
			<-release
			return "late", nil
		}, &Options{Timeout: -1})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		_, err := tool.Call(ctx, functionCall("stuck", `{}`))
		assert.Equal(t, time.Second+abandonAfter, time.Since(start))
		assert.Equal(t, context.Canceled, err)
		close(release)
		synctest.Wait()
	})
}

func TestSummary(t *testing.T) {
	assert.Equal(t, `pay {"to":"bob"}`, summary("pay", "{\n  \"to\": \"bob\"\n}"))
	assert.Equal(t, "sql SELECT 1 FROM t", summary("sql", "SELECT 1\n\tFROM   t"))
	long := summary("w", strings.Repeat("é", 300))
	assert.Equal(t, "w "+strings.Repeat("é", 200)+"…", long)
}

func TestReview(t *testing.T) {
	type payArgs struct {
		To     string `json:"to"`
		Amount int    `json:"amount"`
	}
	pay := func(context.Context, payArgs) (string, error) { return "paid", nil }
	for _, tc := range []struct {
		name string
		tool *Tool
		call tools.Call
		want tools.Decision
	}{
		{"no approval by default", New("pay", "", pay, nil), functionCall("pay", `{"to":"bob","amount":5}`), tools.Allow},
		{"always", New("pay", "", pay, &Options{NeedsApproval: Always}), functionCall("pay", `{"to":"bob","amount":5}`), tools.Ask},
		{"if: small", New("pay", "", pay, &Options{NeedsApproval: If(func(a payArgs) bool { return a.Amount > 100 })}), functionCall("pay", `{"to":"bob","amount":5}`), tools.Allow},
		{"if: large", New("pay", "", pay, &Options{NeedsApproval: If(func(a payArgs) bool { return a.Amount > 100 })}), functionCall("pay", `{"to":"bob","amount":500}`), tools.Ask},
		{"invalid arguments are not asked about", New("pay", "", pay, &Options{NeedsApproval: Always}), functionCall("pay", `{"to":"bob"}`), tools.Allow},
		{"wrong call type is left to Call", New("pay", "", pay, &Options{NeedsApproval: Always}), customCall("pay", "x"), tools.Allow},
		{"custom", NewCustom("sql", "", func(context.Context, string) (string, error) { return "", nil }, &Options{NeedsApproval: Always}), customCall("sql", "DROP TABLE x"), tools.Ask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.tool.Review(t.Context(), tc.call)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Decision)
			if r.Decision != tools.Ask {
				return
			}
			req := r.Request
			assert.Equal(t, tc.tool.kind, req.Kind)
			assert.Equal(t, tc.tool.Name(), req.Tool)
			assert.Equal(t, tc.call.CallID, req.CallID)
			assert.Equal(t, tc.tool.kind+":"+tc.tool.Name(), req.Key)
			assert.NotEmpty(t, req.Summary)
			assert.True(t, json.Valid(req.Arguments))
		})
	}

	failing := New("pay", "", pay, &Options{NeedsApproval: func(context.Context, json.RawMessage) (bool, error) { return false, errors.New("policy store down") }})
	_, err := failing.Review(t.Context(), functionCall("pay", `{"to":"bob","amount":5}`))
	assert.ErrorContains(t, err, "policy store down")
}

func TestDefinition(t *testing.T) {
	tool := New("weather", "Forecast.", weather, nil)
	d := tool.Definition()
	assert.Equal(t, "function", d.Type)
	assert.Equal(t, "weather", d.Name)
	var ft responses.FunctionTool
	require.NoError(t, json.Unmarshal(d.Raw(), &ft))
	assert.True(t, ft.Strict)
	assert.True(t, tool.Strict())
	assert.Equal(t, "Forecast.", ft.Description)
	assert.JSONEq(t, string(tool.Schema()), string(ft.Parameters))
	assert.True(t, tool.ParallelSafe())

	loose := New("weather", "Forecast.", weather, &Options{NonStrict: true, Serial: true})
	assert.False(t, loose.Strict())
	assert.Contains(t, string(loose.Definition().Raw()), `"strict":false`)
	assert.False(t, loose.ParallelSafe())

	raw := NewRaw("r", "", json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`),
		func(context.Context, json.RawMessage) (any, error) { return nil, nil }, nil)
	assert.True(t, raw.Strict(), "a raw schema already in the strict shape is strict")
	raw = NewRaw("r", "", json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`),
		func(context.Context, json.RawMessage) (any, error) { return nil, nil }, nil)
	assert.False(t, raw.Strict())

	custom := NewCustom("q", "Run a query.", func(context.Context, string) (string, error) { return "", nil },
		&Options{Grammar: &Grammar{Syntax: "lark", Definition: `start: "SHOW " TABLE`}})
	assert.JSONEq(t, `{"type":"custom","name":"q","description":"Run a query.","format":{"type":"grammar","syntax":"lark","definition":"start: \"SHOW \" TABLE"}}`,
		string(custom.Definition().Raw()))
	assert.Nil(t, custom.Schema())
}

func TestOptionsCopied(t *testing.T) {
	opts := &Options{Timeout: time.Hour, Grammar: &Grammar{Syntax: "regex", Definition: "a+"}}
	tool := NewCustom("c", "", func(context.Context, string) (string, error) { return "", nil }, opts)
	opts.Timeout = time.Millisecond
	opts.Grammar.Definition = "b+"
	assert.Equal(t, time.Hour, tool.timeout)
	assert.Contains(t, string(tool.Definition().Raw()), `"a+"`)
}

func TestConcurrentCalls(t *testing.T) {
	tool := New("weather", "", weather, nil)
	var wg sync.WaitGroup
	errs := make([]error, 64)
	outs := make([]string, 64)
	for i := range 64 {
		wg.Go(func() {
			it, err := tool.Call(t.Context(), functionCall("weather", fmt.Sprintf(`{"city":"c%d","units":null,"days":%d}`, i, i%7+1)))
			errs[i] = err
			if err == nil {
				outs[i] = string(it.Raw())
			}
		})
	}
	wg.Wait()
	for i := range 64 {
		require.NoError(t, errs[i])
		assert.Contains(t, outs[i], fmt.Sprintf(`c%d`, i))
	}
}
