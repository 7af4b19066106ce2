#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: the Node packages in tests/node (MCP
# TypeScript SDK, Prism, the conformance suite, Node 22 for it, and the real-spec corpora).
# Idempotent; safe to run on a fresh machine or again after a change to package.json.
set -euo pipefail
cd "$(dirname "$0")/node"
if ! command -v npm >/dev/null; then
  echo "tests/setup.sh: npm is required (Node.js 20 or newer)" >&2
  exit 2
fi
npm ci --no-audit --no-fund
if ! command -v python3 >/dev/null; then
  echo "tests/setup.sh: python3 is required (the conformance fixture's upstream)" >&2
  exit 2
fi
