// Package session keeps conversations that outlive a process: the items of
// each conversation, its last response id when it chains, and the pending
// continuations of runs stopped for approvals.
//
// A [Store] is the storage seam. Three implementations come with the module:
// [NewMemory] (tests, examples), session/sqlite (a file, pure Go) and
// session/postgres (a nested module, so programs that use only SQLite never
// download pgx). Every store passes the same conformance suite,
// session/sessiontest.
//
// # A conversation
//
// A conversation is a list of [responses.Item] under an id the caller
// chooses (see [NewID]). Items are kept byte-for-byte as their JSON:
// encrypted reasoning, hosted-tool items and item types this module does not
// know travel back to the server unchanged. Each item has an index (0, 1,
// ...) in its conversation.
//
// Load a conversation, run, then append what the run produced:
//
//	c, err := store.Load(ctx, convID, &session.LoadOptions{Last: 200})
//	if err != nil { ... }
//	// c.Items are the (at most 200) newest items of the current context;
//	// c.ResponseID is the response to chain from, "" if none.
//	// ... run the model on c.Items or c.ResponseID ...
//	v, err := store.Append(ctx, convID, c.Version, session.Turn{
//		Items:      newItems, // input, output items, tool outputs
//		ResponseID: resp.ID,
//	})
//
// A conversation that was never appended to loads empty with Version 0; the
// first Append (expected version 0) creates it.
//
// # Concurrency: optimistic versions
//
// Every conversation has a version, which each [Store.Append] increments.
// Append takes the version the caller loaded and fails with a
// [*ConflictError] (which matches [ErrConflict]) when another writer appended
// first: two runs on one conversation (two browser tabs, two replicas) never
// interleave or lose items; the second one learns it lost and may reload and
// retry or tell its user. No lock is held while the model thinks, so a
// crashed process blocks nobody. A run that appends its input first, before
// calling the model, learns of a conflict before it spends anything.
//
// An append is atomic: a process killed during it leaves the conversation as
// it was before or as it is after, never half.
//
// # Pending approvals
//
// A run stopped for approvals yields a continuation (the agent's RunState,
// marshalled): opaque bytes to the store. [Store.PutPending] keeps it under
// an id (put it in the approval page's URL); [Store.TakePending] returns it
// exactly once, so two concurrent resumes of one approval cannot both run:
// the loser gets [ErrPendingTaken].
//
//	id := session.NewID()
//	err := store.PutPending(ctx, convID, id, stateJSON)
//	// ... later, in whichever process gets the decision:
//	state, err := store.TakePending(ctx, id)
//	if errors.Is(err, session.ErrPendingTaken) { /* already resumed */ }
//
// [Turn.Pending] stores a continuation in the same transaction as the
// turn's items.
//
// # Driving a run with a store
//
// A driver that attaches a conversation to agent runs does, per request:
//
//  1. Load the conversation: the window to replay in stateless mode, or
//     only its Info (LoadOptions.Last < 0) to chain from ResponseID.
//  2. Append the run's input at the loaded version before calling the
//     model: a concurrent run on the same conversation fails here, with a
//     [*ConflictError], before it spends anything.
//  3. Append each turn as it completes (the response's items and the tool
//     outputs, with the response id), at the version the previous Append
//     returned, so a crash loses no completed turn.
//  4. When the run stops for approvals, append its last turn with
//     [Turn.Pending] set to the marshalled continuation; a later request
//     takes it with [Store.TakePending] and resumes.
//
// Use Turn.Meta for what the application keeps about the conversation (a
// title, the model, how the last run ended).
//
// # History management
//
// [LoadOptions] bounds what is loaded (and so what is sent) to the last N
// items or to a token budget, without deleting anything stored; the window
// never starts with a tool output whose call it cut off. A compaction is
// stored as an ordinary append whose [Turn.Compacted] is set: its items
// replace the earlier ones as the context, and Load starts there unless
// LoadOptions.History asks for everything. [Store.Branch] copies the first k
// items of a conversation into a new one ("resume from here").
package session
