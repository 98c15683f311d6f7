package agent_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/agentloop/agentloop/agent"
	"github.com/agentloop/agentloop/responses"
	rt "github.com/agentloop/agentloop/responses/responsestest"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/function"
)

// A PNG file header and a tiny PDF are enough to test inlining.
var (
	pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	pdfBytes = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
)

func TestRichInput(t *testing.T) {
	dir := t.TempDir()
	pngPath := filepath.Join(dir, "chart.png")
	pdfPath := filepath.Join(dir, "report.pdf")
	require.NoError(t, os.WriteFile(pngPath, pngBytes, 0o600))
	require.NoError(t, os.WriteFile(pdfPath, pdfBytes, 0o600))
	img, err := responses.InputImageFile(pngPath, responses.ImageDetailHigh)
	require.NoError(t, err)
	file, err := responses.InputFileFromPath(pdfPath)
	require.NoError(t, err)

	items := []responses.Item{
		responses.SystemMessage("You are terse."),
		responses.DeveloperMessage("Answer in English."),
		responses.NewMessage(responses.RoleUser,
			responses.InputText("Compare these."),
			img,
			responses.InputImageURL("https://example.test/a.jpg", ""),
			responses.InputImageID("file_img", responses.ImageDetailLow),
			file,
			responses.InputFileURL("https://example.test/b.pdf"),
			responses.InputFileID("file_doc"),
		),
		responses.AssistantMessage("Which aspect?"),
		responses.UserMessage("Revenue."),
	}
	png64 := base64.StdEncoding.EncodeToString(pngBytes)
	pdf64 := base64.StdEncoding.EncodeToString(pdfBytes)
	want := []string{
		`{"type":"message","role":"system","content":[{"type":"input_text","text":"You are terse."}]}`,
		`{"type":"message","role":"developer","content":[{"type":"input_text","text":"Answer in English."}]}`,
		`{"type":"message","role":"user","content":[` +
			`{"type":"input_text","text":"Compare these."},` +
			`{"type":"input_image","image_url":"data:image/png;base64,` + png64 + `","detail":"high"},` +
			`{"type":"input_image","image_url":"https://example.test/a.jpg","detail":"auto"},` +
			`{"type":"input_image","file_id":"file_img","detail":"low"},` +
			`{"type":"input_file","file_data":"data:application/pdf;base64,` + pdf64 + `","filename":"report.pdf"},` +
			`{"type":"input_file","file_url":"https://example.test/b.pdf"},` +
			`{"type":"input_file","file_id":"file_doc"}]}`,
		`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Which aspect?"}]}`,
		`{"type":"message","role":"user","content":[{"type":"input_text","text":"Revenue."}]}`,
	}

	// A tool that answers with a picture and a file: a list of parts.
	chart := function.New("render_chart", "Render the chart of a metric.",
		func(ctx context.Context, in struct {
			Metric string `json:"metric"`
		}) ([]responses.ContentPart, error) {
			return []responses.ContentPart{
				responses.InputText("Chart of " + in.Metric + ":"),
				responses.InputImageData(pngBytes, "", ""),
				responses.InputFileData("data.csv", []byte("q,rev\n1,10\n"), ""),
			}, nil
		}, nil)
	srv := rt.New(t,
		rt.Output(rt.FunctionCall("call_1", "render_chart", `{"metric":"revenue"}`)),
		rt.Output(rt.Text("Revenue grew.")),
	)
	a := agent.New(client(srv), "test-model", &agent.Options{Tools: []tools.Tool{chart}})
	res, err := a.RunItems(t.Context(), items)
	require.NoError(t, err)
	assert.Equal(t, "Revenue grew.", res.Text)

	reqs := served(srv)
	require.Len(t, reqs, 2)
	got := input(t, reqs[0])
	require.Len(t, got, len(want))
	for i := range want {
		assert.JSONEq(t, want[i], got[i], "input item %d", i)
	}
	assert.Equal(t, []string{`{"type":"function_call_output","call_id":"call_1","output":[` +
		`{"type":"input_text","text":"Chart of revenue:"},` +
		`{"type":"input_image","image_url":"data:image/png;base64,` + png64 + `","detail":"auto"},` +
		`{"type":"input_file","file_data":"data:text/csv;base64,` + base64.StdEncoding.EncodeToString([]byte("q,rev\n1,10\n")) + `","filename":"data.csv"}]}`,
	}, input(t, reqs[1]))
}

func TestRichInputErrors(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(txt, []byte("hello"), 0o600))
	_, err := responses.InputImageFile(txt, "")
	assert.ErrorContains(t, err, "is not an image (text/plain)")
	_, err = responses.InputImageFile(filepath.Join(dir, "missing.png"), "")
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = responses.InputFileFromPath(dir)
	assert.ErrorContains(t, err, "is not a regular file")
	assert.Panics(t, func() { responses.NewMessage("robot") })
}
