// A real OAuth 2.0 / OpenID Connect authorization server on loopback for the Rust integration
// tests (tests/auth.rs): oauth2-mock-server serves discovery, JWKS, the token endpoint
// (client_credentials included) and introspection. This script adds what the tests need to
// observe and to attack it:
//
//   node oauth.mjs AUDIENCE
//
// prints {"issuer": …, "kid": …} on one line, then answers one JSON command per stdin line with
// one JSON line:
//   {"op": "token", "claims": {…}, "kid"?: …}  a token for AUDIENCE; claims override (null deletes)
//   {"op": "attacks"}                          the attack table's tokens, by name
//   {"op": "rotate"}                           publish a new signing key, answer its kid
//   {"op": "stats"}                            requests seen: JWKS fetches, token requests
//
// Introspection (POST /introspect) answers active only for tokens starting `opaque-good-`.
//
// Token requests are checked like a real server would: client `gateway` must present the secret
// in $GATEWAY_CLIENT_SECRET and client `sdk` the one in $SDK_CLIENT_SECRET (client_secret_basic
// or client_secret_post); the issued token's `aud` is the RFC 8707 `resource` (or `audience`)
// the client asked for, as an authorization server that supports resource indicators does.
import http from "node:http";
import { createHmac, createPublicKey, generateKeyPairSync } from "node:crypto";
import { createInterface } from "node:readline";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";
import { Readable } from "node:stream";
import { SignJWT } from "jose";

const audience = process.argv[2];
const issuer = new OAuth2Issuer();
const service = new OAuth2Service(issuer);
const key = await issuer.keys.generate("RS256");
const stats = { jwks: 0, discovery: 0, token_requests: [], introspections: 0 };
const secrets = { gateway: process.env.GATEWAY_CLIENT_SECRET, sdk: process.env.SDK_CLIENT_SECRET };

service.on("beforeTokenSigning", (token, req) => {
  // `req` is the replayed request below, whose `body` the mock server has just parsed.
  const body = req.body ?? {};
  const asked = body.resource ?? body.audience;
  if (asked !== undefined) token.payload.aud = asked;
  const client = clientOf(req);
  if (client.id) token.payload.client_id = client.id;
  token.payload.sub ??= client.id;
});
// The mock advertises only public clients (`none`); this server authenticates confidential
// clients, and says so, so the SDK authenticates with its secret.
service.on("beforeWellKnownOpenIdConfiguration", (response) => {
  response.body.token_endpoint_auth_methods_supported = ["client_secret_basic", "client_secret_post"];
});
// Introspection knows one opaque token, `opaque-good-…`, issued to bob for AUDIENCE; the rest
// are inactive. The gateway must authenticate as client `gateway`.
service.on("beforeIntrospect", (response, req) => {
  stats.introspections += 1;
  const client = clientOf(req);
  if (secrets[client.id] === undefined || secrets[client.id] !== client.secret) {
    response.statusCode = 401;
    response.body = { error: "invalid_client" };
  } else if (String(req.body?.token ?? "").startsWith("opaque-good-")) {
    response.body = {
      active: true, iss: issuer.url, aud: audience, sub: "bob", scope: "pets:read",
      exp: Math.floor(Date.now() / 1000) + 3600, client_id: "sdk",
    };
  } else {
    response.body = { active: false };
  }
});

