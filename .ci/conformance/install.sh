#!/usr/bin/env bash
# Installs the pinned Node clients of the responsestest conformance check
# (openai 7.60.0, @openai/agents 0.20.0, zod) from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "conformance: node and npm are needed (apt-get install nodejs npm)" >&2
	exit 1
fi
npm ci --no-audit --no-fund
