import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { probeTables } from "../../../src/adapters/tables/tableClients.js";
import { httpTriggers } from "../../../src/http/httpOperation.js";
import { serviceHandlers } from "../../../src/http/serviceHandlers.js";
import { startAzurite, type RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import {
  FakeTokenVerifier,
  InMemoryAuditLog,
  InMemoryRepeatabilityStore,
} from "../../support/fakes/httpPipelineFakes.js";
import { callInProcess } from "../../support/inProcessHttp.js";

// In-process: the real readiness check (the Tables adapter against a real Azurite) behind the real handler
// pipeline, called with @azure/functions' HttpRequest. No app host process.
describe("readyz follows Table Storage", () => {
  let azurite: RunningAzurite;
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  test("200 while Azurite runs, 503 with Retry-After and the failing dependency when it stops; healthz 200", async () => {
    const tables = { connectionString: azurite.connectionString, allowInsecure: true };
    const services = () => ({
      maxRequestBodyBytes: 1024 * 1024,
      tokenVerifier: new FakeTokenVerifier(),
      repeatability: new InMemoryRepeatabilityStore(),
      auditLog: new InMemoryAuditLog(),
      readinessChecks: [{ name: "tableStorage", check: () => probeTables(tables) }],
    });
    const handlers = serviceHandlers({ services, configurationProblems: () => [] });
    const httpTrigger = httpTriggers(services);
    const readyz = httpTrigger("readyz", handlers.readyz);
    const healthz = httpTrigger("healthz", handlers.healthz);

    const ok = await callInProcess(readyz, { path: "/readyz" });
    assert.equal(ok.status, 200);
    await azurite.stop();
    const down = await callInProcess(readyz, { path: "/readyz" });
    assert.equal(down.status, 503);
    assert.ok(Number(down.headers["retry-after"]) > 0);
    const body = down.json<{ status: string; checks: { name: string; ok: boolean; message?: string }[] }>();
    assert.equal(body.status, "notReady");
    const tablesCheck = body.checks.find((c) => c.name === "tableStorage");
    assert.equal(tablesCheck?.ok, false);
    assert.match(tablesCheck?.message ?? "", /Table Storage did not answer/);
    assert.doesNotMatch(JSON.stringify(body), /AccountKey|devstoreaccount1/);
    assert.equal((await callInProcess(healthz, { path: "/healthz" })).status, 200);
  });
});
