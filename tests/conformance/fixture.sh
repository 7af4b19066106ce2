#!/usr/bin/env bash
# Starts the conformance upstream and the gateway at http://127.0.0.1:PORT/mcp, and runs until
# killed. Usage: tests/conformance/fixture.sh PORT [extra `serve` flags, e.g. --sessions]
# CONFORMANCE_GATEWAY names the gateway under gateways/ (default: conformance; the tasks
# scenarios use conformance-tasks).
set -euo pipefail
port="${1:?usage: fixture.sh PORT [serve flags]}"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
upstream_port="${CONFORMANCE_UPSTREAM_PORT:-$((port + 1))}"
bin="${MCP_GATEWAY_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet --manifest-path "$root/Cargo.toml"
  bin="$root/target/debug/mcp-gateway"
fi

python3 "$root/tests/conformance/upstream.py" "$upstream_port" &
upstream=$!
trap 'kill "$upstream" 2>/dev/null || true' EXIT INT TERM
export CONFORMANCE_UPSTREAM_URL="http://127.0.0.1:$upstream_port"
"$bin" serve "$root/gateways/${CONFORMANCE_GATEWAY:-conformance}/gateway.yaml" --listen "127.0.0.1:$port" --shutdown-grace 0s "$@" &
gateway=$!
trap 'kill "$gateway" "$upstream" 2>/dev/null || true' EXIT INT TERM
wait "$gateway"
