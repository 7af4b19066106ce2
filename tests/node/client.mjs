// Drives a gateway with the official MCP TypeScript SDK client, for the Rust integration tests.
//
//   node client.mjs http URL            < steps.json
//   node client.mjs stdio CMD [ARGS…]    < steps.json
//
// steps.json is a list of {"op": "list"}, {"op": "call", "name": …, "arguments": {…}} (with
// "progress": true, the call asks for progress and its result lists the notifications as
// `progress`),
// {"op": "write", "path": …, "text": …} (edit a file the gateway watches, from inside the
// session) and {"op": "wait_tools_changed", "timeout_ms": …} (wait for
// notifications/tools/list_changed; answers {"received": true|false}); for prompts and
// resources: {"op": "list_prompts"}, {"op": "get_prompt", "name", "arguments"},
// {"op": "list_resources"}, {"op": "list_templates"}, {"op": "read", "uri"},
// {"op": "complete", "ref", "argument"}, {"op": "subscribe"|"unsubscribe", "uri"} and
// {"op": "wait_resource_updated", "uri", "timeout_ms"} (answers {"received": true|false}). The
// results (the SDK's parsed answers, or {"error": message} when the SDK throws) are printed as
// one JSON array on stdout.
//
// With $MCP_CLIENT_ID and $MCP_CLIENT_SECRET (HTTP only) the client authorizes through the SDK's
// own OAuth flow with the client credentials grant: a 401 from the server, Protected Resource
// Metadata discovery, authorization server metadata, the token request, the retried call. Every
// URL it fetches is reported as `fetched` in the first result, so tests can see the flow.
//
// With $MCP_ELICIT (JSON: {"action": "accept"|"decline"|"cancel", "content": {…}}) the client
// declares the elicitation capability and answers every `elicitation/create` so, filling the
// form's fields from `content`; {"op": "elicited"} answers the messages it was shown.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { writeFileSync } from "node:fs";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const [mode, target, ...rest] = process.argv.slice(2);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const steps = JSON.parse(Buffer.concat(chunks).toString("utf8") || "[]");

const fetched = [];
const recordingFetch = async (url, init) => {
  const resp = await fetch(url, init);
  fetched.push(`${init?.method ?? "GET"} ${String(url)} ${resp.status}`);
  return resp;
};
const authProvider = process.env.MCP_CLIENT_ID
  ? new ClientCredentialsProvider({
      clientId: process.env.MCP_CLIENT_ID,
      clientSecret: process.env.MCP_CLIENT_SECRET,
      scope: process.env.MCP_CLIENT_SCOPE,
      expectedIssuer: process.env.MCP_EXPECTED_ISSUER,
    })
  : undefined;
const transport =
  mode === "http"
    ? new StreamableHTTPClientTransport(new URL(target), { authProvider, fetch: recordingFetch })
    : new StdioClientTransport({ command: target, args: rest, env: process.env, stderr: "inherit" });
const elicit = process.env.MCP_ELICIT ? JSON.parse(process.env.MCP_ELICIT) : undefined;
const client = new Client(
  { name: "mcp-gateway-tests", version: "1.0.0" },
  { capabilities: elicit ? { elicitation: {} } : {} },
);
const shown = [];
if (elicit) {
  client.setRequestHandler(ElicitRequestSchema, (req) => {
    shown.push(req.params.message);
    if (elicit.action !== "accept") return { action: elicit.action };
    const fields = Object.keys(req.params.requestedSchema?.properties ?? {});
    const content = Object.fromEntries(
      fields.filter((f) => f in (elicit.content ?? {})).map((f) => [f, elicit.content[f]]),
    );
    return { action: "accept", content };
  });
}
let toolsChanged = 0;
let onToolsChanged = () => {};
client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
  toolsChanged += 1;
  onToolsChanged();
});
const updated = [];
let onUpdated = () => {};
client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
  updated.push(n.params.uri);
  onUpdated();
});
await client.connect(transport);

// Resolves true once `uri` was announced as updated (or already was), false after the timeout.
const waitUpdated = (uri, timeoutMs) =>
  new Promise((resolve) => {
    const take = () => {
      const i = updated.indexOf(uri);
      if (i < 0) return false;
      updated.splice(i, 1);
      return true;
    };
    if (take()) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    onUpdated = () => {
      if (take()) {
        clearTimeout(timer);
        resolve(true);
      }
    };
  });

const results = [{ server: client.getServerVersion(), instructions: client.getInstructions(), fetched }];
for (const step of steps) {
  try {
    if (step.op === "list") {
      results.push(await client.listTools());
    } else if (step.op === "call" && step.progress) {
      // The SDK sends a progress token; the notifications come back as `progress`.
      const progress = [];
      const result = await client.callTool({ name: step.name, arguments: step.arguments }, undefined, {
        onprogress: (p) => progress.push(p),
      });
      results.push({ ...result, progress });
    } else if (step.op === "call") {
      results.push(await client.callTool({ name: step.name, arguments: step.arguments }));
    } else if (step.op === "elicited") {
      results.push({ shown });
    } else if (step.op === "list_prompts") {
      results.push(await client.listPrompts());
    } else if (step.op === "get_prompt") {
      results.push(await client.getPrompt({ name: step.name, arguments: step.arguments }));
    } else if (step.op === "list_resources") {
      results.push(await client.listResources());
    } else if (step.op === "list_templates") {
      results.push(await client.listResourceTemplates());
    } else if (step.op === "read") {
      results.push(await client.readResource({ uri: step.uri }));
    } else if (step.op === "complete") {
      results.push(await client.complete({ ref: step.ref, argument: step.argument }));
    } else if (step.op === "subscribe") {
      results.push(await client.subscribeResource({ uri: step.uri }));
    } else if (step.op === "unsubscribe") {
      results.push(await client.unsubscribeResource({ uri: step.uri }));
    } else if (step.op === "wait_resource_updated") {
      results.push({ received: await waitUpdated(step.uri, step.timeout_ms ?? 5000) });
    } else if (step.op === "write") {
      writeFileSync(step.path, step.text);
      results.push({ written: step.path });
    } else if (step.op === "wait_tools_changed") {
      const received = await new Promise((resolve) => {
        if (toolsChanged > 0) return resolve(true);
        const timer = setTimeout(() => resolve(false), step.timeout_ms ?? 5000);
        onToolsChanged = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      toolsChanged = 0;
      results.push({ received });
    } else {
      results.push({ error: `unknown step ${step.op}` });
    }
  } catch (e) {
    results.push({ error: String(e?.message ?? e), code: e?.code });
  }
}
await client.close();
process.stdout.write(JSON.stringify(results));
