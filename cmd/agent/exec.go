package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
)

// loadOutputSchema reads --output-schema: a JSON Schema the final answer
// must match. It returns the text format that asks the model for it and
// the compiled schema that checks the answer.
func loadOutputSchema(path string) (responses.TextFormat, *jsonschema.Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return responses.TextFormat{}, nil, usagef("--output-schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return responses.TextFormat{}, nil, usagef("--output-schema %s: not JSON: %v", path, err)
	}
	if m, ok := doc.(map[string]any); !ok || m["type"] != "object" {
		return responses.TextFormat{}, nil, usagef("--output-schema %s: the schema must describe an object (\"type\": \"object\" at the top)", path)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("output-schema.json", doc); err != nil {
		return responses.TextFormat{}, nil, usagef("--output-schema %s: %v", path, err)
	}
	sch, err := c.Compile("output-schema.json")
	if err != nil {
		return responses.TextFormat{}, nil, usagef("--output-schema %s: %v", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, name)
	if name == "" {
		name = "output"
	}
	strict := strictable(doc)
	return responses.TextFormat{Type: "json_schema", Name: name, Schema: json.RawMessage(data), Strict: &strict}, sch, nil
}

// strictable reports whether the API's strict mode accepts the schema:
// every object lists all its properties as required and forbids others.
func strictable(doc any) bool {
	switch v := doc.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			req, _ := v["required"].([]any)
			if v["additionalProperties"] != false || len(req) != len(props) {
				return false
			}
		}
		for _, c := range v {
			if !strictable(c) {
				return false
			}
		}
	case []any:
		for _, c := range v {
			if !strictable(c) {
				return false
			}
		}
	}
	return true
}

// checkOutput checks the final answer against --output-schema.
func checkOutput(sch *jsonschema.Schema, text string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("the final answer is not the JSON --output-schema asks for: %v", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("the final answer does not match --output-schema: %v", err)
	}
	return nil
}

// imageTypes are the image formats -i accepts, by extension.
var imageTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}

// loadImages reads the -i images as input_image parts.
func loadImages(paths []string) ([]responses.ContentPart, error) {
	var parts []responses.ContentPart
	for _, p := range paths {
		for _, p := range strings.Split(p, ",") {
			if _, ok := imageTypes[strings.ToLower(filepath.Ext(p))]; !ok {
				return nil, usagef("-i/--image %s: not a png, jpeg, webp or gif file", p)
			}
			part, err := responses.InputImageFile(p, "")
			if err != nil {
				return nil, usagef("-i/--image: %v", err)
			}
			parts = append(parts, part)
		}
	}
	return parts, nil
}

// runFailure says in one line why a run failed. An unreachable server
// names the URL once, the cause and the attempts made.
func (a *app) runFailure(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		cause := ue.Err.Error()
		var op *net.OpError
		if errors.As(ue.Err, &op) && op.Err != nil {
			cause = op.Err.Error()
		}
		return fmt.Sprintf("cannot reach the model server at %s: %s (gave up after %d attempts; check --base-url or the provider's base URL variable)",
			ue.URL, cause, a.retries+1)
	}
	return err.Error()
}

// budgetStop says which budget ended a task and how to go on, or "" when
// none did.
func (a *app) budgetStop(res *agent.Result, err error) string {
	reason := ""
	switch {
	case errors.Is(err, agent.ErrMaxTurns):
		reason = "max_turns"
	case err == nil && res != nil && (res.StopReason == "max_tokens" || res.StopReason == "max_duration"):
		reason = res.StopReason
	default:
		return ""
	}
	how := "continue with: agent resume " + a.sess.ID()
	if reason == "max_turns" {
		how += " --max-turns N (0 for no limit)"
	}
	return fmt.Sprintf("stopped before the task was done: it reached %s; %s", describeBudget(reason, a.set), how)
}

// writeLastMessage writes the final answer to --output-last-message.
func (a *app) writeLastMessage(text string) {
	if a.f.lastMessage == "" {
		return
	}
	if err := os.WriteFile(a.f.lastMessage, []byte(text), 0o644); err != nil {
		a.ui.notice(fmt.Sprintf("--output-last-message: %v", err))
	}
}
