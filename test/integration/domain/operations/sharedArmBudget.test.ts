// Three engine instances against one Azurite and one ARM emulator share one per-subscription ARM budget
// (Table-backed): together they make no more ARM calls than one budget allows, where three private
// budgets would spend three times as much.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { ARM_BUDGET_TABLE, TableArmBudgetLedger } from "../../../../src/adapters/tables/armBudgetTable.js";
import { SharedArmBudget } from "../../../../src/domain/operations/armBudget.js";
import {
  createPoolRequest,
  poolRef,
  readyClusters,
  startEngineHarness,
  type EngineHarness,
} from "../../../support/engineHarness.js";

describe("one ARM budget shared by engine instances", () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness({ poolCreateSeconds: 600, clusterCreateSeconds: 10 }, 0.01);
  });
  after(() => h?.close());

  test(
    "three engines, one shared budget of 12 calls per minute: ≤ one budget of ARM calls in total",
    { timeout: 120_000 },
    async () => {
      const clusters = Array.from({ length: 30 }, (_, i) => `b${i}`);
      await readyClusters(h, clusters);
      const store = h.newStore();
      const ledgerClient = TableClient.fromConnectionString(
        h.azurite.connectionString,
        `${ARM_BUDGET_TABLE}${Date.now()}`,
        { allowInsecureConnection: true },
      );
      // 12 calls per *real* minute (scale 1 for the budget): over this test's few seconds the bucket barely refills.
      const perMinute = 12;
      const engines = ["one", "two", "three"].map((id) =>
        h.newEngine(
          store,
          { passMs: 1500 },
          id,
          new SharedArmBudget(new TableArmBudgetLedger(ledgerClient), perMinute, 1),
        ),
      );
      for (const c of clusters) await engines[0]!.submit(createPoolRequest(poolRef(c, "kata"), { startNow: false }));
      h.arm.arm.requestLog.clear();
      const started = Date.now();
      await Promise.all(engines.map((e) => e.reconcile()));
      await Promise.all(engines.map((e) => e.reconcile()));
      const elapsedMinutes = (Date.now() - started) / 60_000;
      const calls = h.arm.arm.requestLog.entries().filter((e) => e.path.includes("/managedClusters/b")).length;
      const allowed = perMinute + Math.ceil(perMinute * elapsedMinutes) + 3; // burst + refill + one token per instance in flight
      assert.ok(calls > 0, "the engines did work");
      assert.ok(
        calls <= allowed,
        `${calls} ARM calls; one shared budget allows ${allowed} (three private ones would allow ${3 * perMinute})`,
      );
    },
  );
});
