#!/bin/sh
# Installs the MCP servers and the MCP conformance suite that the mcp
# package's integration tests use, at the versions pinned in
# package-lock.json, into .ci/mcp/node_modules. Needs node and npm.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
