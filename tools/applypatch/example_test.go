package applypatch_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentloop/agentloop/responses"
	"github.com/agentloop/agentloop/tools"
	"github.com/agentloop/agentloop/tools/applypatch"
)

func ExampleParse() {
	p, err := applypatch.Parse(`*** Begin Patch
*** Add File: hello.txt
+hello
*** Update File: main.go
@@ func main() {
-	println("hi")
+	println("hello")
*** Delete File: old.txt
*** End Patch`)
	if err != nil {
		log.Fatal(err)
	}
	for _, op := range p.Ops {
		fmt.Println(op.Kind, op.Path, len(op.Hunks))
	}
	// Output:
	// add hello.txt 0
	// update main.go 1
	// delete old.txt 0
}

func ExampleApply() {
	files := map[string]string{"VERSION": "2.4.0\n"}
	p, err := applypatch.Parse("*** Begin Patch\n*** Update File: VERSION\n@@\n-2.4.0\n+2.4.1\n*** End Patch\n")
	if err != nil {
		log.Fatal(err)
	}
	out, err := applypatch.Apply(files, p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q %q\n", files["VERSION"], out["VERSION"])
	// Output: "2.4.0\n" "2.4.1\n"
}

func ExampleApplyDiff() {
	out, err := applypatch.ApplyDiff("a\r\nb\r\nc\r\n", "@@\n a\n-b\n+B\n c\n")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out)
	// Output: "a\r\nB\r\nc\r\n"
}

func ExampleApplyDiff_notFound() {
	_, err := applypatch.ApplyDiff("func f() {\n\treturn 1\n}\n", "@@\n func f() {\n-\treturn 2\n+\treturn 3\n")
	fmt.Println(err)
	// Output:
	// hunk 1 of 1 (patch line 1): could not find these lines at or after line 1:
	//     func f() {
	//     	return 2
	// The closest lines in the file (1 of 2 lines match) are 1-3:
	//      1  func f() {
	//      2  	return 1
	//      3  }
}

func ExampleMakeDiff() {
	fmt.Print(applypatch.MakeDiff("a\nb\nc\n", "a\nB\nc\n"))
	// Output:
	// @@
	//  a
	// -b
	// +B
	//  c
}

func ExampleNewWorkspace() {
	dir, _ := os.MkdirTemp("", "ws")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "greet.txt"), []byte("hi\n"), 0o644)

	ws, err := applypatch.NewWorkspace(dir, &applypatch.Options{Protect: []string{"secrets/**"}})
	if err != nil {
		log.Fatal(err)
	}
	p, _ := applypatch.Parse("*** Begin Patch\n*** Update File: greet.txt\n@@\n-hi\n+hello\n*** End Patch\n")
	res, err := ws.DryRun(context.Background(), p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Diff())
	if _, err := ws.Apply(context.Background(), p); err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "greet.txt"))
	fmt.Printf("%q\n", b)

	p, _ = applypatch.Parse("*** Begin Patch\n*** Add File: secrets/key\n+x\n*** End Patch\n")
	_, err = ws.Apply(context.Background(), p)
	fmt.Println(err)
	// Output:
	// --- a/greet.txt
	// +++ b/greet.txt
	// @@ -1 +1 @@
	// -hi
	// +hello
	// "hello\n"
	// add secrets/key: path is protected
}

func ExampleNewTool() {
	dir, _ := os.MkdirTemp("", "ws")
	defer os.RemoveAll(dir)
	ws, err := applypatch.NewWorkspace(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	tool, err := applypatch.NewTool(ws, nil) // the native apply_patch tool
	if err != nil {
		log.Fatal(err)
	}
	def, _ := tool.Definition().MarshalJSON()
	fmt.Println(string(def))

	call := tools.NewCall(responses.MustItem(responses.ApplyPatchCall{
		Type: responses.TypeApplyPatchCall, CallID: "call_1",
		Operation: responses.ApplyPatchOperation{Type: "create_file", Path: "docs/CHANGES.md", Diff: "+# Changes\n+\n+- 2.4.1\n"},
	}))
	out, err := tool.Call(context.Background(), call)
	if err != nil {
		log.Fatal(err)
	}
	raw, _ := out.MarshalJSON()
	fmt.Println(string(raw))
	// Output:
	// {"type":"apply_patch"}
	// {"type":"apply_patch_call_output","call_id":"call_1","status":"completed","output":"Success. Updated the following files:\nA docs/CHANGES.md (+3 -0)\n"}
}

// A workspace under the home directory, with the user's SSH keys denied:
// the patch fails, names the rule, writes nothing, and its outcome is
// sandbox_denied.
func ExampleOptions_denyRead() {
	home, _ := os.MkdirTemp("", "home")
	defer os.RemoveAll(home)
	_ = os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	_ = os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte("secret\n"), 0o600)

	ws, err := applypatch.NewWorkspace(home, &applypatch.Options{
		DenyRead: []string{filepath.Join(home, ".ssh"), "/etc/shadow"}, // ~ already expanded
	})
	if err != nil {
		log.Fatal(err)
	}
	tool, err := applypatch.NewTool(ws, nil)
	if err != nil {
		log.Fatal(err)
	}
	call := tools.NewCall(responses.MustItem(responses.ApplyPatchCall{
		Type: responses.TypeApplyPatchCall, CallID: "call_1",
		Operation: responses.ApplyPatchOperation{Type: "update_file", Path: ".ssh/id_ed25519", Diff: "@@\n-secret\n+stolen\n"},
	}))
	out, err := tool.Call(context.Background(), call)
	fmt.Println(errors.Is(err, applypatch.ErrReadDenied), tools.OutcomeOf(err))
	fmt.Println(strings.Contains(string(out.Raw()), `"status":"failed"`))
	b, _ := os.ReadFile(filepath.Join(home, ".ssh", "id_ed25519"))
	fmt.Printf("%q\n", b)
	// Output:
	// true sandbox_denied
	// true
	// "secret\n"
}
