package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// Every name this package writes is in this file, so that a rename of the
// GenAI conventions (they are in development, and moved to a repository of
// their own after v1.41.0 with renames queued) is one change here.
//
// The conventions followed are those of semantic-conventions v1.41.0
// (go.opentelemetry.io/otel/semconv/v1.41.0, the newest otel-go package
// with the gen_ai.* names): gen-ai-agent-spans (invoke_agent),
// gen-ai-spans (chat, execute_tool) and gen-ai-metrics. Names of our own,
// for what the conventions do not name, start with "agentloop.".

// SemconvVersion is the version of the semantic conventions followed.
const SemconvVersion = "1.41.0"

// SchemaURL is the schema of the conventions followed.
const SchemaURL = semconv.SchemaURL

// Operation names (gen_ai.operation.name), which also begin span names.
const (
	opChat        = "chat"
	opInvokeAgent = "invoke_agent"
	opExecuteTool = "execute_tool"
)

// Attribute keys of the conventions.
const (
	keyOperation        = semconv.GenAIOperationNameKey
	keyProvider         = semconv.GenAIProviderNameKey
	keySystem           = attribute.Key("gen_ai.system") // deprecated for gen_ai.provider.name; see stabilityOptIn
	keyAgentName        = semconv.GenAIAgentNameKey
	keyConversationID   = semconv.GenAIConversationIDKey
	keyRequestModel     = semconv.GenAIRequestModelKey
	keyRequestMaxTokens = semconv.GenAIRequestMaxTokensKey
	keyRequestTemp      = semconv.GenAIRequestTemperatureKey
	keyRequestTopP      = semconv.GenAIRequestTopPKey
	keyRequestStream    = semconv.GenAIRequestStreamKey
	keyResponseID       = semconv.GenAIResponseIDKey
	keyResponseModel    = semconv.GenAIResponseModelKey
	keyFinishReasons    = semconv.GenAIResponseFinishReasonsKey
	keyTTFC             = semconv.GenAIResponseTimeToFirstChunkKey
	keyInputTokens      = semconv.GenAIUsageInputTokensKey
	keyOutputTokens     = semconv.GenAIUsageOutputTokensKey
	keyCachedTokens     = semconv.GenAIUsageCacheReadInputTokensKey
	keyReasoningTokens  = semconv.GenAIUsageReasoningOutputTokensKey
	keyTokenType        = semconv.GenAITokenTypeKey
	keyToolName         = semconv.GenAIToolNameKey
	keyToolCallID       = semconv.GenAIToolCallIDKey
	keyToolType         = semconv.GenAIToolTypeKey
	keyErrorType        = semconv.ErrorTypeKey
	keyServerAddress    = semconv.ServerAddressKey
	keyServerPort       = semconv.ServerPortKey
	keyHTTPStatus       = semconv.HTTPResponseStatusCodeKey
	keyExitCode         = semconv.ProcessExitCodeKey

	// Opt-in content (Options.CaptureContent).
	keySystemInstructions = semconv.GenAISystemInstructionsKey
	keyInputMessages      = semconv.GenAIInputMessagesKey
	keyOutputMessages     = semconv.GenAIOutputMessagesKey
	keyToolDefinitions    = semconv.GenAIToolDefinitionsKey
	keyToolArguments      = semconv.GenAIToolCallArgumentsKey
	keyToolResult         = semconv.GenAIToolCallResultKey
)

// Attribute keys of our own.
const (
	keyTurn           = attribute.Key("agentloop.turn")            // a request's number within its run, from 1
	keyTurns          = attribute.Key("agentloop.run.turns")       // responses a run created
	keyToolCalls      = attribute.Key("agentloop.run.tool_calls")  // calls a run ran
	keyStopReason     = attribute.Key("agentloop.run.stop_reason") // Result.StopReason
	keyResumed        = attribute.Key("agentloop.run.resumed")
	keyReask          = attribute.Key("agentloop.request.reask")       // the turn asked again after its stream broke
	keyToolChoice     = attribute.Key("agentloop.request.tool_choice") // "auto", "required", or the object's type
	keyCallType       = attribute.Key("agentloop.tool.call_type")      // the call item's type
	keyOutcome        = attribute.Key("agentloop.tool.outcome")        // tools.OutcomeOf the call's error
	keySandbox        = attribute.Key("agentloop.shell.sandbox")       // the shell's sandbox mode
	keySandboxed      = attribute.Key("agentloop.shell.sandboxed")
	keyPatchFiles     = attribute.Key("agentloop.apply_patch.files")
	keyPatchOperation = attribute.Key("agentloop.apply_patch.operation")
	keyMCPServer      = attribute.Key("agentloop.mcp.server")
	keyMCPTool        = attribute.Key("agentloop.mcp.tool")
	keyRetry          = attribute.Key("agentloop.retry")          // a retry's number
	keyRetryDelay     = attribute.Key("agentloop.retry.delay_ms") // its wait
	keyApproved       = attribute.Key("agentloop.approval.approved")
	keyApprovalBy     = attribute.Key("agentloop.approval.by") // who decided: the name given to Instrumentation.Approver
	keyApprovalAlways = attribute.Key("agentloop.approval.always")
	keyApprovalDefer  = attribute.Key("agentloop.approval.deferred")
	keyApprovalKind   = attribute.Key("agentloop.approval.kind")
	keyItemStatus     = attribute.Key("agentloop.item.status") // a hosted call's status
)

// Span event names.
const (
	eventRetry             = "agentloop.retry"
	eventRestarted         = "agentloop.stream_restarted"
	eventApprovalRequested = "agentloop.approval.requested"
	eventApprovalDecided   = "agentloop.approval.decided"
	eventHostedTool        = "agentloop.hosted_tool" // a call the server ran (web search, hosted MCP, ...)
	eventHandoff           = "agentloop.handoff"     // the run goes on under another agent
)

// Metric names, units and the conventions' bucket advice.
const (
	metricTokenUsage   = "gen_ai.client.token.usage"
	metricOpDuration   = "gen_ai.client.operation.duration"
	metricTTFC         = "gen_ai.client.operation.time_to_first_chunk"
	metricToolDuration = "gen_ai.execute_tool.duration" // not in v1.41.0: from the GenAI repository's drafts
)

var (
	tokenBuckets    = []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}
	durationBuckets = []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92}
)

// Tool types (gen_ai.tool.type): "function" runs in the application,
// "extension" runs on an external service the agent calls (an MCP server).
const (
	toolTypeFunction  = "function"
	toolTypeExtension = "extension"
)

// stabilityOptIn is the value of OTEL_SEMCONV_STABILITY_OPT_IN that asks
// for the latest experimental GenAI conventions only.
const stabilityOptIn = "gen_ai_latest_experimental"
