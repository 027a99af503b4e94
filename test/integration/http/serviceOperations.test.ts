import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startInProcessApp, type InProcessApp } from "../../support/inProcessApp.js";

// In-process: the real service handlers and pipeline (real token verification against the local issuer, Table
// Storage on Azurite). What the host process itself does (access log, SIGTERM) is in test/integration/localhost/startStack.test.ts.
describe("service endpoints (handlers in-process)", () => {
  let host: InProcessApp;
  before(async () => {
    host = await startInProcessApp();
  });
  after(async () => {
    await host?.stop();
  });

  test("healthz answers 200 with request ids", async () => {
    const res = await host.call("GET", "/healthz", "", undefined, { "x-ms-client-request-id": "abc-123" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok", version: "1.0.0" });
    assert.match(res.headers.get("x-ms-request-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get("x-ms-client-request-id"), "abc-123");
  });

  test("readyz answers 200 when Table Storage answers", async () => {
    const res = await host.call("GET", "/readyz", "");
    const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, "ready");
    assert.deepEqual(body.checks.map((c) => c.name).sort(), ["configuration", "tableStorage"]);
  });

  test("openapi.json serves the document and docs render it as HTML", async () => {
    const doc = (await (await host.call("GET", "/openapi.json", "")).json()) as { openapi: string };
    assert.equal(doc.openapi, "3.1.0");
    const docs = await host.call("GET", "/docs", "");
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /^text\/html/);
    const html = await docs.text();
    assert.match(html, /<script src="docs\/assets\/scalar-standalone\.js">/);
    assert.doesNotMatch(html, /https?:\/\//i);
    const script = await host.call("GET", "/docs/assets/scalar-standalone.js", "");
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.ok((await script.text()).length > 100_000, "the installed package's standalone bundle");
    assert.equal((await host.call("GET", "/docs/assets/other.js", "")).status, 400);
  });

  test("whoami without a token: 401, WWW-Authenticate, error body", async () => {
    const res = await host.call("GET", "/whoami", "");
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal(res.headers.get("x-ms-error-code"), "Unauthorized");
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "Unauthorized");
  });

  test("whoami with a minted token reaches the handler", async () => {
    const token = await host.token({
      team: "alpha",
      roles: ["Sandbox.Submitter", "Sandbox.Reader"],
      name: "Ada",
      oid: "11111111-2222-3333-4444-555555555555",
    });
    const res = await host.call("GET", "/whoami", token);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      id: "11111111-2222-3333-4444-555555555555",
      name: "Ada",
      team: "alpha",
      roles: ["Sandbox.Submitter", "Sandbox.Reader"],
      appId: null,
    });
  });
});
