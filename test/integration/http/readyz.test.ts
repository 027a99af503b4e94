import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startAzurite, type RunningAzurite } from "../../../src/localhost/azuriteProcess.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";

describe("readyz follows Table Storage", () => {
  let azurite: RunningAzurite;
  let host: AppHost;
  before(async () => {
    azurite = await startAzurite();
    host = await startAppHost({ env: { SANDBOX_TABLES_CONNECTION: azurite.connectionString } });
  });
  after(async () => {
    await host?.stop();
    await azurite?.stop();
  });

  test("200 while Azurite runs, 503 with Retry-After and the failing dependency once it stops; healthz stays 200", async () => {
    const ok = await fetch(`${host.api}/readyz`);
    assert.equal(ok.status, 200);
    await azurite.stop();
    const down = await fetch(`${host.api}/readyz`);
    assert.equal(down.status, 503);
    assert.ok(Number(down.headers.get("retry-after")) > 0);
    const body = (await down.json()) as { status: string; checks: { name: string; ok: boolean; message?: string }[] };
    assert.equal(body.status, "notReady");
    const tables = body.checks.find((c) => c.name === "tableStorage");
    assert.equal(tables?.ok, false);
    assert.match(tables?.message ?? "", /Table Storage did not answer/);
    assert.doesNotMatch(JSON.stringify(body), /AccountKey|devstoreaccount1/);
    assert.equal((await fetch(`${host.api}/healthz`)).status, 200);
  });
});
