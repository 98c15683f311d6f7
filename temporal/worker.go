package temporal

import (
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/agentloop/agentloop/agent"
)

// WorkerOptions configures a [Worker]. The zero value of every field means
// the documented default.
type WorkerOptions struct {
	// Client, when set, is the Responses transport the model activity
	// sends through in place of the agent's own ([agent.Agent.Client]; of
	// the agent in charge after a handoff). Its own retries are switched
	// off per call (a zero [responses.RetryBudget]): Temporal's retry
	// policy retries instead.
	Client agent.Client

	// DisableStreaming uses non-streaming create in the model activity. A
	// streaming request (the default) heartbeats with every event.
	DisableStreaming bool

	// Tools sets the activity options of the calls of one tool, by name
	// (the function name, or the item type for built-in tools such as
	// "shell" and "apply_patch"). Tools not named use DefaultTool.
	Tools map[string]ToolOptions
	// DefaultTool applies to the tools not in Tools.
	DefaultTool ToolOptions

	// MaxOutputBytes bounds one tool output as recorded in the workflow's
	// history; a larger output is cut to its head and tail. Zero means
	// 512 KiB (Temporal refuses payloads over 2 MiB, and an output travels
	// in the call's result, in the next request and in the run's items).
	MaxOutputBytes int

	// Agents are other agents this worker runs, found by their
	// Options.Name with those they hand off to: runs started with an
	// agent that the worker's agent cannot reach through its handoffs.
	// The agents the worker's agent hands off to (transitively) need not
	// be listed.
	Agents []*agent.Agent

	// Worker is passed to the Temporal worker; nil uses its defaults.
	Worker *worker.Options
}

// ToolOptions are the activity options of one tool's calls. They are read
// at the start of each turn (the ListTools activity) and recorded in the
// history, so a change applies to the turns that follow.
type ToolOptions struct {
	// StartToClose bounds one attempt. Zero means 10 minutes.
	StartToClose time.Duration
	// Heartbeat is the heartbeat timeout: a worker that dies is noticed
	// after it. The call heartbeats every third of it while it runs. Zero
	// means 30 seconds.
	Heartbeat time.Duration
	// MaxAttempts bounds the attempts of an idempotent tool's call. Zero
	// means 5. A tool that is not idempotent runs once, unless
	// RetryInterrupted is set.
	MaxAttempts int32
	// RetryInterrupted runs again a call of a tool that is not idempotent
	// when its worker died, instead of telling the model that it was
	// interrupted. The call's idempotency key lets the tool deduplicate.
	RetryInterrupted bool
}

func (o ToolOptions) withDefaults() ToolOptions {
	if o.StartToClose <= 0 {
		o.StartToClose = 10 * time.Minute
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	return o
}

func (o *WorkerOptions) toolOptions(name string) ToolOptions {
	if t, ok := o.Tools[name]; ok {
		return t.withDefaults()
	}
	return o.DefaultTool.withDefaults()
}

func (o *WorkerOptions) maxOutputBytes() int {
	if o.MaxOutputBytes <= 0 {
		return 512 << 10
	}
	return o.MaxOutputBytes
}

// Worker runs agent runs on a Temporal task queue: the workflow that
// drives the loop's [agent.Machine], and the activities that perform its
// actions with an ordinary [*agent.Agent]'s tools and client.
type Worker struct {
	w   worker.Worker
	act *activities
}

// NewWorker returns a worker that polls taskQueue through c and runs the
// runs of a's tools. It does not start polling; see [Worker.Start] and
// [Worker.Run].
func NewWorker(c client.Client, taskQueue string, a *agent.Agent, opts *WorkerOptions) (*Worker, error) {
	if a == nil {
		return nil, errors.New("temporal: NewWorker: nil agent")
	}
	var o WorkerOptions
	if opts != nil {
		o = *opts
	}
	if o.Client == nil && a.Client() == nil {
		return nil, errors.New("temporal: NewWorker: the agent has no client and WorkerOptions.Client is not set")
	}
	var wo worker.Options
	if o.Worker != nil {
		wo = *o.Worker
	}
	w := &Worker{w: worker.New(c, taskQueue, wo), act: &activities{a: a, opts: o}}
	Register(w.w, a, o)
	return w, nil
}

// Register registers the workflow and the activities with r: use it to
// add them to a worker of your own (or a test environment).
func (w *Worker) Register(r worker.Registry) {
	Register(r, w.act.a, w.act.opts)
}

// Register registers the run workflow and activities of agent a with r.
// It panics if a is nil, or if a has no client and opts.Client is nil: a
// worker without them could run nothing.
func Register(r worker.Registry, a *agent.Agent, opts WorkerOptions) {
	if a == nil || (opts.Client == nil && a.Client() == nil) {
		panic("temporal.Register: need an agent with a client (or WorkerOptions.Client)")
	}
	act := &activities{a: a, opts: opts}
	r.RegisterWorkflowWithOptions(RunWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterActivityWithOptions(act.listTools, activity.RegisterOptions{Name: ListToolsActivity})
	r.RegisterActivityWithOptions(act.model, activity.RegisterOptions{Name: ModelActivity})
	r.RegisterActivityWithOptions(act.compact, activity.RegisterOptions{Name: CompactActivity})
	r.RegisterActivityWithOptions(act.review, activity.RegisterOptions{Name: ReviewActivity})
	r.RegisterActivityWithOptions(act.call, activity.RegisterOptions{Name: CallActivity})
	r.RegisterActivityWithOptions(act.decline, activity.RegisterOptions{Name: DeclineActivity})
	r.RegisterActivityWithOptions(act.handOff, activity.RegisterOptions{Name: HandOffActivity})
}

// Start starts polling; Stop stops.
func (w *Worker) Start() error { return w.w.Start() }

// Run polls until interruptCh yields (see [worker.InterruptCh]).
func (w *Worker) Run(interruptCh <-chan any) error { return w.w.Run(interruptCh) }

// Stop stops the worker, waiting for running activities up to the worker's
// stop timeout.
func (w *Worker) Stop() { w.w.Stop() }
