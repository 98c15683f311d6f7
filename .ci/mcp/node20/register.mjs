// Node 20 lacks fs.globSync (added in Node 22), which the MCP conformance
// suite imports by name. run-conformance.sh preloads this file with
// NODE_OPTIONS=--import on such a node: it registers a resolve hook that
// gives the suite an "fs" module with a small globSync added.
import { register } from "node:module";

register("./hooks.mjs", import.meta.url);
