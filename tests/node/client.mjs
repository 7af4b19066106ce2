// Drives a gateway with the official MCP TypeScript SDK client, for the Rust integration tests.
//
//   node client.mjs http URL            < steps.json
//   node client.mjs stdio CMD [ARGS…]    < steps.json
//
// steps.json is a list of {"op": "list"}, {"op": "call", "name": …, "arguments": {…}},
// {"op": "write", "path": …, "text": …} (edit a file the gateway watches, from inside the
// session) and {"op": "wait_tools_changed", "timeout_ms": …} (wait for
// notifications/tools/list_changed; answers {"received": true|false}). The
// results (the SDK's parsed answers, or {"error": message} when the SDK throws) are printed as
// one JSON array on stdout.
//
// With $MCP_CLIENT_ID and $MCP_CLIENT_SECRET (HTTP only) the client authorizes through the SDK's
// own OAuth flow with the client credentials grant: a 401 from the server, Protected Resource
// Metadata discovery, authorization server metadata, the token request, the retried call. Every
// URL it fetches is reported as `fetched` in the first result, so tests can see the flow.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
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
const client = new Client({ name: "mcp-gateway-tests", version: "1.0.0" });
let toolsChanged = 0;
let onToolsChanged = () => {};
client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
  toolsChanged += 1;
  onToolsChanged();
});
await client.connect(transport);

const results = [{ server: client.getServerVersion(), instructions: client.getInstructions(), fetched }];
for (const step of steps) {
  try {
    if (step.op === "list") {
      results.push(await client.listTools());
    } else if (step.op === "call") {
      results.push(await client.callTool({ name: step.name, arguments: step.arguments }));
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
