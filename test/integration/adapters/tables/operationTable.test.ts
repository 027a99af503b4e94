// Against a real Azurite: the operations table is sharded by subscription (row, index rows and the
// cluster lease in one partition, changed in one transaction), a status read is one point read, and rows
// of the unsharded layout (partition `ops`) are moved idempotently, even by several instances at once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { odata, TableClient } from "@azure/data-tables";
import {
  LEGACY_PARTITION,
  operationPartition,
  SHARDS_PARTITION,
  TableOperationStore,
} from "../../../../src/adapters/tables/operationTable.js";
import {
  newOperationId,
  operationShard,
  shardOfOperationId,
  type OperationRecord,
} from "../../../../src/domain/operations/operation.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";

const SUB_A = "11111111-1111-1111-1111-111111111111";
const SUB_B = "22222222-2222-2222-2222-222222222222";

function record(subscriptionId: string, overrides: Partial<OperationRecord> = {}): OperationRecord {
  const now = Date.now();
  return {
    id: newOperationId(now, subscriptionId),
    kind: "CreateSandboxPool",
    target: `/subscriptions/${subscriptionId}/x`,
    subscriptionId,
    serialKey: `/subscriptions/${subscriptionId}/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/c1`,
    team: "alpha",
    createdBy: "p1",
    status: "NotStarted",
    steps: [{ name: "S", status: "NotStarted" }],
    stepIndex: 0,
    stepState: {},
    input: {},
    data: {},
    nextPollAt: now,
    attempts: 0,
    armCalls: 0,
    ticks: 0,
    lastError: undefined,
    error: undefined,
    result: undefined,
    percentComplete: undefined,
    cancelRequested: false,
    holdsLease: false,
    claim: undefined,
    correlationId: "r1",
    createdAt: now,
    lastUpdatedAt: now,
    endedAt: undefined,
    deadlineAt: now + 3600_000,
    ...overrides,
  };
}

async function rowsOf(client: TableClient, partition: string): Promise<string[]> {
  const out: string[] = [];
  for await (const row of client.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } }))
    out.push(String(row.rowKey));
  return out.sort();
}

