package telemetry

import (
	"context"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
)

func (i *Instrumentation) wrapTool(next agent.ToolHandler) agent.ToolHandler {
	return func(ctx context.Context, call tools.Call) (responses.Item, error) {
		name := toolName(call.Type, call.Name)
		attrs := i.toolAttrs(call.Type, name, call.CallID)
		if call.Type == responses.TypeApplyPatchCall {
			attrs = append(attrs, patchAttrs(call.Item)...)
		}
		start := time.Now()
		ctx, span := i.tracer.Start(parentOf(ctx), opExecuteTool+" "+name, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...), trace.WithTimestamp(start))
		if span.IsRecording() {
			if rs := runOf(ctx); rs != nil {
				if ap, ok := rs.takeApproval(call.CallID); ok {
					ap.addEvents(span)
				}
			}
			if i.opts.CaptureContent {
				span.SetAttributes(keyToolArguments.String(arguments(call.Item)))
			}
		}
		out, err := next(ctx, call)
		end := time.Now()
		outcome := tools.OutcomeOf(err)
		if span.IsRecording() {
			span.SetAttributes(keyOutcome.String(string(outcome)))
			if code, ok := exitCode(out); ok {
				span.SetAttributes(keyExitCode.Int(code))
			}
			if i.opts.CaptureContent && !out.IsZero() {
				span.SetAttributes(keyToolResult.String(string(out.Raw())))
			}
			if err != nil {
				span.SetAttributes(keyErrorType.String(string(outcome)))
				span.SetStatus(codes.Error, string(outcome))
			}
			span.End(trace.WithTimestamp(end))
		}
		if i.toolDur.Enabled(ctx) {
			mattrs := []attribute.KeyValue{keyOperation.String(opExecuteTool), keyToolName.String(name), keyToolType.String(i.toolType(call.Type, name))}
			if err != nil {
				mattrs = append(mattrs, keyErrorType.String(string(outcome)))
			}
			i.toolDur.Record(ctx, end.Sub(start).Seconds(), metric.WithAttributes(mattrs...))
		}
		return out, err
	}
}

// toolAttrs returns the attributes of an execute_tool span known at its
// start.
func (i *Instrumentation) toolAttrs(callType, name, callID string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs, keyOperation.String(opExecuteTool))
	attrs = append(attrs, i.base...)
	attrs = append(attrs, keyToolName.String(name), keyToolCallID.String(callID),
		keyToolType.String(i.toolType(callType, name)), keyCallType.String(callType))
	switch callType {
	case responses.TypeShellCall, responses.TypeLocalShellCall:
		if m := i.opts.ShellSandbox; m != "" {
			attrs = append(attrs, keySandbox.String(m), keySandboxed.Bool(m != "danger-full-access"))
		}
	case responses.TypeFunctionCall:
		if i.opts.MCPTool != nil {
			if server, tool, ok := i.opts.MCPTool(name); ok {
				attrs = append(attrs, keyMCPServer.String(server), keyMCPTool.String(tool))
			}
		}
	}
	return attrs
}

func (i *Instrumentation) toolType(callType, name string) string {
	if callType == responses.TypeFunctionCall && i.opts.MCPTool != nil {
		if _, _, ok := i.opts.MCPTool(name); ok {
			return toolTypeExtension
		}
	}
	return toolTypeFunction
}

// toolName is a call's tool name: the function or custom tool's name, else
// its type without "_call" ("shell", "apply_patch", "computer").
func toolName(callType, name string) string {
	if name != "" {
		return name
	}
	return strings.TrimSuffix(callType, "_call")
}

// patchAttrs returns the operation and file of an apply_patch_call.
func patchAttrs(it responses.Item) []attribute.KeyValue {
	var c responses.ApplyPatchCall
	if it.Decode(&c) != nil || c.Operation.Path == "" {
		return nil
	}
	return []attribute.KeyValue{keyPatchOperation.String(c.Operation.Type), keyPatchFiles.StringSlice([]string{c.Operation.Path})}
}

// exitCode returns the exit code of a shell call's output: that of its last
// command.
func exitCode(out responses.Item) (int, bool) {
	if out.Type != responses.TypeShellCallOutput {
		return 0, false
	}
	var o responses.ShellCallOutput
	if out.Decode(&o) != nil || len(o.Output) == 0 {
		return 0, false
	}
	last := o.Output[len(o.Output)-1].Outcome
	if last.ExitCode == nil {
		return 0, false
	}
	return *last.ExitCode, true
}

// arguments returns a call's arguments: a function call's arguments, a
// custom call's input, or the whole item for other calls.
func arguments(it responses.Item) string {
	var c struct {
		Arguments *string `json:"arguments"`
		Input     *string `json:"input"`
	}
	if it.Decode(&c) == nil {
		switch {
		case c.Arguments != nil:
			return *c.Arguments
		case c.Input != nil:
			return *c.Input
		}
	}
	return string(it.Raw())
}
