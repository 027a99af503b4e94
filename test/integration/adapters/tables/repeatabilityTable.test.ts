// Against a real Azurite: a reservation left pending by an instance that died
// mid-request is taken over after its lease, never held for the 24 h window.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { PENDING_LEASE_MS, TableRepeatabilityStore } from "../../../../src/adapters/tables/repeatabilityTable.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";

describe("TableRepeatabilityStore on Azurite", () => {
  let azurite: RunningAzurite;
  let n = 0;
  const freshTable = (): TableClient =>
    TableClient.fromConnectionString(azurite.connectionString, `repeat${++n}`, { allowInsecureConnection: true });
  const DAY = 24 * 3600_000;

  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  test("a pending reservation is honoured within its lease and taken over after it (the first instance died)", async () => {
    let now = Date.parse("2026-12-01T00:00:00Z");
    const table = freshTable();
    const dead = new TableRepeatabilityStore(table, () => now);
    const retry = new TableRepeatabilityStore(
      TableClient.fromConnectionString(azurite.connectionString, table.tableName, { allowInsecureConnection: true }),
      () => now,
    );
    assert.deepEqual(await dead.reserve("k1", "fp", now + DAY), { reserved: true });
    // The first instance never completes nor releases (SIGKILL). Within the lease the retry waits for it...
    now += PENDING_LEASE_MS - 1000;
    const waiting = await retry.reserve("k1", "fp", now + DAY);
    assert.equal(waiting.reserved, false);
    assert.equal(!waiting.reserved && waiting.existing.state, "pending");
    // ...past it, the retry takes the reservation over and runs the request.
    now += 2000;
    assert.deepEqual(await retry.reserve("k1", "fp", now + DAY), { reserved: true });
  });

  test("a completed reservation is replayed, never taken over, however old within the window", async () => {
    let now = Date.parse("2026-12-01T00:00:00Z");
    const store = new TableRepeatabilityStore(freshTable(), () => now);
    assert.deepEqual(await store.reserve("k2", "fp", now + DAY), { reserved: true });
    await store.complete("k2", { status: 201, headers: {}, body: "{}" });
    now += 10 * PENDING_LEASE_MS;
    const again = await store.reserve("k2", "fp", now + DAY);
    assert.equal(again.reserved, false);
    assert.equal(!again.reserved && again.existing.state, "done");
  });
});
