package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
)

// chat is the state of one model request's span, touched only by the
// goroutine that sends the request and reads its stream.
type chat struct {
	i        *Instrumentation
	span     trace.Span
	start    time.Time
	first    time.Time // the first chunk of output
	created  int       // response.created events: more than one means the stream restarted
	streamed bool
}

func (i *Instrumentation) wrapModel(next agent.ModelHandler) agent.ModelHandler {
	return func(ctx context.Context, call *agent.ModelCall) (*responses.Response, error) {
		req := call.Request
		model := req.Model
		attrs := make([]attribute.KeyValue, 0, 16)
		attrs = append(attrs, keyOperation.String(opChat))
		attrs = append(attrs, i.base...)
		attrs = append(attrs, keyRequestModel.String(model))
		attrs = append(attrs, i.server...)
		attrs = append(attrs, keyTurn.Int(call.Turn))
		if call.Agent != "" {
			attrs = append(attrs, keyAgentName.String(call.Agent))
		}
		if call.Retry {
			attrs = append(attrs, keyReask.Bool(true))
		}
		if req.MaxOutputTokens != nil {
			attrs = append(attrs, keyRequestMaxTokens.Int64(*req.MaxOutputTokens))
		}
		if req.Temperature != nil {
			attrs = append(attrs, keyRequestTemp.Float64(*req.Temperature))
		}
		if req.TopP != nil {
			attrs = append(attrs, keyRequestTopP.Float64(*req.TopP))
		}
		if tc := toolChoice(req.ToolChoice); tc != "" {
			attrs = append(attrs, keyToolChoice.String(tc))
		}
		if req.Conversation != "" {
			attrs = append(attrs, keyConversationID.String(req.Conversation))
			if rs := runOf(ctx); rs != nil {
				rs.mu.Lock()
				rs.convID = req.Conversation
				rs.mu.Unlock()
			}
		}
		c := &chat{i: i, start: time.Now()}
		ctx, c.span = i.tracer.Start(parentOf(ctx), opChat+" "+model, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...), trace.WithTimestamp(c.start))
		recording := c.span.IsRecording()
		if recording && i.opts.CaptureContent {
			c.span.SetAttributes(requestContent(req)...)
		}
		if recording || i.ttfc.Enabled(ctx) {
			ctx = responses.WithClientTrace(ctx, &responses.ClientTrace{Retry: c.retry, StreamEvent: c.event})
		}
		resp, err := next(ctx, call)
		end := time.Now()
		c.finish(ctx, model, resp, err, end)
		return resp, err
	}
}

// retry records a retry of the request as a span event.
func (c *chat) retry(ri responses.RetryInfo) {
	attrs := []attribute.KeyValue{keyRetry.Int(ri.Retry), keyRetryDelay.Int64(ri.Delay.Milliseconds()), keyErrorType.String(errorType(ri.Err))}
	var apiErr *responses.APIError
	if errors.As(ri.Err, &apiErr) && apiErr.StatusCode != 0 {
		attrs = append(attrs, keyHTTPStatus.Int(apiErr.StatusCode))
	}
	c.span.AddEvent(eventRetry, trace.WithAttributes(attrs...))
}

// event watches the stream for its first chunk of output and restarts.
func (c *chat) event(ev *responses.Event) {
	c.streamed = true
	switch {
	case ev.Type == "response.created":
		if c.created++; c.created > 1 {
			c.span.AddEvent(eventRestarted)
			c.first = time.Time{}
		}
	case c.first.IsZero() && isChunk(ev.Type):
		c.first = time.Now()
	}
}

// isChunk reports whether a stream event carries output: a delta of text,
// reasoning or call arguments, or an output item.
func isChunk(typ string) bool {
	return strings.HasSuffix(typ, ".delta") || typ == "response.output_item.added" || typ == "response.output_item.done"
}

