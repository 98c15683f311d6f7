package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

// snapshot is a file's content before a patch changed it.
type snapshot struct {
	rel     string // slash-separated, relative to the workspace
	data    []byte
	existed bool
	mode    fs.FileMode
}

// undoLog keeps, for each task, the files its patches changed as they were
// before the task, so /undo can put them back (without git), and, for the
// whole session, the first content of each file, for /diff without git.
// It is safe for concurrent use (calls of one response run in parallel).
type undoLog struct {
	root  string
	mu    sync.Mutex
	tasks [][]snapshot        // per task with changes, oldest first
	cur   []snapshot          // the running task's
	first map[string]snapshot // the session's first snapshot of each file
}

func newUndoLog(root string) *undoLog {
	return &undoLog{root: root, first: map[string]snapshot{}}
}

// beginTask starts a task: patches from now on belong to it.
func (u *undoLog) beginTask() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endLocked()
}

// endTask ends the running task.
func (u *undoLog) endTask() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endLocked()
}

func (u *undoLog) endLocked() {
	if len(u.cur) > 0 {
		u.tasks = append(u.tasks, u.cur)
	}
	u.cur = nil
}

// middleware snapshots the file an apply_patch call is about to change.
func (u *undoLog) middleware() agent.Middleware {
	return agent.Middleware{Tool: func(next agent.ToolHandler) agent.ToolHandler {
		return func(ctx context.Context, call tools.Call) (responses.Item, error) {
			if call.Type == responses.TypeApplyPatchCall {
				var pc responses.ApplyPatchCall
				if call.Item.Decode(&pc) == nil && pc.Operation.Path != "" {
					u.snap(pc.Operation.Path)
				}
			}
			return next(ctx, call)
		}
	}}
}

// snap records rel as it is now, once per task.
func (u *undoLog) snap(rel string) {
	rel = filepath.ToSlash(filepath.Clean(rel))
	u.mu.Lock()
	defer u.mu.Unlock()
	if slices.ContainsFunc(u.cur, func(s snapshot) bool { return s.rel == rel }) {
		return
	}
	s := snapshot{rel: rel}
	p := filepath.Join(u.root, filepath.FromSlash(rel))
	if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
		if data, err := os.ReadFile(p); err == nil {
			s.data, s.existed, s.mode = data, true, st.Mode().Perm()
		}
	}
	u.cur = append(u.cur, s)
	if _, ok := u.first[rel]; !ok {
		u.first[rel] = s
	}
}

// undo puts back the files of the last task that changed any, all or
// none: every file is first written beside its place, then renamed over
// it. It returns the files restored.
func (u *undoLog) undo() ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.endLocked()
	if len(u.tasks) == 0 {
		return nil, errors.New("nothing to undo: no patch was applied in this session")
	}
	last := u.tasks[len(u.tasks)-1]
	type step struct{ tmp, dst string }
	var steps []step
	cleanup := func() {
		for _, s := range steps {
			if s.tmp != "" {
				os.Remove(s.tmp)
			}
		}
	}
	for _, s := range last {
		dst := filepath.Join(u.root, filepath.FromSlash(s.rel))
		if !s.existed {
			steps = append(steps, step{dst: dst})
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			cleanup()
			return nil, fmt.Errorf("undo: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(dst), ".agent-undo-*")
		if err == nil {
			_, err = f.Write(s.data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Chmod(f.Name(), s.mode)
			}
			steps = append(steps, step{tmp: f.Name(), dst: dst})
		}
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("undo: %w", err)
		}
	}
	var restored []string
	for i, s := range steps {
		var err error
		if s.tmp == "" {
			err = os.Remove(s.dst)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		} else {
			err = os.Rename(s.tmp, s.dst)
		}
		if err != nil {
			cleanup()
			return restored, fmt.Errorf("undo %s: %w", last[i].rel, err)
		}
		steps[i].tmp = ""
		restored = append(restored, last[i].rel)
	}
	u.tasks = u.tasks[:len(u.tasks)-1]
	return restored, nil
}

// originals returns the session's first snapshot of every patched file.
func (u *undoLog) originals() []snapshot {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []snapshot
	for _, k := range sortedKeys(u.first) {
		out = append(out, u.first[k])
	}
	return out
}
