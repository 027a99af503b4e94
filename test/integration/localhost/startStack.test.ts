// test: end-to-end (the host process itself)
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
    // The line reaches this process through the child's stdout pipe some time after the response: wait for it
    // (a fixed 100 ms was too short when the machine is busy).
    const requestLines = () =>
      host
        .output()
        .split("\n")
        .filter((l) => l.includes('"msg":"request"') && l.includes("/api/v1/whoami"));
    for (let waited = 0; requestLines().length === 0 && waited < 10_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const lines = requestLines();
    assert.ok(lines.length >= 1, "no access-log line for the request");
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
