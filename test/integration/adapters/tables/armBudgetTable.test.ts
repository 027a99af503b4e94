// Against a real Azurite: the shared ARM budget's ledger never grants a token twice, however many
// instances take at once (ETag-guarded read-modify-write of one row per subscription).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { TableArmBudgetLedger } from "../../../../src/adapters/tables/armBudgetTable.js";
import { SharedArmBudget } from "../../../../src/domain/operations/armBudget.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";

describe("the Table ARM budget ledger (Azurite)", () => {
  let azurite: RunningAzurite;
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  test("three instances taking concurrently from one Table ledger get exactly one budget between them", async () => {
    const table = "armbudgettest";
    const ledgers = [0, 1, 2].map(
      () =>
        new TableArmBudgetLedger(
          TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true }),
        ),
    );
    const bucket = { perMinute: 60, scale: 1, now: 1_000_000 };
    // 30 concurrent takes of 3 tokens each = 90 wanted from a bucket of 60 (time stands still).
    const grants = await Promise.all(Array.from({ length: 30 }, (_, i) => ledgers[i % 3]!.take("sub-1", 3, bucket)));
    const granted = grants.reduce((sum, g) => sum + g.granted, 0);
    assert.ok(granted <= 60, `granted ${granted} of 60`);
    // Whatever lost every race gets the rest now; nothing is left after that.
    let rest = 0;
    for (let i = 0; i < 40; i++) rest += (await ledgers[i % 3]!.take("sub-1", 3, bucket)).granted;
    assert.equal(granted + rest, 60, "the bucket's 60 tokens, each granted once");
    const empty = await ledgers[0]!.take("sub-1", 1, bucket);
    assert.deepEqual(empty, { granted: 0, waitMs: 1000 }, "one token per second at 60 per minute");
    assert.equal(
      (await ledgers[1]!.take("sub-1", 5, { ...bucket, now: bucket.now + 2000 })).granted,
      2,
      "refills with time",
    );
    assert.equal((await ledgers[2]!.take("sub-2", 5, bucket)).granted, 5, "each subscription has its own bucket");
  });

  test("SharedArmBudget × 3 over the Table ledger: together they spend one budget", async () => {
    const client = TableClient.fromConnectionString(azurite.connectionString, "armbudgetshared", {
      allowInsecureConnection: true,
    });
    const budgets = [0, 1, 2].map(() => new SharedArmBudget(new TableArmBudgetLedger(client), 30, 1));
    const now = 2_000_000;
    const spent = [0, 0, 0];
    await Promise.all(
      budgets.map(async (budget, i) => {
        for (let round = 0; round < 60; round++) {
          if (budget.tryTake("sub-x", now)) spent[i]!++;
          else await budget.refill("sub-x", now);
        }
      }),
    );
    const total = spent.reduce((a, b) => a + b, 0);
    assert.ok(total <= 30, `spent ${spent.join("+")} = ${total} of 30`);
    assert.ok(total >= 30 - 3 * budgets[0]!.chunk, `spent ${total}`);
  });
});
