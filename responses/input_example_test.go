package responses_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/responses/responsestest"
)

func ExampleNewMessage() {
	msg := responses.NewMessage(responses.RoleUser,
		responses.InputText("What is in this picture, and does the report agree?"),
		responses.InputImageURL("https://example.test/cat.jpg", responses.ImageDetailLow),
		responses.InputFileID("file_report"),
	)
	fmt.Println(string(msg.Raw()))
	fmt.Println(string(responses.DeveloperMessage("Answer in one sentence.").Raw()))
	// Output:
	// {"type":"message","role":"user","content":[{"type":"input_text","text":"What is in this picture, and does the report agree?"},{"type":"input_image","image_url":"https://example.test/cat.jpg","detail":"low"},{"type":"input_file","file_id":"file_report"}]}
	// {"type":"message","role":"developer","content":[{"type":"input_text","text":"Answer in one sentence."}]}
}

func ExampleInputImageFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "dot.gif")
	_ = os.WriteFile(path, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 0o600)

	part, err := responses.InputImageFile(path, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(part.Type, part.Detail, part.ImageURL)
	// Output:
	// input_image auto data:image/gif;base64,R0lGODlhAQABAAAAADs=
}

func ExampleInputFileData() {
	part := responses.InputFileData("notes.csv", []byte("a,b\n1,2\n"), "")
	fmt.Println(part.Type, part.Filename, part.FileData)
	// Output:
	// input_file notes.csv data:text/csv;base64,YSxiCjEsMgo=
}

func ExampleHostedShell() {
	tool := responses.HostedShell(&responses.NetworkPolicy{Type: "allowlist", AllowedDomains: []string{"pypi.org"}})
	tool.Environment.MemoryLimit = "4g"
	fmt.Println(string(responses.MustToolDefinition(tool).Raw()))
	// Output:
	// {"type":"shell","environment":{"type":"container_auto","memory_limit":"4g","network_policy":{"type":"allowlist","allowed_domains":["pypi.org"]}}}
}

func ExampleClient_Compact() {
	srv := responsestest.NewServer()
	defer srv.Close()
	c := responses.NewClient(&responses.ClientOptions{Provider: responses.Compatible, BaseURL: srv.URL})
	cmp, err := c.Compact(context.Background(), &responses.CompactRequest{
		Model: "gpt-5",
		Input: responses.ItemsInput(
			responses.UserMessage("Summarise the incident."),
			responses.AssistantMessage("The database failed over at 02:10."),
		),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range cmp.Output {
		fmt.Println(it.Type)
	}
	// Output:
	// message
	// compaction
}
