// Package applypatch parses and applies V4A patches, the line-number-free
// diff format OpenAI models write to edit files, and provides the
// apply_patch tool an agent registers.
//
// # Applying a patch
//
// A patch comes in two forms. The envelope form carries several file
// operations:
//
//	*** Begin Patch
//	*** Update File: greet.go
//	@@ func greet() {
//	-	fmt.Println("hi")
//	+	fmt.Println("hello")
//	*** End Patch
//
// [Parse] reads it. The hosted apply_patch tool instead sends one
// operation per call with a bare diff (the lines from @@ on), which
// [ParseOperation], [ParseDiff] and [ParseCreate] read. The core is pure:
// [Apply] takes a map of files and returns the new map, and [ApplyDiff]
// edits one text. A [Workspace] does the same on disk, confined to one
// directory:
//
//	ws, err := applypatch.NewWorkspace(dir, nil)
//	p, err := applypatch.Parse(text)
//	res, err := ws.Apply(ctx, p) // res.Summary(), res.Diff()
//
// # The agent tool
//
// [NewTool] returns a [Tool] for the agent loop: the native apply_patch
// tool by default, or the envelope form as a function or custom tool for
// models without it. It can ask for approval, showing the unified diff of
// the exact change. A failed call returns its failed output item with an
// error that gives the loop its outcome: sandbox_denied
// ([tools.ErrSandboxDenied]) when the path policy refused it, error when
// the patch does not parse or apply.
//
// # Paths
//
// A [Workspace] touches only regular files under its root. It refuses
// absolute and escaping paths ([ErrPath]), the paths of [Options.Protect]
// (and git's metadata) or outside [Options.Writable] ([ErrProtected]), and
// the host paths of [Options.DenyRead] ([ErrReadDenied]), which a patch
// may neither read nor write, as the sandbox's deny-read list (the
// user's SSH keys, say):
//
//	ws, err := applypatch.NewWorkspace(dir, &applypatch.Options{
//		DenyRead: []string{home + "/.ssh", home + "/**/.env"},
//	})
//
// # Locating hunks
//
// Hunks are applied in order, each searched after the previous one (the
// cursor only moves forward). @@ lines name lines before the change and
// narrow the search; several in a row are looked for one after another.
// The old lines of a hunk (context and removed lines) are compared
// exactly, then ignoring trailing whitespace, then ignoring surrounding
// whitespace, then with typographic dashes, quotes and spaces mapped to
// ASCII; each pass looks at every position after the cursor before the
// next pass starts, so an exact match anywhere beats a fuzzy one earlier. The time taken is linear in the size of the file
// and the patch: a failed scan indexes the file's lines for later hunks.
//
// A hunk that cannot be located fails with a [*HunkError] that quotes the
// lines looked for and shows the closest lines of the file.
//
// # Choices where the reference implementations differ
//
// Codex's Rust crate and the Agents SDK's applyDiff disagree on several
// points; this package decides as follows.
//
//   - Stacked @@ lines are supported, and all of them must be found (the
//     first may also be a line already passed). A single @@ line that is
//     not found is ignored when the hunk has context or removed lines (so
//     a unified-diff header "@@ -1,2 +1,2 @@" is harmless), and is an error
//     for a hunk of added lines only.
//   - A hunk of added lines only is inserted right after its @@ line; with
//     no @@ text it is appended at the end of the file (Codex), not put at
//     the top (Agents).
//   - "*** End of File" first tries the position where the old lines end
//     the file, then searches forward from the cursor.
//   - When a hunk is not found and it ends with blank context lines (often
//     the blank line a model puts between sections), it is retried without
//     them (Codex).
//   - Untouched and context lines keep their bytes and line endings; new
//     lines take the ending of the file's first line break (LF if none). An
//     update keeps the file's missing final newline (Agents), and never
//     adds one.
//   - In a created file, bare create_file diff and envelope "*** Add
//     File" alike, every "+" line is one line ending in a newline (Codex):
//     a diff without a final newline still makes a newline-terminated
//     file, and a last lone "+" is an empty last line.
//   - An empty update diff, a section with no lines, a line without a
//     valid prefix, an "@@" followed by anything but a space or the end
//     of the line (as in "@@text"), a stray "***" line and anything after
//     "*** End Patch" are errors. Padded markers and a heredoc wrapper are accepted.
//   - Adding a file that exists, moving onto a file that exists, updating
//     or deleting a missing file, and deleting a directory are errors. An
//     Update with a Move to and no hunks is a plain rename.
//   - Operations apply in order, each to the result of the previous ones;
//     the whole patch is checked before any file is written.
//   - The first exact occurrence after the cursor wins when the old lines
//     occur several times (all references agree); context or @@ lines
//     choose another. A block found only by a fuzzy pass must be unique
//     after the cursor: otherwise the hunk fails and names both places
//     (the references take the first, a guess on top of a guess).
//
// V4A cannot express a change of line endings or of the final newline of
// an existing file; [MakeDiff] leaves such changes out.
//
// # Performance
//
// Applying a diff is linear in the size of the file and of the diff: the
// cursor only moves forward, and a scan that fails indexes the file's
// lines (per matching pass) so that later hunks look their lines up
// instead of rescanning. BenchmarkApplyDiff applies one hunk per 100 lines
// (two lines of context before, one after, one line replaced) and reports
// the median time, ns/line and the ratio to a floor measured in the same
// run (bytes.Split and bytes.Join of the same file):
//
//	go test -run XXX -bench ApplyDiff -benchtime 200x ./tools/applypatch
//
// On the two shared cores of the development machine, 50,000 lines with
// 500 hunks take about 1.5 ms (about 1-1.6 times the floor); 12,500 and
// 25,000 lines take about 30-50 ns/line, as 50,000 do. With every hunk
// needing a fuzzy pass (context without its indentation), 50,000 lines
// take about 9 ms, most of it building two line indexes.
package applypatch
