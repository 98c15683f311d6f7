package responses

import "encoding/json"

// Hosted tools run on the server: the request declares them in tools and
// the response carries their call items (web_search_call, ...), which the
// client never answers but must replay in stateless mode. The structs below
// build their definitions; pass one to [NewToolDefinition]. Options not
// modelled here can be set with a map or a json.RawMessage instead.

// Item types of hosted tool calls.
const (
	TypeWebSearchCall       = "web_search_call"
	TypeFileSearchCall      = "file_search_call"
	TypeCodeInterpreterCall = "code_interpreter_call"
	TypeImageGenerationCall = "image_generation_call"
)

// WebSearchTool is the definition of the hosted web search tool.
type WebSearchTool struct {
	Type              string            `json:"type"` // "web_search" (or "web_search_preview")
	Filters           *WebSearchFilters `json:"filters,omitempty"`
	UserLocation      *UserLocation     `json:"user_location,omitempty"`
	SearchContextSize string            `json:"search_context_size,omitempty"` // low, medium, high
	// ExternalWebAccess false restricts the search to cached content; nil
	// leaves the server's default.
	ExternalWebAccess *bool `json:"external_web_access,omitempty"`
}

// WebSearchFilters restricts a web search.
type WebSearchFilters struct {
	AllowedDomains []string `json:"allowed_domains,omitempty"`
}

// UserLocation is the approximate location web search results are tailored
// to.
type UserLocation struct {
	Type     string `json:"type"` // "approximate"
	Country  string `json:"country,omitempty"`
	City     string `json:"city,omitempty"`
	Region   string `json:"region,omitempty"`
	Timezone string `json:"timezone,omitempty"`
}

// FileSearchTool is the definition of the hosted file search tool over
// vector stores.
type FileSearchTool struct {
	Type           string          `json:"type"` // "file_search"
	VectorStoreIDs []string        `json:"vector_store_ids"`
	MaxNumResults  int             `json:"max_num_results,omitempty"`
	Filters        json.RawMessage `json:"filters,omitempty"`
	RankingOptions json.RawMessage `json:"ranking_options,omitempty"`
}

// CodeInterpreterTool is the definition of the hosted code interpreter.
// Container is a container id ("cntr_…") or an object such as
// {"type":"auto"}; see [AutoContainer].
type CodeInterpreterTool struct {
	Type      string          `json:"type"` // "code_interpreter"
	Container json.RawMessage `json:"container"`
}

// AutoContainer returns the container value {"type":"auto"} with the given
// uploaded files, for [CodeInterpreterTool].
func AutoContainer(fileIDs ...string) json.RawMessage {
	c := struct {
		Type    string   `json:"type"`
		FileIDs []string `json:"file_ids,omitempty"`
	}{Type: "auto", FileIDs: fileIDs}
	return MustJSON(c)
}

// ImageGenerationTool is the definition of the hosted image generator. Zero
// fields leave the server's defaults.
type ImageGenerationTool struct {
	Type          string `json:"type"`              // "image_generation"
	Model         string `json:"model,omitempty"`   // e.g. "gpt-image-1"
	Size          string `json:"size,omitempty"`    // "1024x1024", "auto", ...
	Quality       string `json:"quality,omitempty"` // low, medium, high, auto
	OutputFormat  string `json:"output_format,omitempty"`
	Background    string `json:"background,omitempty"` // transparent, opaque, auto
	PartialImages int    `json:"partial_images,omitempty"`
	Moderation    string `json:"moderation,omitempty"`
}

// ShellTool is the definition of the shell tool. With a local environment
// the client runs the commands (see package tools/shell); with a container
// environment the server runs them and answers its own shell_call with a
// shell_call_output.
type ShellTool struct {
	Type        string            `json:"type"`                  // "shell"
	Environment *ShellEnvironment `json:"environment,omitempty"` // always set it: the default is not documented
}

// ShellEnvironment says where the shell tool's commands run: Type "local",
// "container_auto" (a new hosted container) or "container_reference" (an
// existing one, by ContainerID).
type ShellEnvironment struct {
	Type          string         `json:"type"`
	ContainerID   string         `json:"container_id,omitempty"`
	FileIDs       []string       `json:"file_ids,omitempty"`
	MemoryLimit   string         `json:"memory_limit,omitempty"` // 1g, 4g, 16g, 64g
	NetworkPolicy *NetworkPolicy `json:"network_policy,omitempty"`
	Skills        []ShellSkill   `json:"skills,omitempty"`
}

// NetworkPolicy is a hosted container's network access: Type "disabled",
// or "allowlist" with the AllowedDomains it may reach and secrets the server
// injects for some of them.
type NetworkPolicy struct {
	Type           string         `json:"type"`
	AllowedDomains []string       `json:"allowed_domains,omitempty"`
	DomainSecrets  []DomainSecret `json:"domain_secrets,omitempty"`
}

// DomainSecret is a secret the hosted container's network proxy injects into
// requests to Domain, so the model never sees it.
type DomainSecret struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
	Value  string `json:"value"`
}

// ShellSkill is a skill the shell environment makes known to the model.
type ShellSkill struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Path        string `json:"path,omitempty"`
}

// HostedShell returns a shell tool running in a new hosted container with
// the given network policy (nil leaves the server's default).
func HostedShell(policy *NetworkPolicy) ShellTool {
	return ShellTool{Type: "shell", Environment: &ShellEnvironment{Type: "container_auto", NetworkPolicy: policy}}
}

// WebSearchCall is a web_search_call item. Action.Type is "search" (Query,
// Sources), "open_page" (URL) or "find_in_page" (URL, Pattern).
type WebSearchCall struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Status string          `json:"status,omitempty"`
	Action WebSearchAction `json:"action"`
}

// WebSearchAction is what a web search call did.
type WebSearchAction struct {
	Type    string          `json:"type"`
	Query   string          `json:"query,omitempty"`
	Queries []string        `json:"queries,omitempty"`
	URL     string          `json:"url,omitempty"`
	Pattern string          `json:"pattern,omitempty"`
	Sources json.RawMessage `json:"sources,omitempty"`
}

// FileSearchCall is a file_search_call item.
type FileSearchCall struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Status  string          `json:"status,omitempty"`
	Queries []string        `json:"queries"`
	Results json.RawMessage `json:"results,omitempty"`
}

// CodeInterpreterCall is a code_interpreter_call item.
type CodeInterpreterCall struct {
	Type        string                  `json:"type"`
	ID          string                  `json:"id"`
	Status      string                  `json:"status,omitempty"`
	Code        string                  `json:"code"`
	ContainerID string                  `json:"container_id,omitempty"`
	Outputs     []CodeInterpreterOutput `json:"outputs,omitempty"`
}

// CodeInterpreterOutput is {"type":"logs","logs"} or {"type":"image","url"}.
type CodeInterpreterOutput struct {
	Type string `json:"type"`
	Logs string `json:"logs,omitempty"`
	URL  string `json:"url,omitempty"`
}

// ImageGenerationCall is an image_generation_call item; Result is the
// base64 image.
type ImageGenerationCall struct {
	Type          string `json:"type"`
	ID            string `json:"id"`
	Status        string `json:"status,omitempty"`
	Result        string `json:"result,omitempty"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}
