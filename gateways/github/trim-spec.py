#!/usr/bin/env python3
"""Writes openapi.json: GitHub's REST description from the `@octokit/openapi` npm package,
trimmed to the operations gateway.yaml uses and the components they reference (media-type
examples dropped). The full document is 13 MB; the gateway needs a few hundred KB of it.

Usage: gateways/github/trim-spec.py [path/to/api.github.com.json]
(default: tests/node/node_modules/@octokit/openapi/generated/api.github.com.json,
installed by tests/setup.sh)."""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "tests/node/node_modules/@octokit/openapi/generated/api.github.com.json"
OPERATIONS = {
    "search/repos", "repos/get", "repos/get-readme", "repos/get-content", "repos/list-commits",
    "issues/list-for-repo", "issues/get", "issues/create", "issues/create-comment",
    "pulls/list", "pulls/get", "users/get-by-username",
}


def refs(node, out):
    """Collects every `#/components/...` reference under `node`."""
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/"):
            out.add(r)
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def strip_examples(node):
    """Drops `examples` of media types and parameters (objects that also hold a `schema`)."""
    if isinstance(node, dict):
        if "schema" in node:
            node.pop("examples", None)
        for v in node.values():
            strip_examples(v)
    elif isinstance(node, list):
        for v in node:
            strip_examples(v)


def main():
    src = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    spec = json.loads(src.read_text())
    paths = {}
    for path, item in spec["paths"].items():
        kept = {m: op for m, op in item.items() if isinstance(op, dict) and op.get("operationId") in OPERATIONS}
        if kept:
            paths[path] = kept
    strip_examples(paths)
    components, todo = {}, set()
    refs(paths, todo)
    done = set()
    while todo:
        ref = todo.pop()
        if ref in done:
            continue
        done.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = spec["components"][kind][name]
        strip_examples(node)
        components.setdefault(kind, {})[name] = node
        refs(node, todo)
    out = {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "description": spec["info"].get("description", "")
                 + " Trimmed by gateways/github/trim-spec.py to the operations of gateway.yaml."},
        "servers": spec["servers"],
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }
    (HERE / "openapi.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")
    found = {op["operationId"] for item in paths.values() for op in item.values()}
    missing = OPERATIONS - found
    if missing:
        sys.exit(f"not in the source: {sorted(missing)}")


if __name__ == "__main__":
    main()
