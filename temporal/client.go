package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
)

// Dial connects to the Temporal frontend of opts.HostPort (default
// 127.0.0.1:7233) and checks that it answers, within ctx. A server that is
// not there is an error that says where it was looked for, not a hang.
func Dial(ctx context.Context, opts client.Options) (client.Client, error) {
	if opts.HostPort == "" {
		opts.HostPort = "127.0.0.1:7233"
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("temporal: cannot reach the Temporal server at %s (is it running? a local one: temporal server start-dev --ip 127.0.0.1 --headless): %w", opts.HostPort, err)
	}
	return c, nil
}

// Start starts a run of the agent whose configuration is cfg on the task
// queue of opts, with input as its first request's input, and returns at
// once. Any process can start a run; a [Worker] with the same tools runs it.
func Start(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, in RunInput) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, opts, WorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("temporal: start run: %w", err)
	}
	return run, nil
}

// Result waits for a run's end and returns its result. A run that failed
// returns its partial result with the error, as [agent.Agent.Run] does.
func Result(ctx context.Context, run client.WorkflowRun) (*agent.Result, error) {
	var res *agent.Result
	err := run.Get(ctx, &res)
	if err == nil {
		return res, nil
	}
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &app) && app.Type() == ErrTypeRun:
		_ = app.Details(&res)
	case errors.As(err, &canceled):
		_ = canceled.Details(&res)
	}
	return res, err
}

// Approve answers the pending approval of call callID in run workflowID
// through [ApproveUpdate]; it returns once the run has taken the answer.
// An unknown call id, or a call already answered, is an error.
func Approve(ctx context.Context, c client.Client, workflowID, callID string, ap agent.Approval) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   ApproveUpdate,
		Args:         []any{ApprovalAnswer{CallID: callID, Approval: ap}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return fmt.Errorf("temporal: approve %s in %s: %w", callID, workflowID, err)
	}
	if err := h.Get(ctx, nil); err != nil {
		return fmt.Errorf("temporal: approve %s in %s: %w", callID, workflowID, err)
	}
	return nil
}

// Pending returns the state of run workflowID and the approvals it waits
// for ([StateQuery]).
func Pending(ctx context.Context, c client.Client, workflowID string) (*StateView, error) {
	v, err := c.QueryWorkflow(ctx, workflowID, "", StateQuery)
	if err != nil {
		return nil, fmt.Errorf("temporal: query %s: %w", workflowID, err)
	}
	var sv StateView
	if err := v.Get(&sv); err != nil {
		return nil, fmt.Errorf("temporal: query %s: %w", workflowID, err)
	}
	return &sv, nil
}

// Prompt is the input of a run that sends one user message.
func Prompt(text string) []responses.Item { return []responses.Item{responses.UserMessage(text)} }
