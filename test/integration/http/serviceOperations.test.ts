import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startAppHost, type AppHost } from "../../support/appHost.js";

describe("service endpoints through the local stack", () => {
  let host: AppHost;
  before(async () => {
    host = await startAppHost();
  });
  after(async () => {
    await host?.stop();
  });

  test("healthz answers 200 with request ids", async () => {
    const res = await fetch(`${host.api}/healthz`, { headers: { "x-ms-client-request-id": "abc-123" } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok", version: "1.0.0" });
    assert.match(res.headers.get("x-ms-request-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get("x-ms-client-request-id"), "abc-123");
  });

  test("readyz answers 200 when Table Storage answers", async () => {
    const res = await fetch(`${host.api}/readyz`);
    const body = (await res.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.status, "ready");
    assert.deepEqual(body.checks.map((c) => c.name).sort(), ["configuration", "tableStorage"]);
  });

  test("openapi.json serves the document and docs render it as HTML", async () => {
    const doc = (await (await fetch(`${host.api}/openapi.json`)).json()) as { openapi: string };
    assert.equal(doc.openapi, "3.1.0");
    const docs = await fetch(`${host.api}/docs`);
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /^text\/html/);
    const html = await docs.text();
    assert.match(html, /whoami/);
    assert.doesNotMatch(html, /<script|https?:\/\/cdn/i);
  });

  test("whoami without a token: 401, WWW-Authenticate, error body", async () => {
    const res = await fetch(`${host.api}/whoami`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal(res.headers.get("x-ms-error-code"), "Unauthorized");
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "Unauthorized");
  });

  test("whoami with a minted token reaches the handler", async () => {
    const token = await host.token({ team: "alpha", roles: ["Sandbox.Submitter", "Sandbox.Reader"], name: "Ada", oid: "11111111-2222-3333-4444-555555555555" });
    const res = await fetch(`${host.api}/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      id: "11111111-2222-3333-4444-555555555555",
      name: "Ada",
      team: "alpha",
      roles: ["Sandbox.Submitter", "Sandbox.Reader"],
      appId: null,
    });
  });

  test("the access log has one line per request without headers or tokens", async () => {
    const token = await host.token({ team: "alpha", roles: ["Sandbox.Reader"] });
    await fetch(`${host.api}/whoami`, { headers: { authorization: `Bearer ${token}`, "x-secret-header": "s3cr3t" } });
    await new Promise((r) => setTimeout(r, 100));
    const lines = host.output().split("\n").filter((l) => l.includes('"msg":"request"'));
    assert.ok(lines.length >= 1);
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    assert.equal(last.method, "GET");
    assert.equal(last.route, "/api/v1/whoami");
    assert.equal(last.status, 200);
    assert.equal(typeof last.durationMs, "number");
    assert.equal(typeof last.invocationId, "string");
    assert.ok(!host.output().includes(token), "token must not be logged");
    assert.ok(!host.output().includes("s3cr3t"), "headers must not be logged");
  });

  test("SIGTERM stops the stack and exits 0", async () => {
    const code = await host.stop();
    assert.equal(code, 0);
  });
});