func (c *chat) finish(ctx context.Context, model string, resp *responses.Response, err error, end time.Time) {
	i := c.i
	span := c.span
	respModel := ""
	if resp != nil {
		respModel = resp.Model
	}
	errType := ""
	if err != nil {
		errType = errorType(err)
	}
	var ttfc float64
	if !c.first.IsZero() {
		ttfc = c.first.Sub(c.start).Seconds()
	}
	if span.IsRecording() {
		span.SetAttributes(keyRequestStream.Bool(c.streamed))
		if ttfc > 0 {
			span.SetAttributes(keyTTFC.Float64(ttfc))
		}
		if resp != nil {
			span.SetAttributes(keyResponseID.String(resp.ID))
			if resp.Model != "" {
				span.SetAttributes(keyResponseModel.String(resp.Model))
			}
			if reason := finishReason(resp); reason != "" {
				span.SetAttributes(keyFinishReasons.StringSlice([]string{reason}))
			}
			if resp.Usage != nil {
				span.SetAttributes(usageAttrs(resp.Usage)...)
			}
			if i.opts.CaptureContent {
				span.SetAttributes(keyOutputMessages.String(itemsJSON(resp.Output)))
			}
			for _, it := range resp.Output {
				hostedEvent(span, it)
			}
		}
		endSpan(span, err, errType, end)
	}
	if !i.opDuration.Enabled(ctx) && !i.tokenUsage.Enabled(ctx) && !i.ttfc.Enabled(ctx) {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, keyOperation.String(opChat), keyRequestModel.String(model))
	attrs = append(attrs, i.base...)
	attrs = append(attrs, i.server...)
	if respModel != "" {
		attrs = append(attrs, keyResponseModel.String(respModel))
	}
	if ttfc > 0 {
		i.ttfc.Record(ctx, ttfc, metric.WithAttributes(attrs...))
	}
	if resp != nil && resp.Usage != nil {
		n := len(attrs)
		i.tokenUsage.Record(ctx, resp.Usage.InputTokens, metric.WithAttributes(append(attrs[:n:n], keyTokenType.String("input"))...))
		i.tokenUsage.Record(ctx, resp.Usage.OutputTokens, metric.WithAttributes(append(attrs[:n:n], keyTokenType.String("output"))...))
	}
	if errType != "" {
		attrs = append(attrs, keyErrorType.String(errType))
	}
	i.opDuration.Record(ctx, end.Sub(c.start).Seconds(), metric.WithAttributes(attrs...))
}

// finishReason is the response's status, or for an incomplete one its
// reason.
func finishReason(resp *responses.Response) string {
	if resp.Status == "incomplete" && resp.IncompleteDetails != nil && resp.IncompleteDetails.Reason != "" {
		return resp.IncompleteDetails.Reason
	}
	return resp.Status
}

// toolChoice names a request's tool choice without its content: the mode,
// or the forced tool's type.
func toolChoice(tc *responses.ToolChoice) string {
	switch {
	case tc == nil:
		return ""
	case tc.Mode != "":
		return tc.Mode
	}
	var obj struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(tc.Object, &obj) == nil && obj.Type != "" {
		return obj.Type
	}
	return "object"
}

// requestContent returns the opt-in content attributes of a request.
func requestContent(req *responses.Request) []attribute.KeyValue {
	input := itemsJSON(req.Input.Items)
	if req.Input.Text != "" {
		input = string(responses.MustJSON([]any{map[string]string{"role": "user", "content": req.Input.Text}}))
	}
	attrs := []attribute.KeyValue{keyInputMessages.String(input)}
	if req.Instructions != "" {
		attrs = append(attrs, keySystemInstructions.String(req.Instructions))
	}
	if len(req.Tools) > 0 {
		if b, err := json.Marshal(req.Tools); err == nil {
			attrs = append(attrs, keyToolDefinitions.String(string(b)))
		}
	}
	return attrs
}

// itemsJSON returns items as a JSON array, each as it travels on the wire.
func itemsJSON(items []responses.Item) string {
	var b strings.Builder
	b.WriteByte('[')
	for n, it := range items {
		if n > 0 {
			b.WriteByte(',')
		}
		if raw := it.Raw(); raw != nil {
			b.Write(raw)
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte(']')
	return b.String()
}

// hostedEvent records a call the server ran (web search, file search, code
// interpreter, image generation, hosted MCP) as a span event of its
// request: the tool, the item's id and status, and for MCP the server
// label and the remote tool. Other items are ignored.
func hostedEvent(span trace.Span, it responses.Item) {
	var name string
	attrs := make([]attribute.KeyValue, 0, 6)
	switch it.Type {
	case responses.TypeWebSearchCall, responses.TypeFileSearchCall, responses.TypeCodeInterpreterCall, responses.TypeImageGenerationCall:
		name = strings.TrimSuffix(it.Type, "_call")
	case responses.TypeMCPCall:
		var c struct {
			ServerLabel string          `json:"server_label"`
			Error       json.RawMessage `json:"error"`
		}
		_ = it.Decode(&c)
		name = it.Name
		attrs = append(attrs, keyMCPServer.String(c.ServerLabel), keyMCPTool.String(it.Name))
		if e := strings.TrimSpace(string(c.Error)); e != "" && e != "null" {
			attrs = append(attrs, keyErrorType.String("error"))
		}
	default:
		return
	}
	attrs = append(attrs, keyToolName.String(name), keyToolType.String(toolTypeExtension), keyToolCallID.String(it.ID), keyItemStatus.String(it.Status))
	span.AddEvent(eventHostedTool, trace.WithAttributes(attrs...))
}
