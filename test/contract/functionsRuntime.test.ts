import { test } from "node:test";
import assert from "node:assert/strict";
import { app } from "@azure/functions";
import { loadFunctionApp } from "../../src/localhost/loadFunctionApp.js";
import { invokeViaWorkerPath as invokeWorkerPath } from "../support/workerPath.js";

/**
 * Drives the registrations through `@azure/functions`' own worker path (see
 * test/support/workerPath.ts) instead of the local host, to show they load
 * and answer unchanged in the real Functions runtime.
 */
const registry = await loadFunctionApp();
// functions/httpStreaming.ts turns HTTP streaming on; the Azure host then moves
// bodies through the worker's HTTP proxy. This test drives the RPC path, which
// the library uses with streaming off (hosts before 4.28).
app.setup({ enableHttpStream: false });
const invokeViaWorkerPath = (name: string, url: string, headers: Record<string, string> = {}) =>
  invokeWorkerPath(registry, name, url, headers);

test("healthz answers through the library's worker path", async () => {
  const res = await invokeViaWorkerPath("healthz", "http://localhost:7071/api/v1/healthz");
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { status: "ok", version: "1.0.0" });
  assert.ok(res.headers["x-ms-request-id"]);
});

test("a protected route without a token answers 401 through the worker path", async () => {
  const res = await invokeViaWorkerPath("whoami", "http://localhost:7071/api/v1/whoami");
  assert.equal(res.status, 401);
  assert.equal(JSON.parse(res.body).error.code, "Unauthorized");
});

test("every HTTP registration declares route, methods and authLevel as the host reads them", () => {
  for (const fn of registry.http()) {
    assert.equal(fn.trigger.type, "httpTrigger");
    assert.equal(fn.trigger.authLevel, "anonymous");
    assert.ok(Array.isArray(fn.trigger.methods) && fn.trigger.methods.length === 1);
    assert.ok(fn.metadata.bindings.$return, `${fn.name}: http output binding`);
  }
});
