#!/usr/bin/env bash
# Runs the responsestest conformance check with the official clients:
# the openai-go test of the nested Go module, then the Node script with
# the openai npm client and the JS Agents SDK against a server started by
# responses/responsestest/conformance/cmd/serve. Run install.sh first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mod="$here/../../responses/responsestest/conformance"
if [ ! -d "$here/node_modules/openai" ]; then
	echo "conformance: run $here/install.sh first" >&2
	exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "-- responsestest conformance: openai-go"
(cd "$mod" && go test -count=1 -v ./...)

echo "-- responsestest conformance: openai (npm) and @openai/agents"
(cd "$mod" && go build -o "$tmp/serve" ./cmd/serve)
cd "$here"
SERVE_BIN="$tmp/serve" node conformance.mjs
