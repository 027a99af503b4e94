// test: end-to-end (two host processes, one SIGKILLed)
// Scale-out as Azure Functions does it: two hosts attached to one `npm run emulators` (simulated Azure +
// Azurite) through SANDBOX_EMULATORS_FILE. One host accepts an operation and is SIGKILLed at once; the
// other finishes it; the killed one restarts and sees the same result. And a host's own Azurite never
// outlives the host, even when the host is SIGKILLed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_SUBSCRIPTION_ID } from "../../../src/config/simulatedPolicy.js";
import { startAppHost, type AppHost } from "../../support/appHost.js";
import { eventually, portOpen, startEmulatorsProcess } from "../../support/emulatorsProcess.js";

test(
  "two hosts on one simulated Azure and one Azurite: a SIGKILLed host's operation is finished by the other",
  { timeout: 240_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "multi-host-"));
    const env = { SIM_TIME_SCALE: "0.01" };
    const emulators = await startEmulatorsProcess({ dataDir, env });
    const hosts: AppHost[] = [];
    try {
      const attach = { ...env, SANDBOX_EMULATORS_FILE: emulators.file, AZURITE_IN_MEMORY: "false" };
      const [a, b] = await Promise.all([
        startAppHost({ dataDir, env: attach }),
        startAppHost({ dataDir, env: attach }),
      ]);
      hosts.push(a, b);
      for (const h of hosts) {
        assert.equal(h.ready.tables, emulators.ready.tables, "an attached host starts no Azurite of its own");
        assert.equal(h.ready.arm, emulators.ready.arm, "it names the shared ARM emulator");
      }
      const admin = await a.token({ team: "alpha", roles: ["Sandbox.Admin"] });
      const put = await a.call("PUT", `/subscriptions/${DEMO_SUBSCRIPTION_ID}/sandbox-feature`, admin);
      assert.equal(put.status, 202, await put.text());
      const location = put.headers.get("operation-location")!;
      const id = location.split("/").at(-1)!;
      await a.kill("SIGKILL");

      let last: { status?: string } = {};
      const done = await eventually(async () => {
        const res = await b.call("GET", `/operations/${id}`, admin);
        last = (await res.json()) as { status?: string };
        return last.status === "Succeeded" || last.status === "Failed";
      }, 180_000);
      assert.ok(done, `operation still ${JSON.stringify(last)}`);
      assert.equal(last.status, "Succeeded", JSON.stringify(last));

      const again = await startAppHost({ dataDir, env: attach });
      hosts.push(again);
      const seen = await again.call("GET", `/operations/${id}`, admin);
      assert.equal(((await seen.json()) as { status: string }).status, "Succeeded");
    } finally {
      for (const h of hosts) await h.stop();
      await emulators.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

test("SIGKILL of a host (the npm start stack): the Azurite it started exits too", { timeout: 120_000 }, async () => {
  const host = await startAppHost();
  try {
    const tables = host.ready.tables!;
    assert.equal(await portOpen(tables), true);
    await host.kill("SIGKILL");
    assert.ok(
      await eventually(async () => !(await portOpen(tables))),
      `Azurite at ${tables} outlived its SIGKILLed host`,
    );
  } finally {
    await host.stop();
  }
});