describe("TableOperationStore sharding on Azurite", () => {
  let azurite: RunningAzurite;
  let n = 0;
  const fresh = (): { client: TableClient; store: () => TableOperationStore } => {
    const client = TableClient.fromConnectionString(azurite.connectionString, `opsshard${++n}`, {
      allowInsecureConnection: true,
    });
    return { client, store: () => new TableOperationStore(client) };
  };

  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  test("ids name their subscription's shard; each subscription's rows, index rows and lease share one partition", async () => {
    assert.equal(shardOfOperationId(newOperationId(Date.now(), SUB_A)), operationShard(SUB_A));
    assert.match(
      newOperationId(Date.now(), SUB_A),
      /^op_[0-9A-HJKMNP-TV-Z]{26}$/,
      "the documented id format is unchanged",
    );
    assert.notEqual(operationPartition(SUB_A), operationPartition(SUB_B), "the two test subscriptions spread");
    const { client, store: make } = fresh();
    const store = make();
    const a = (await store.create(record(SUB_A))).record;
    const b = await store.create(record(SUB_B));
    assert.equal(await store.acquireLease(a.serialKey!, a.id), a.id);
    assert.deepEqual(await rowsOf(client, operationPartition(SUB_A)), [
      `a|${a.id}`,
      `l|${encodeURIComponent(a.serialKey!)}`,
      `o|${a.id}`,
    ]);
    assert.deepEqual(await rowsOf(client, operationPartition(SUB_B)), [`a|${b.record.id}`, `o|${b.record.id}`]);
    // The feature registration's serial key names its subscription too.
    assert.equal(await store.acquireLease(`sandbox-feature:${SUB_B}`, b.record.id), b.record.id);
    assert.ok(
      (await rowsOf(client, operationPartition(SUB_B))).includes(`l|${encodeURIComponent(`sandbox-feature:${SUB_B}`)}`),
    );
    await store.releaseLease(`sandbox-feature:${SUB_B}`, b.record.id);
    assert.deepEqual(
      await rowsOf(client, SHARDS_PARTITION),
      [operationPartition(SUB_A), operationPartition(SUB_B)].sort(),
    );

    // Ending the lease holder: row, index move and lease release in the one transaction of that partition.
    const got = (await store.get(a.id))!;
    const ended = { ...got.record, status: "Succeeded" as const, holdsLease: true, endedAt: Date.now() };
    await store.update(ended, got.etag);
    // Its CloudEvent is an outbox row of the same partition (same transaction); the webhook dispatcher drains it.
    const allRows = await rowsOf(client, operationPartition(SUB_A));
    assert.deepEqual(
      allRows.filter((r) => r.startsWith("e|")),
      [allRows.find((r) => r.startsWith("e|") && r.endsWith(`|${a.id}.succeeded`))],
    );
    const rows = allRows.filter((r) => !r.startsWith("e|"));
    assert.equal(rows.length, 2, rows.join());
    assert.ok(rows.includes(`o|${a.id}`) && rows.some((r) => r.startsWith("x|") && r.endsWith(a.id)));
    assert.deepEqual(
      (await store.listActive()).map((e) => e.id),
      [b.record.id],
    );
    assert.deepEqual(
      (await store.listActive({ subscriptionId: SUB_B })).map((e) => e.id),
      [b.record.id],
    );
    assert.deepEqual(await store.listActive({ subscriptionId: SUB_A }), []);
    const listed = await store.list({}, 10);
    assert.deepEqual(listed.items.map((o) => o.id).sort(), [a.id, b.record.id].sort(), "listing spans every shard");
    assert.equal(await store.purgeEnded(Date.now() + 1, 10), 1);
    assert.deepEqual(
      (await rowsOf(client, operationPartition(SUB_A))).filter((r) => !r.startsWith("e|")),
      [],
    );
  });

  test("rows of the unsharded layout move into their shards once, by two instances at once; old ids still resolve", async () => {
    const { client, store: make } = fresh();
    await client.createTable();
    // The old layout: everything in partition `ops`, ids without a shard.
    const legacyActive = record(SUB_A, {
      id: newOperationId(Date.now()),
      status: "Running",
      holdsLease: true,
      ticks: 3,
    });
    const legacyDone = record(SUB_B, {
      id: newOperationId(Date.now()),
      status: "Succeeded",
      endedAt: Date.now() - 1000,
    });
    const old = new TableOperationStore(client);
    const asLegacy = async (op: OperationRecord, extra: [string, Record<string, unknown>][]): Promise<void> => {
      await old.create(op);
      // Move what create wrote into `ops`, as the unsharded store wrote it.
      const partition = operationPartition(op.subscriptionId);
      for (const key of await rowsOf(client, partition)) {
        const row = await client.getEntity<Record<string, unknown>>(partition, key);
        const { etag: _e, timestamp: _t, partitionKey: _p, rowKey: _r, ...props } = row;
        // The unsharded store had no outbox rows (events came with the sharded layout).
        if ((key === `a|${op.id}` && op.status === "Succeeded") || key.startsWith("e|")) {
          await client.deleteEntity(partition, key);
          continue;
        }
        await client.createEntity({ ...props, partitionKey: LEGACY_PARTITION, rowKey: key });
        await client.deleteEntity(partition, key);
      }
      for (const [rowKey, props] of extra)
        await client.createEntity({ partitionKey: LEGACY_PARTITION, rowKey, ...props });
    };
    await asLegacy(legacyActive, [[`l|${encodeURIComponent(legacyActive.serialKey!)}`, { holder: legacyActive.id }]]);
    await asLegacy(legacyDone, [
      [`x|${String(legacyDone.endedAt).padStart(15, "0")}|${legacyDone.id}`, { operationId: legacyDone.id }],
    ]);
    await client.deleteEntity(SHARDS_PARTITION, operationPartition(SUB_A));
    await client.deleteEntity(SHARDS_PARTITION, operationPartition(SUB_B));

    const [one, two] = [make(), make()];
    const moved = await Promise.all([one.migrateLegacyRows(), two.migrateLegacyRows()]);
    assert.equal(moved[0] + moved[1], 2, `each operation moved exactly once: ${moved.join()}`);
    assert.deepEqual(
      await rowsOf(client, LEGACY_PARTITION),
      [`p|${legacyActive.id}`, `p|${legacyDone.id}`].sort(),
      "only pointers stay",
    );
    const shardA = await rowsOf(client, operationPartition(SUB_A));
    assert.deepEqual(shardA, [
      `a|${legacyActive.id}`,
      `l|${encodeURIComponent(legacyActive.serialKey!)}`,
      `o|${legacyActive.id}`,
    ]);
    assert.equal((await rowsOf(client, operationPartition(SUB_B))).filter((k) => k.startsWith("x|")).length, 1);

    // Old ids resolve (through the pointer); the moved operation is active, with its lease, and updates.
    const got = (await make().get(legacyActive.id))!;
    assert.equal(got.record.ticks, 3);
    assert.deepEqual(
      (await make().listActive()).map((e) => e.id),
      [legacyActive.id],
    );
    assert.equal(
      await make().acquireLease(legacyActive.serialKey!, "op_someone-else"),
      legacyActive.id,
      "the lease moved with its holder",
    );
    await make().update({ ...got.record, status: "Failed", endedAt: Date.now() }, got.etag);
    assert.equal(
      await make().acquireLease(legacyActive.serialKey!, "op_next"),
      "op_next",
      "ending the holder released the moved lease",
    );
    assert.equal((await make().get(legacyDone.id))?.record.status, "Succeeded");
    // Idempotent: another process migrating again moves nothing.
    assert.equal(await make().migrateLegacyRows(), 0);
  });
});
