// What the local stack's host process itself does: one access-log line per request (no headers, no token) and a
// clean stop on SIGTERM. The API endpoints themselves are tested in-process (test/integration/http/serviceOperations).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startAppHost, type AppHost } from "../../support/appHost.js";

describe("the local stack's host process", () => {
  let host: AppHost;
  before(async () => {
    host = await startAppHost();
  });
  after(async () => {
    await host?.stop();
  });

  test("the access log has one line per request without headers or tokens", async () => {
    const token = await host.token({ team: "alpha", roles: ["Sandbox.Reader"] });
    await fetch(`${host.api}/whoami`, { headers: { authorization: `Bearer ${token}`, "x-secret-header": "s3cr3t" } });
    await new Promise((r) => setTimeout(r, 100));
    const lines = host
      .output()
      .split("\n")
      .filter((l) => l.includes('"msg":"request"'));
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
