package responses

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleSystem    = "system"
	RoleDeveloper = "developer"
)

// Image detail levels of an input_image part. [ImageDetailAuto] is what the
// helpers below send when given "".
const (
	ImageDetailAuto     = "auto"
	ImageDetailLow      = "low"
	ImageDetailHigh     = "high"
	ImageDetailOriginal = "original"
)

// MaxInlineFileSize bounds the files [InputImageFile] and [InputFileFromPath]
// read into a data URL: 50 MiB, the API's limit for an inline file.
const MaxInlineFileSize = 50 << 20

// NewMessage returns an input message item with role (user, system,
// developer or assistant) and the given content parts. An assistant message
// replays what the model said earlier; give it [OutputText] parts. NewMessage
// panics on an unknown role, a programmer error.
func NewMessage(role string, parts ...ContentPart) Item {
	switch role {
	case RoleUser, RoleSystem, RoleDeveloper, RoleAssistant:
	default:
		panic(fmt.Sprintf("responses.NewMessage: unknown role %q", role))
	}
	if parts == nil {
		parts = []ContentPart{}
	}
	return MustItem(Message{Type: TypeMessage, Role: role, Content: MustJSON(parts)})
}

// SystemMessage returns a system message with one input_text part.
func SystemMessage(text string) Item { return NewMessage(RoleSystem, InputText(text)) }

// DeveloperMessage returns a developer message with one input_text part.
func DeveloperMessage(text string) Item { return NewMessage(RoleDeveloper, InputText(text)) }

// AssistantMessage returns an assistant message with one output_text part,
// as the model would have written it: a turn of a conversation replayed (or
// made up) in the input.
func AssistantMessage(text string) Item { return NewMessage(RoleAssistant, OutputText(text)) }

// OutputText returns an output_text content part, for assistant messages.
func OutputText(s string) ContentPart { return ContentPart{Type: "output_text", Text: s} }

// InputImageURL returns an input_image part that points at an https URL or
// carries a data: URL. An empty detail sends "auto".
func InputImageURL(url, detail string) ContentPart {
	return ContentPart{Type: "input_image", ImageURL: url, Detail: orAuto(detail)}
}

// InputImageID returns an input_image part for a file uploaded to the Files
// API. An empty detail sends "auto".
func InputImageID(fileID, detail string) ContentPart {
	return ContentPart{Type: "input_image", FileID: fileID, Detail: orAuto(detail)}
}

// InputImageData returns an input_image part carrying data as a base64 data
// URL. An empty mimeType is sniffed from the data; an empty detail sends
// "auto".
func InputImageData(data []byte, mimeType, detail string) ContentPart {
	return InputImageURL(DataURL(data, mimeType), detail)
}

// InputImageFile reads the image at path (at most [MaxInlineFileSize]
// bytes) and returns it as an input_image part with a data URL. The media
// type comes from the file's extension, else from its content; a file that
// is not an image is an error. An empty detail sends "auto".
func InputImageFile(path, detail string) (ContentPart, error) {
	data, mt, err := readInline(path)
	if err != nil {
		return ContentPart{}, err
	}
	if !strings.HasPrefix(mt, "image/") {
		return ContentPart{}, fmt.Errorf("responses: %s is not an image (%s)", path, mt)
	}
	return InputImageData(data, mt, detail), nil
}

// InputFileData returns an input_file part carrying data inline (as a base64
// data URL) under filename, which the model sees. An empty mimeType is
// derived from filename's extension, else sniffed from the data.
func InputFileData(filename string, data []byte, mimeType string) ContentPart {
	if mimeType == "" {
		mimeType = mime.TypeByExtension(filepath.Ext(filename))
	}
	return ContentPart{Type: "input_file", Filename: filename, FileData: DataURL(data, mimeType)}
}

// InputFileFromPath reads the file at path (at most [MaxInlineFileSize]
// bytes) and returns it as an inline input_file part named after the file.
func InputFileFromPath(path string) (ContentPart, error) {
	data, mt, err := readInline(path)
	if err != nil {
		return ContentPart{}, err
	}
	return InputFileData(filepath.Base(path), data, mt), nil
}

// InputFileURL returns an input_file part the server fetches from url.
func InputFileURL(url string) ContentPart { return ContentPart{Type: "input_file", FileURL: url} }

// InputFileID returns an input_file part for a file uploaded to the Files
// API.
func InputFileID(fileID string) ContentPart { return ContentPart{Type: "input_file", FileID: fileID} }

// DataURL returns data as a base64 data: URL of mimeType; an empty mimeType
// is sniffed from the data (see [http.DetectContentType]).
func DataURL(data []byte, mimeType string) string {
	if mimeType == "" {
		mimeType = http.DetectContentType(data)
	}
	if i := strings.IndexByte(mimeType, ';'); i >= 0 { // "text/plain; charset=utf-8"
		mimeType = strings.TrimSpace(mimeType[:i])
	}
	return "data:" + mimeType + ";base64," + base64.StdEncoding.EncodeToString(data)
}

func orAuto(detail string) string {
	if detail == "" {
		return ImageDetailAuto
	}
	return detail
}

// readInline reads a file for inlining and returns its media type.
func readInline(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("responses: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("responses: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("responses: %s is not a regular file", path)
	}
	if st.Size() > MaxInlineFileSize {
		return nil, "", fmt.Errorf("responses: %s is %d bytes, more than the %d an inline file may have", path, st.Size(), MaxInlineFileSize)
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, "", fmt.Errorf("responses: read %s: %w", path, err)
	}
	mt := mime.TypeByExtension(filepath.Ext(path))
	if mt == "" {
		mt = http.DetectContentType(data)
	}
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	return data, mt, nil
}
