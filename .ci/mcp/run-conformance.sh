#!/bin/sh
# Runs the client scenarios of the official MCP conformance suite
# (@modelcontextprotocol/conformance, pinned in package-lock.json) against
# cmd/mcpconformance, a small client built on the mcp package. Run
# install.sh first. A scenario fails when the suite fails it or when it
# reports no passed check at all.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if [ ! -f "$suite" ]; then
	echo "run-conformance: $suite missing; run .ci/mcp/install.sh" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && go build -o "$work/mcpconformance" ./cmd/mcpconformance)

# Node 20 lacks fs.globSync, which the suite imports; give it one.
if ! node -e 'process.exit(typeof require("fs").globSync === "function" ? 0 : 1)'; then
	NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--import $here/node20/register.mjs"
	export NODE_OPTIONS
fi

status=0
for scenario in initialize tools_call elicitation-sep1034-client-defaults sse-retry; do
	log="$work/$scenario.log"
	if node "$suite" client --command "$work/mcpconformance" --scenario "$scenario" \
		--timeout 60000 -o "$work/results" >"$log" 2>&1; then
		rc=0
	else
		rc=$?
	fi
	summary=$(grep -E '^Passed: [0-9]+/[0-9]+' "$log" | tail -n 1 || true)
	passed=$(echo "$summary" | sed -E 's/^Passed: ([0-9]+)\/.*/\1/')
	if [ "$rc" -ne 0 ] || [ -z "$summary" ] || [ "${passed:-0}" -eq 0 ]; then
		echo "FAIL conformance $scenario (exit $rc, ${summary:-no summary})"
		cat "$log"
		status=1
	else
		echo "ok   conformance $scenario ($summary)"
	fi
done
exit $status
