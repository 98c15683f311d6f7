#!/bin/sh
# bench-cli.sh measures the agent command against the scripted Responses
# server: start-up to the first request, client time per turn over a task of
# 100 sandboxed echo turns, and the peak RSS of a small coding task.
# Run by hand from the repository root: scripts/bench-cli.sh [clibench flags]
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/agent" ./cmd/agent
go build -o "$tmp/clibench" ./cmd/agent/internal/clibench
echo "agent binary: $(du -h "$tmp/agent" | cut -f1), $(go version)"
"$tmp/clibench" -agent "$tmp/agent" "$@"
