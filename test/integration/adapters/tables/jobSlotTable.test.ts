// Against a real Azurite: the concurrent-jobs quota under contention.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { JobSlotTable } from "../../../../src/adapters/tables/jobSlotTable.js";
import { JobSlots } from "../../../../src/domain/policy/jobSlots.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";
import { fixturePolicy } from "../../../support/policyFixtures.js";

describe("JobSlotTable on Azurite", () => {
  let azurite: RunningAzurite;
  let n = 0;
  const freshTable = (): TableClient =>
    TableClient.fromConnectionString(azurite.connectionString, `jobslots${++n}`, { allowInsecureConnection: true });

  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  test("two concurrent submissions at the limit: exactly one is accepted", async () => {
    const policy = fixturePolicy(); // maxConcurrentJobs 3
    // Separate store instances play separate Functions instances.
    const table = freshTable();
    const first = new JobSlots(new JobSlotTable(table), policy);
    await first.reserveJobSlot("alpha", "job-1");
    await first.reserveJobSlot("alpha", "job-2");
    const racers = [
      new JobSlots(new JobSlotTable(freshClientFor(table)), policy),
      new JobSlots(new JobSlotTable(freshClientFor(table)), policy),
    ];
    const results = await Promise.allSettled([
      racers[0]!.reserveJobSlot("alpha", "job-a"),
      racers[1]!.reserveJobSlot("alpha", "job-b"),
    ]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1, JSON.stringify(results));
    const rejected = results.find((r) => r.status === "rejected");
    assert.ok(rejected && rejected.reason instanceof SandboxError);
    assert.equal(rejected.reason.code, "QuotaExceeded");
    assert.match(rejected.reason.message, /maxConcurrentJobs/);
    assert.equal((await new JobSlotTable(table).holders("alpha")).length, 3);
  });

  test("many concurrent submissions never exceed the limit; the counter equals the slot rows", async () => {
    const policy = fixturePolicy();
    const table = freshTable();
    const stores = Array.from({ length: 12 }, () => new JobSlotTable(freshClientFor(table)));
    const results = await Promise.allSettled(
      stores.map((s, i) => new JobSlots(s, policy).reserveJobSlot("beta", `cluster-1/job-${i}`)),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 3);
    for (const r of results)
      if (r.status === "rejected") assert.equal((r.reason as SandboxError).code, "QuotaExceeded");
    const holders = await stores[0]!.holders("beta");
    assert.equal(holders.length, 3);
    assert.ok(
      holders.every((h) => h.startsWith("cluster-1/job-")),
      "ids with / round-trip",
    );
    const counter = await table.getEntity<{ count: number }>("beta", "~count");
    assert.equal(counter.count, 3);
  });

  test("reserve is idempotent per job; release frees the slot once; concurrent releases free it once", async () => {
    const policy = fixturePolicy();
    const table = freshTable();
    const slots = new JobSlots(new JobSlotTable(table), policy);
    await slots.reserveJobSlot("alpha", "j1");
    await slots.reserveJobSlot("alpha", "j1");
    await Promise.all([slots.reserveJobSlot("alpha", "j2"), slots.reserveJobSlot("alpha", "j2")]);
    assert.equal((await table.getEntity<{ count: number }>("alpha", "~count")).count, 2);
    const released = await Promise.all([
      slots.releaseJobSlot("alpha", "j1"),
      new JobSlots(new JobSlotTable(freshClientFor(table)), policy).releaseJobSlot("alpha", "j1"),
    ]);
    assert.deepEqual(released.sort(), [false, true]);
    assert.equal(await slots.releaseJobSlot("alpha", "never"), false);
    assert.equal((await table.getEntity<{ count: number }>("alpha", "~count")).count, 1);
    await slots.reserveJobSlot("alpha", "j3");
    await slots.reserveJobSlot("alpha", "j4");
    await assert.rejects(slots.reserveJobSlot("alpha", "j5"), /already runs 3 jobs/);
    await slots.releaseJobSlot("alpha", "j3");
    await slots.reserveJobSlot("alpha", "j5");
  });

  test("a reservation after this instance's own write is one request; a counter another instance changed is re-read", async () => {
    const policy = fixturePolicy(); // maxConcurrentJobs 3
    const table = freshTable();
    const requests: string[] = [];
    const counted = TableClient.fromConnectionString(azurite.connectionString, table.tableName, {
      allowInsecureConnection: true,
      additionalPolicies: [
        {
          position: "perCall",
          policy: {
            name: "countRequests",
            sendRequest: (request, next) => {
              requests.push(request.method);
              return next(request);
            },
          },
        },
      ],
    });
    const mine = new JobSlots(new JobSlotTable(counted), policy);
    await mine.reserveJobSlot("alpha", "j1");
    requests.length = 0;
    await mine.reserveJobSlot("alpha", "j2");
    assert.deepEqual(requests, ["POST"], "the remembered counter's ETag: one transaction, no reads");
    // Another instance takes the last slot: the remembered counter is stale (412), re-read, full.
    await new JobSlots(new JobSlotTable(freshClientFor(table)), policy).reserveJobSlot("alpha", "other");
    await assert.rejects(mine.reserveJobSlot("alpha", "j3"), /already runs 3 jobs/);
    // Another instance frees one: the remembered "full" is never trusted; the re-read finds room.
    await new JobSlots(new JobSlotTable(freshClientFor(table)), policy).releaseJobSlot("alpha", "other");
    await mine.reserveJobSlot("alpha", "j3");
    // A job that holds its slot already (its row exists): the transaction fails, the re-read says so.
    await mine.reserveJobSlot("alpha", "j3");
    assert.equal((await table.getEntity<{ count: number }>("alpha", "~count")).count, 3);
    assert.deepEqual(
      (await mine.releaseJobSlot("alpha", "j3")) && (await new JobSlotTable(table).holders("alpha")).sort(),
      ["j1", "j2"],
    );
  });

  test("a team the policy does not define gets no slot", async () => {
    await assert.rejects(
      new JobSlots(new JobSlotTable(freshTable()), fixturePolicy()).reserveJobSlot("gamma", "j"),
      (e: unknown) => e instanceof SandboxError && e.code === "Forbidden",
    );
  });

  function freshClientFor(table: TableClient): TableClient {
    return TableClient.fromConnectionString(azurite.connectionString, table.tableName, {
      allowInsecureConnection: true,
    });
  }
});
