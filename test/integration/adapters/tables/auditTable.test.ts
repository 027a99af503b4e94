// Against a real Azurite: append-only audit rows, newest-first paging across day partitions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { AuditTable } from "../../../../src/adapters/tables/auditTable.js";
import { resolveAuditQuery, type AuditRecord } from "../../../../src/domain/policy/auditLog.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";

function record(i: number, time: Date, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: `r${String(i).padStart(3, "0")}`,
    time: time.toISOString(),
    principalId: `oid-${i}`,
    principalName: "Ada",
    appId: null,
    team: i % 2 === 0 ? "alpha" : "beta",
    action: i % 3 === 0 ? "submitJob" : "whoami",
    method: "POST",
    target: `/api/v1/x/${i}`,
    status: 202,
    errorCode: null,
    requestId: `req-${i}`,
    clientRequestId: null,
    operationId: i === 7 ? "op_7" : null,
    source: null,
    count: 1,
    ...extra,
  };
}

describe("AuditTable on Azurite", () => {
  let azurite: RunningAzurite;
  let audit: AuditTable;
  const base = Date.parse("2026-03-10T12:00:00.000Z");
  // 30 records, one every 2 hours going back: they span three UTC days.
  const records = Array.from({ length: 30 }, (_, i) => record(i, new Date(base - i * 2 * 3_600_000)));

  before(async () => {
    azurite = await startTestAzurite();
    audit = new AuditTable(
      TableClient.fromConnectionString(azurite.connectionString, "audittest", { allowInsecureConnection: true }),
    );
    for (const r of records) await audit.append(r);
  });
  after(async () => {
    await azurite?.stop();
  });

  const query = (raw: Parameters<typeof resolveAuditQuery>[0]) => resolveAuditQuery(raw, new Date(base + 60_000));

  test("pages newest first across day partitions with an opaque token, every record once", async () => {
    const seen: AuditRecord[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await audit.list(
        query({ from: new Date(base - 3 * 86_400_000).toISOString(), top: 7, continuationToken: token }),
      );
      assert.ok(page.records.length <= 7);
      seen.push(...page.records);
      token = page.continuationToken;
      pages++;
    } while (token !== undefined && pages < 20);
    assert.deepEqual(
      seen.map((r) => r.id),
      records.map((r) => r.id),
    );
    assert.deepEqual(seen[7], records[7], "null columns come back as null");
  });

  test("from/to bound the window inclusively; team and action filter server-side", async () => {
    const page = await audit.list(query({ from: records[9]!.time, to: records[2]!.time, top: 100 }));
    assert.deepEqual(
      page.records.map((r) => r.id),
      records.slice(2, 10).map((r) => r.id),
    );
    assert.equal(page.continuationToken, undefined);
    const filtered = await audit.list(
      query({ from: new Date(base - 3 * 86_400_000).toISOString(), team: "alpha", action: "submitJob", top: 100 }),
    );
    assert.deepEqual(
      filtered.records.map((r) => r.id),
      records.filter((r) => r.team === "alpha" && r.action === "submitJob").map((r) => r.id),
    );
  });

  test("records are append-only: the same id twice fails", async () => {
    await assert.rejects(audit.append(records[0]!));
  });

  test("storage failures are SandboxErrors (503, retryable), never a raw RestError answered as 500", async () => {
    // A table that vanishes after first use: Table Storage answers 404 TableNotFound to the next list.
    const client = TableClient.fromConnectionString(azurite.connectionString, "auditgone", {
      allowInsecureConnection: true,
    });
    const gone = new AuditTable(client);
    await gone.append(record(900, new Date(base)));
    await client.deleteTable();
    await assert.rejects(
      gone.list(query({})),
      (e: unknown) => e instanceof SandboxError && e.code === "ServiceUnavailable" && e.retryAfterSeconds === 5,
    );
    await assert.rejects(
      gone.append(record(901, new Date(base))),
      (e: unknown) => e instanceof SandboxError && e.code === "ServiceUnavailable",
    );
  });

  test("a token whose inner Tables continuation is forged is InvalidRequest, not a storage failure", async () => {
    const forged = Buffer.from(JSON.stringify({ d: "2026-03-10", k: "not-a-tables-token" }), "utf8").toString(
      "base64url",
    );
    await assert.rejects(
      audit.list(query({ from: new Date(base - 86_400_000).toISOString(), continuationToken: forged })),
      (e: unknown) => e instanceof SandboxError && e.code === "InvalidRequest",
    );
  });

  test("bad inputs: a forged token, from after to, a window over 92 days", async () => {
    await assert.rejects(
      audit.list(query({ continuationToken: "bm9wZQ" })),
      (e: unknown) => e instanceof SandboxError && e.code === "InvalidRequest",
    );
    assert.throws(
      () => query({ from: "2026-03-10T00:00:00Z", to: "2026-03-09T00:00:00Z" }),
      /from must not be after to/,
    );
    assert.throws(() => query({ from: "2025-01-01T00:00:00Z", to: "2026-03-09T00:00:00Z" }), /at most 92 days/);
  });

  test("a record written before a change (status null) gets its outcome from settle; source and count round-trip", async () => {
    const pending = record(500, new Date(base - 1000), { status: null, source: "203.0.113.9", count: 1 });
    await audit.append(pending);
    const read = async () =>
      (await audit.list(query({ from: new Date(base - 5000).toISOString(), top: 100 }))).records.find(
        (r) => r.id === pending.id,
      );
    assert.deepEqual(await read(), pending, "status null comes back as null");
    await audit.settle({ ...pending, status: 202, operationId: "op_500", errorCode: null });
    assert.deepEqual(await read(), { ...pending, status: 202, operationId: "op_500" });
    await assert.rejects(audit.settle(record(501, new Date(base - 1000))), (e: unknown) => e instanceof SandboxError);
    const counted = record(502, new Date(base - 2000), { status: 401, source: "198.51.100.7", count: 4711 });
    await audit.append(counted);
    const all = await audit.list(query({ from: new Date(base - 5000).toISOString(), top: 100 }));
    assert.deepEqual(
      all.records.find((r) => r.id === counted.id),
      counted,
    );
  });

  test("retention removes the records of whole UTC days before the cutoff, at most about `limit` per call", async () => {
    const retention = new AuditTable(
      TableClient.fromConnectionString(azurite.connectionString, "auditretention", { allowInsecureConnection: true }),
    );
    // 150 records on 2026-03-07, 3 on 2026-03-08, 2 on 2026-03-09.
    const day = (d: string, i: number) =>
      record(
        1000 + i,
        new Date(`${d}T${String(i % 24).padStart(2, "0")}:00:0${i % 10}.${String(i).padStart(3, "0")}Z`),
      );
    const old = Array.from({ length: 150 }, (_, i) => day("2026-03-07", i));
    const kept = [
      day("2026-03-08", 200),
      day("2026-03-08", 201),
      day("2026-03-08", 202),
      day("2026-03-09", 203),
      day("2026-03-09", 204),
    ];
    for (const r of [...old, ...kept]) await retention.append(r);
    const cutoff = new Date("2026-03-08T23:59:00Z");
    assert.equal(await retention.deleteOlderThan(cutoff, 120), 120);
    assert.equal(await retention.deleteOlderThan(cutoff, 120), 30);
    assert.equal(await retention.deleteOlderThan(cutoff, 120), 0);
    const left = await retention.list(
      resolveAuditQuery({ from: "2026-03-06T00:00:00Z", to: "2026-03-10T00:00:00Z", top: 1000 }, new Date(base)),
    );
    assert.deepEqual(left.records.map((r) => r.id).sort(), kept.map((r) => r.id).sort());
  });
});
