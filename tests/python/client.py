"""Drives a gateway with the official MCP Python SDK (`mcp`) client, for the Rust integration
tests (tests/python_sdk.rs).

    python client.py URL [MODE] < steps.json

MODE is the SDK's `mode=`: "auto" (its default: `server/discover`, so 2026-07-28 with a
server that speaks it, else `initialize`) or "legacy" (always `initialize`).

steps.json is a list of
  {"op": "list"}                                   tools/list
  {"op": "call", "name": ..., "arguments": {...}}  tools/call
  {"op": "read", "uri": ...}                       resources/read
  {"op": "get_prompt", "name": ..., "arguments"}   prompts/get
  {"op": "listen_for_reload", "path", "old", "new", "timeout_s"}
      open a `subscriptions/listen` stream for tool list changes, replace `old` by `new` in
      the file at `path` (a save the gateway sees), and wait for the change event: answers
      {"event": "tools_list_changed"} and closes the stream
  {"op": "listen_through_sigterm", "pid": ..., "timeout_s"}
      open a listen stream, send SIGTERM to `pid`, and read the stream to its end: answers
      {"ended": "graceful"} (the server ended it with its final result) or {"ended": "lost"}
  {"op": "elicited"}                               the questions the user was asked so far

With $MCP_ELICIT (JSON: {"action": "accept"|"decline"|"cancel", "content": {...}}) the client
can ask its user: it answers every question so (in 2026-07-28, the `InputRequiredResult`
rounds the SDK drives; in the 2025 era, `elicitation/create`), filling the form's fields from
`content`.

The first printed result is {"protocolVersion", "serverInfo"}; then one per step: the SDK's
parsed result as JSON (camelCase, as on the wire), or {"error": {"code", "message"}} when the
SDK raises an MCP error. All of it as one JSON array on stdout.
"""

import json
import os
import signal
import sys

import anyio
import mcp_types as types
from mcp.client.client import Client
from mcp.client.subscriptions import SubscriptionLost, ToolsListChanged
from mcp.shared.exceptions import MCPError


def dump(model):
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


ELICIT = json.loads(os.environ["MCP_ELICIT"]) if os.environ.get("MCP_ELICIT") else None
ELICITED = []


async def elicit(_context, params):
    """Answers a question as $MCP_ELICIT says, remembering what was asked."""
    ELICITED.append(params.message)
    if ELICIT["action"] != "accept":
        return types.ElicitResult(action=ELICIT["action"])
    fields = (params.requested_schema or {}).get("properties", {})
    content = {k: v for k, v in ELICIT.get("content", {}).items() if k in fields}
    return types.ElicitResult(action="accept", content=content)


async def step(client, s):
    op = s["op"]
    if op == "elicited":
        return list(ELICITED)
    if op == "list":
        return dump(await client.list_tools())
    if op == "call":
        return dump(await client.call_tool(s["name"], s.get("arguments", {})))
    if op == "read":
        return dump(await client.read_resource(s["uri"]))
    if op == "get_prompt":
        return dump(await client.get_prompt(s["name"], s.get("arguments", {})))
    if op == "listen_for_reload":
        async with client.listen(tools_list_changed=True) as sub:
            with open(s["path"]) as f:
                text = f.read()
            assert s["old"] in text, f"{s['old']!r} is not in {s['path']}"
            with open(s["path"], "w") as f:
                f.write(text.replace(s["old"], s["new"]))
            with anyio.fail_after(s.get("timeout_s", 10)):
                async for event in sub:
                    if isinstance(event, ToolsListChanged):
                        return {"event": "tools_list_changed"}
        return {"event": None}
    if op == "listen_through_sigterm":
        async with client.listen(tools_list_changed=True) as sub:
            os.kill(s["pid"], signal.SIGTERM)
            try:
                with anyio.fail_after(s.get("timeout_s", 10)):
                    async for _ in sub:
                        pass
            except SubscriptionLost:
                return {"ended": "lost"}
            return {"ended": "graceful"}
    raise ValueError(f"unknown op {op!r}")


async def main():
    url = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "auto"
    steps = json.load(sys.stdin)
    out = []
    async with Client(url, mode=mode, elicitation_callback=elicit if ELICIT else None) as client:
        info = client.session.server_info
        out.append(
            {
                "protocolVersion": client.session.protocol_version,
                "serverInfo": dump(info) if info is not None else None,
            }
        )
        for s in steps:
            try:
                out.append(await step(client, s))
            except MCPError as e:
                out.append({"error": {"code": e.code, "message": e.message}})
    json.dump(out, sys.stdout)


anyio.run(main)
