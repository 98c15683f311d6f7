package applypatch

// Instructions is the description of the Function and Custom forms of the
// tool: how to write a patch in the envelope form.
const Instructions = `Edit files by applying a patch. The patch is plain text:

*** Begin Patch
*** Add File: path/of/new_file.txt
+every line of the new file, each starting with +
*** Update File: path/of/existing.py
*** Move to: path/of/renamed.py   (optional: rename the file)
@@ def some_function():
 context line (starts with a space)
-line to remove
+line to add
 context line
*** Delete File: path/of/obsolete.txt
*** End Patch

Rules: paths are relative to the workspace root, never absolute. In an
update, give about three lines of unchanged context above and below each
change and no line numbers. Start each further section with an @@ line; an
@@ line may name a line before the change (a class or function) to say where
it is, and several @@ lines in a row narrow it further. Add "*** End of File"
after a section that ends the file. Every line of a section starts with ' ',
'-' or '+'.`

// Grammar is the Lark grammar of the envelope form, used by the Custom
// form of the tool to constrain what the model writes.
const Grammar = `start: begin_patch file_op+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

file_op: add_file | delete_file | update_file
add_file: "*** Add File: " path LF add_line*
delete_file: "*** Delete File: " path LF
update_file: "*** Update File: " path LF (move_to section* | section+)

move_to: "*** Move to: " path LF
section: anchor_line* change_line+ end_of_file?
anchor_line: "@@" LF | "@@ " TEXT LF
change_line: (" " | "-" | "+") TEXT? LF
add_line: "+" TEXT? LF
end_of_file: "*** End of File" LF

path: /[^\r\n]+/
TEXT: /[^\r\n]+/

%import common.LF
`