function clientOf(req) {
  const h = req.headers.authorization ?? "";
  if (h.startsWith("Basic ")) {
    const [id, secret] = Buffer.from(h.slice(6), "base64").toString("utf8").split(":");
    return { id: decodeURIComponent(id), secret: decodeURIComponent(secret ?? "") };
  }
  const body = req.body ?? {};
  return { id: body.client_id, secret: body.client_secret };
}

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/jwks") stats.jwks += 1;
  if (path.startsWith("/.well-known/")) stats.discovery += 1;
  if ((path === "/token" || path === "/introspect") && req.method === "POST") {
    // Read the body once, check the client, then hand the same bytes to the mock server
    // (which parses the token request itself, but not the introspection request).
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString("utf8");
    const body = Object.fromEntries(new URLSearchParams(raw));
    req.body = body;
    const replay = Object.assign(Readable.from([Buffer.from(raw)]), {
      method: req.method, url: req.url, headers: req.headers, socket: req.socket, body,
    });
    if (path === "/introspect") return service.requestHandler(replay, res);
    const client = clientOf(req);
    stats.token_requests.push({
      grant_type: body.grant_type, client_id: client.id, scope: body.scope ?? null,
      resource: body.resource ?? null, audience: body.audience ?? null,
    });
    if (!(client.id in secrets) || secrets[client.id] !== client.secret) {
      process.stderr.write(`oauth.mjs: refused client ${client.id}\n`);
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "invalid_client" }));
      return;
    }
    // The mock server parses the body again from the replayed stream (and sets `req.body`,
    // which the beforeTokenSigning hook above reads).
    return service.requestHandler(replay, res);
  }
  return service.requestHandler(req, res);
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
issuer.url = `http://127.0.0.1:${server.address().port}`;

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

async function token(claims = {}, kid = key.kid) {
  return issuer.buildToken({
    kid,
    scopesOrTransform: (_header, payload) => {
      payload.aud = audience;
      payload.sub = "alice";
      for (const [k, v] of Object.entries(claims)) {
        if (v === null) delete payload[k];
        else payload[k] = v;
      }
    },
  });
}

async function attacks() {
  const valid = await token({ scope: "pets:read" });
  const [h, p, s] = valid.split(".");
  // Flip one character in the middle of the signature (the last one may only hold padding bits).
  const i = Math.floor(s.length / 2);
  const flipped = s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
  // A key the issuer never published.
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const unknownKid = await new SignJWT(JSON.parse(Buffer.from(p, "base64url")))
    .setProtectedHeader({ alg: "RS256", kid: "never-published", typ: "JWT" })
    .sign(stranger.privateKey);
  // Algorithm confusion: HS256 with the issuer's *public* key (PEM) as the HMAC secret.
  const publicPem = createPublicKey({ key: { ...key, d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined }, format: "jwk" })
    .export({ type: "spki", format: "pem" });
  const hsHeader = b64({ alg: "HS256", typ: "JWT", kid: key.kid });
  const hsSig = createHmac("sha256", publicPem).update(`${hsHeader}.${p}`).digest("base64url");
  return {
    valid,
    expired: await token({ scope: "pets:read", exp: now() - 3600, nbf: now() - 7200, iat: now() - 7200 }),
    not_yet_valid: await token({ scope: "pets:read", nbf: now() + 3600 }),
    wrong_issuer: await token({ scope: "pets:read", iss: "http://127.0.0.1:9/other-issuer" }),
    wrong_audience: await token({ scope: "pets:read", aud: "http://127.0.0.1:9/mcp" }),
    bad_signature: `${h}.${p}.${flipped}`,
    unknown_kid: unknownKid,
    alg_none: `${b64({ alg: "none", typ: "JWT" })}.${p}.`,
    hs256_public_key: `${hsHeader}.${p}.${hsSig}`,
    nbf_as_string: await token({ scope: "pets:read", nbf: "99999999999" }),
    no_exp: await token({ scope: "pets:read", exp: null }),
  };
}

process.stdout.write(JSON.stringify({ issuer: issuer.url, kid: key.kid }) + "\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  let answer;
  try {
    if (cmd.op === "token") answer = { token: await token(cmd.claims ?? {}, cmd.kid ?? key.kid) };
    else if (cmd.op === "attacks") answer = await attacks();
    else if (cmd.op === "rotate") answer = { kid: (await issuer.keys.generate("RS256")).kid };
    else if (cmd.op === "stats") answer = stats;
    else answer = { error: `unknown op ${cmd.op}` };
  } catch (e) {
    answer = { error: String(e?.stack ?? e) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
server.close();
