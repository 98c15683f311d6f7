package applypatch

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/agentloop/agentloop/internal/txtar"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the expected files and errors of testdata/*.txtar")

// A txtar case is a comment (what the case guards) followed by sections:
//
//	-- in/PATH --        a file of the workspace before the patch
//	-- symlink/PATH --   a symbolic link whose target is the content
//	-- dir/PATH --       an empty directory
//	-- outside/PATH --   a file next to (not inside) the workspace
//	-- options --        workspace options: "protect: GLOB", "writable: GLOB",
//	                     "deny: PATH" (a DenyRead entry: PATH, a path or a
//	                     pattern, joined to the root's absolute path; "."
//	                     is the root, ".." its parent)
//	-- patch --          an envelope patch, or
//	-- op --             "create_file PATH", "update_file PATH" or
//	                     "delete_file PATH", with
//	-- diff --           the operation's bare diff
//	-- out/PATH --       the expected files after the patch (all of them), or
//	-- error --          a substring of the expected error (nothing changes)
//
// A section name ending in " noeol" drops the content's final newline. In
// contents, ␍ stands for a carriage return, ␠ for a space and ⇥ for a tab.

// section is one file of a case.
type section = txtar.File

func parseTxtar(s string) (comment string, secs []section) { return txtar.Parse(s) }

var unescaper = strings.NewReplacer("␍", "\r", "␠", " ", "⇥", "\t")
var escaper = strings.NewReplacer("\r", "␍", "\t", "⇥")

func sectionData(s section) (name, data string) {
	name, data = s.Name, unescaper.Replace(s.Data)
	if n, ok := strings.CutSuffix(name, " noeol"); ok {
		name, data = n, strings.TrimSuffix(data, "\n")
	}
	return name, data
}

func formatTxtar(comment string, secs []section) string { return txtar.Format(comment, secs) }

// encodeFile renders content for a txtar section, with noeol and escapes.
func encodeFile(prefix, name, content string) section {
	data := escaper.Replace(content)
	// Keep trailing spaces visible.
	lines := strings.Split(data, "\n")
	for i, l := range lines {
		if t := strings.TrimRight(l, " "); t != l {
			lines[i] = t + strings.Repeat("␠", len(l)-len(t))
		}
	}
	data = strings.Join(lines, "\n")
	if data != "" && !strings.HasSuffix(data, "\n") {
		return section{Name: prefix + name + " noeol", Data: data + "\n"}
	}
	return section{Name: prefix + name, Data: data}
}

// readTree returns the regular files under dir by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	require.NoError(t, err)
	return files
}

func TestTxtar(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txtar")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 60)
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			comment, secs := parseTxtar(string(raw))
			require.NotEmpty(t, strings.TrimSpace(comment), "every case says what it guards")
			base := t.TempDir()
			dir, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.MkdirAll(outside, 0o755))
			var opts Options
			var patchText, opText, diffText, wantErr string
			var hasPatch, hasOp, hasErr, special bool
			want := map[string]string{}
			in := map[string]string{}
			var kept []section
			for _, s := range secs {
				name, data := sectionData(s)
				kind, rel, _ := strings.Cut(name, "/")
				switch kind {
				case "in":
					in[rel] = data
					write(t, filepath.Join(dir, rel), data)
				case "outside":
					write(t, filepath.Join(outside, rel), data)
				case "symlink":
					special = true
					require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755))
					require.NoError(t, os.Symlink(strings.TrimSpace(data), filepath.Join(dir, rel)))
				case "dir":
					special = true
					require.NoError(t, os.MkdirAll(filepath.Join(dir, rel), 0o755))
				case "options":
					for _, l := range splitLines(data) {
						k, v, _ := strings.Cut(l, ":")
						switch strings.TrimSpace(k) {
						case "protect":
							opts.Protect = append(opts.Protect, strings.TrimSpace(v))
						case "writable":
							opts.Writable = append(opts.Writable, strings.TrimSpace(v))
						case "deny":
							opts.DenyRead = append(opts.DenyRead, filepath.Join(dir, strings.TrimSpace(v)))
						default:
							t.Fatalf("unknown option %q", l)
						}
					}
				case "patch":
					patchText, hasPatch = data, true
				case "op":
					opText, hasOp = strings.TrimSpace(data), true
				case "diff":
					diffText = data
				case "out":
					want[rel] = data
					continue
				case "error":
					wantErr, hasErr = strings.TrimSpace(data), true
					continue
				default:
					t.Fatalf("unknown section %q", s.Name)
				}
				kept = append(kept, s)
			}
			require.True(t, hasPatch != hasOp, "a case has either a patch or an op")
			outsideBefore := readTree(t, outside)

			ws, err := NewWorkspace(dir, &opts)
			require.NoError(t, err)
			var p *Patch
			if hasPatch {
				p, err = Parse(patchText)
			} else {
				typ, pth, _ := strings.Cut(opText, " ")
				item := responses.MustItem(responses.ApplyPatchCall{Type: responses.TypeApplyPatchCall, CallID: "call_1",
					Operation: responses.ApplyPatchOperation{Type: typ, Path: pth, Diff: diffText}})
				p, err = PatchOf(tools.NewCall(item))
			}
			var pureOut map[string]string
			var pureErr error
			if err == nil {
				pureOut, pureErr = Apply(in, p)
				_, err = ws.Apply(t.Context(), p)
			}
			got := readTree(t, dir)
			assert.Equal(t, outsideBefore, readTree(t, outside), "nothing outside the root changes")

			if *update {
				if err != nil {
					kept = append(kept, section{Name: "error", Data: err.Error() + "\n"})
				} else {
					names := make([]string, 0, len(got))
					for n := range got {
						names = append(names, n)
					}
					sort.Strings(names)
					for _, n := range names {
						kept = append(kept, encodeFile("out/", n, got[n]))
					}
				}
				require.NoError(t, os.WriteFile(path, []byte(formatTxtar(comment, kept)), 0o644))
				return
			}
			if hasErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), wantErr)
				assert.Equal(t, in, got, "a failed patch changes nothing")
				if !special && pureOut != nil && !errors.Is(err, ErrProtected) && !errors.Is(err, ErrReadDenied) {
					t.Errorf("the pure Apply accepted what the workspace refused: %v", pureOut)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
			if !special {
				require.NoError(t, pureErr)
				assert.Equal(t, want, pureOut, "the pure Apply agrees with the workspace")
			}
		})
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
}
