package applypatch

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threeFiles writes a.txt, b.txt and c.txt and returns their contents.
func threeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{"a.txt": "a1\na2\n", "b.txt": "b1\nb2\n", "c.txt": "c1\nc2\n"}
	for name, c := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(c), 0o640))
	}
	return files
}

const threeUpdates = `*** Begin Patch
*** Update File: a.txt
@@
-a1
+A1
*** Update File: b.txt
@@
-b1
+B1
*** Update File: c.txt
@@
-%s
+C1
*** End Patch
`

func TestAtomicThirdFileFails(t *testing.T) {
	dir := t.TempDir()
	before := threeFiles(t, dir)
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	p, err := Parse(strings.Replace(threeUpdates, "%s", "not there", 1))
	require.NoError(t, err)

	_, err = ws.Apply(t.Context(), p)
	require.Error(t, err)
	var he *HunkError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, err.Error(), "update c.txt")
	assert.Equal(t, before, readTree(t, dir), "all three files unchanged")
}

func TestAtomicWriteFailureRestores(t *testing.T) {
	for _, tc := range []struct {
		name  string
		patch string
		fail  string // the path whose rename fails
	}{
		{"second of three updates", strings.Replace(threeUpdates, "%s", "c1", 1), "b.txt"},
		{"third of three updates", strings.Replace(threeUpdates, "%s", "c1", 1), "c.txt"},
		{"add, delete and move before a failure", `*** Begin Patch
*** Add File: new/dir/n.txt
+n
*** Delete File: a.txt
*** Update File: b.txt
*** Move to: moved/b.txt
@@
-b1
+B1
*** Update File: c.txt
@@
-c1
+C1
*** End Patch
`, "c.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			before := threeFiles(t, dir)
			ws, err := NewWorkspace(dir, nil)
			require.NoError(t, err)
			injected := errors.New("disk full")
			var steps []string
			ws.hook = func(op, path string) error {
				steps = append(steps, op+" "+path)
				if op == "rename" && path == tc.fail {
					return injected
				}
				return nil
			}
			p, err := Parse(tc.patch)
			require.NoError(t, err)

			_, err = ws.Apply(t.Context(), p)
			require.ErrorIs(t, err, injected)
			assert.Contains(t, err.Error(), "every file written before was restored")
			assert.Greater(t, len(steps), 1, "something was written before the failure")
			assert.Equal(t, before, readTree(t, dir), "the files written before are restored")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			assert.ElementsMatch(t, []string{"a.txt", "b.txt", "c.txt"}, names, "no temporary file or created directory is left")
			for name := range before {
				fi, err := os.Stat(filepath.Join(dir, name))
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), name)
			}
		})
	}
}

func TestModeKept(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	p, err := Parse("*** Begin Patch\n*** Update File: run.sh\n*** Move to: bin/run.sh\n@@\n-echo hi\n+echo hello\n*** End Patch\n")
	require.NoError(t, err)
	res, err := ws.Apply(t.Context(), p)
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(dir, "bin", "run.sh"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	assert.Equal(t, "Success. Updated the following files:\nM run.sh -> bin/run.sh (+1 -1)\n", res.Summary())
	assert.Equal(t, []string{"bin/run.sh", "run.sh"}, res.Paths())
}

func TestDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	before := threeFiles(t, dir)
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	p, err := Parse("*** Begin Patch\n*** Add File: n.txt\n+new\n*** Delete File: a.txt\n*** Update File: b.txt\n@@\n b1\n-b2\n+B2\n*** End Patch\n")
	require.NoError(t, err)
	res, err := ws.DryRun(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, before, readTree(t, dir))
	assert.Equal(t, `--- /dev/null
+++ b/n.txt
@@ -0,0 +1 @@
+new
--- a/a.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-a1
-a2
--- a/b.txt
+++ b/b.txt
@@ -1,2 +1,2 @@
 b1
-b2
+B2
`, res.Diff())
}

func TestNewWorkspaceErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, tc := range []struct {
		name, dir string
		opts      *Options
		want      string
	}{
		{"missing dir", filepath.Join(dir, "nope"), nil, "no such file"},
		{"file", file, nil, "not a directory"},
		{"bad protect", dir, &Options{Protect: []string{"a/[b"}}, `invalid path pattern "a/[b"`},
		{"absolute writable", dir, &Options{Writable: []string{"/etc/**"}}, "invalid path pattern"},
		{"empty pattern", dir, &Options{Protect: []string{""}}, "invalid path pattern"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWorkspace(tc.dir, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNoDefaultProtect(t *testing.T) {
	dir := t.TempDir()
	ws, err := NewWorkspace(dir, &Options{NoDefaultProtect: true})
	require.NoError(t, err)
	p, err := Parse("*** Begin Patch\n*** Add File: .git/info/exclude\n+*.o\n*** End Patch\n")
	require.NoError(t, err)
	_, err = ws.Apply(t.Context(), p)
	require.NoError(t, err)
}

func TestConcurrentApply(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "n.txt"), []byte("0\n"), 0o644))
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			p, err := Parse("*** Begin Patch\n*** Add File: f" + string(rune('a'+i)) + ".txt\n+x\n*** Update File: n.txt\n@@\n+line\n*** End Patch\n")
			if assert.NoError(t, err) {
				_, err = ws.Apply(t.Context(), p)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(dir, "n.txt"))
	require.NoError(t, err)
	assert.Equal(t, "0\n"+strings.Repeat("line\n", 8), string(b), "appends are serialised, none lost")
}

func TestCanceledContext(t *testing.T) {
	dir := t.TempDir()
	ws, err := NewWorkspace(dir, nil)
	require.NoError(t, err)
	p, err := Parse("*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n")
	require.NoError(t, err)
	ctx, cancel := contextWithCancel(t)
	cancel()
	_, err = ws.Apply(ctx, p)
	require.ErrorIs(t, err, errCanceled)
	assert.Empty(t, readTree(t, dir))
}

var errCanceled = context.Canceled

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func TestLogger(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	ws, err := NewWorkspace(dir, &Options{Logger: log})
	require.NoError(t, err)
	p, err := Parse("*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n")
	require.NoError(t, err)
	_, err = ws.Apply(t.Context(), p)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `msg="applypatch: wrote" path=a.txt added=1 removed=0`)
}
