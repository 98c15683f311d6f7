package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/internal/txtar"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
)

// A scenario (testdata/scenarios/*.txtar) runs the binary once, without a
// terminal, against a scripted model. Its comment says what it guards; its
// sections are:
//
//	-- args --          the command line, one argument per line
//	-- env --           extra environment, KEY=VALUE per line
//	-- config --        the config file (config.json)
//	-- in/PATH --       a file of the workspace (a git repository)
//	-- turn N --        the model's N-th answer, one output item per line:
//	                      text MESSAGE
//	                      shell CALL_ID COMMAND LINE
//	                      patch CALL_ID create_file|update_file|delete_file PATH
//	                        (its diff in a "-- diff CALL_ID --" section)
//	-- out/PATH --      a file's expected content after the run
//	-- gone/PATH --     a file that must not exist after the run
//	-- expect --        checks, one per line:
//	                      exit CODE
//	                      stdout TEXT     stdout contains TEXT
//	                      stderr TEXT     stderr contains TEXT
//	                      !stderr TEXT    stderr does not contain TEXT
//	                      output CALL_ID TEXT   the output sent for the call contains TEXT
//	                      instructions TEXT     the first request's instructions contain TEXT
//	                      requests N      the number of requests
func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob("testdata/scenarios/*.txtar")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			runScenario(t, string(data))
		})
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func runScenario(t *testing.T, text string) {
	comment, secs := txtar.Parse(text)
	require.NotEmpty(t, strings.TrimSpace(comment), "a scenario says what it guards")
	diffs := map[string]string{}
	files := map[string]string{}
	turns := map[int][]string{}
	var args, env, expect []string
	var config string
	for _, s := range secs {
		switch name := s.Name; {
		case name == "args":
			args = lines(s.Data)
		case name == "env":
			env = lines(s.Data)
		case name == "config":
			config = s.Data
		case name == "expect":
			expect = lines(s.Data)
		case strings.HasPrefix(name, "in/"):
			files[strings.TrimPrefix(name, "in/")] = s.Data
		case strings.HasPrefix(name, "diff "):
			diffs[strings.TrimPrefix(name, "diff ")] = s.Data
		case strings.HasPrefix(name, "turn "):
			n, err := strconv.Atoi(strings.TrimPrefix(name, "turn "))
			require.NoError(t, err, name)
			turns[n] = lines(s.Data)
		}
	}
	var script []rt.Turn
	for n := 1; n <= len(turns); n++ {
		its, ok := turns[n]
		require.True(t, ok, "turn %d is missing", n)
		var items []responses.Item
		for _, l := range its {
			kind, rest, _ := strings.Cut(l, " ")
			switch kind {
			case "text":
				items = append(items, rt.Text(rest))
			case "shell":
				id, cmd, _ := strings.Cut(rest, " ")
				items = append(items, rt.ShellCall(id, cmd))
			case "patch":
				f := strings.Fields(rest)
				require.Len(t, f, 3, "patch CALL_ID OP PATH")
				items = append(items, rt.ApplyPatchCall(f[0], f[1], f[2], diffs[f[0]]))
			default:
				require.Fail(t, "unknown item", "%q", l)
			}
		}
		script = append(script, rt.Output(items...))
	}

	h := newHarness(t, files, script...)
	h.extraEnv = env
	if config != "" {
		dir := filepath.Join(h.home, "config")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644))
	}
	res := h.run(args...)
	reqs := h.server.Requests()

	for _, s := range secs {
		switch {
		case strings.HasPrefix(s.Name, "out/"):
			assert.Equal(t, s.Data, h.file(strings.TrimPrefix(s.Name, "out/")), s.Name)
		case strings.HasPrefix(s.Name, "gone/"):
			assert.NoFileExists(t, filepath.Join(h.ws, strings.TrimPrefix(s.Name, "gone/")))
		}
	}
	for _, l := range expect {
		kind, arg, _ := strings.Cut(l, " ")
		switch kind {
		case "exit":
			assert.Equal(t, arg, strconv.Itoa(res.code), "exit status; stderr:\n%s", res.stderr)
		case "stdout":
			assert.Contains(t, res.stdout, arg)
		case "stderr":
			assert.Contains(t, res.stderr, arg)
		case "!stderr":
			assert.NotContains(t, res.stderr, arg)
		case "requests":
			assert.Equal(t, arg, strconv.Itoa(len(reqs)))
		case "instructions":
			require.NotEmpty(t, reqs)
			assert.Contains(t, reqs[0].Params.Instructions, arg)
		case "output":
			id, want, _ := strings.Cut(arg, " ")
			found := false
			for _, r := range reqs {
				if it, ok := r.Output(id); ok {
					found = true
					var v any
					require.NoError(t, json.Unmarshal(it.Raw(), &v))
					assert.Contains(t, strings.Join(jsonStrings(v), "\n"), want, "output of %s", id)
				}
			}
			assert.True(t, found, "no output for %s", id)
		default:
			require.Fail(t, "unknown check", "%q", l)
		}
	}
}

// jsonStrings returns every string in a decoded JSON value.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}
