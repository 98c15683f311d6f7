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
// # Attaching a conversation to agent runs
//
// [Attach] does all of the above for a run of an [agent.Agent]: it loads
// what the run needs, and records the run as it goes (it is the run's
// [agent.Recorder]):
//
//	s, err := session.Attach(ctx, store, convID, nil)
//	res, err := s.Run(ctx, a, []responses.Item{responses.UserMessage(text)})
//	if res.StopReason == "pending_approval" {
//		id := s.PendingID() // put it in the page; the decision comes later
//	}
//
// The run's input is appended at the version Attach loaded, before the
// first request: a concurrent run on the conversation fails there with a
// [*ConflictError] and spends nothing. Each completed turn is appended with
// its response id and its continuation, so a process killed mid-run loses
// no completed turn; the next Attach returns that continuation from
// [Attached.Interrupted] (exactly once), and resuming it runs no completed
// call again. The run's end is recorded also when the run failed. A run
// stopped for approvals keeps its continuation under [Attached.PendingID];
// the request that carries the decision, in any process, takes it with
// [TakeApproval] (exactly once) and resumes:
//
//	ap, err := session.TakeApproval(ctx, store, id)
//	s, err := session.Attach(ctx, store, ap.Conversation, nil)
//	res, err := s.Resume(ctx, a, ap.State, decisions)
//
// Without Attach, a driver does per request: load the conversation (only
// its Info, LoadOptions.Last < 0, to chain from ResponseID; or the window
// to replay in stateless mode); append the input at the loaded version;
// append each turn at the version the previous Append returned; on a stop
// for approvals, append with [Turn.Pending] set.
//
// Use Turn.Meta for what the application keeps about the conversation (a
// title, the model); [AttachOptions.Meta] sets it with a run's first append.
//
// # History management
//
// [LoadOptions] bounds what is loaded (and so what is sent) to the last N
// items or to a token budget, without deleting anything stored
// ([AttachOptions.Window] for a stateless run: when chaining, the server
// holds the history and the conversation's compaction bounds it); the window
// never starts with a tool output whose call it cut off. A compaction is
// stored as an ordinary append whose [Turn.Compacted] is set: its items
// replace the earlier ones as the context, and Load starts there unless
// LoadOptions.History asks for everything. [Store.Branch] copies the first k
// items of a conversation into a new one ("resume from here").
package session
