// Against a real Azurite: append-only audit rows, newest-first paging across day partitions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { AuditTable } from "../../../../src/adapters/tables/auditTable.js";
import { resolveAuditQuery, type AuditRecord } from "../../../../src/domain/policy/auditLog.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import { startAzurite, type RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";

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
    azurite = await startAzurite();
    audit = new AuditTable(TableClient.fromConnectionString(azurite.connectionString, "audittest", { allowInsecureConnection: true }));
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
      const page = await audit.list(query({ from: new Date(base - 3 * 86_400_000).toISOString(), top: 7, continuationToken: token }));
      assert.ok(page.records.length <= 7);
      seen.push(...page.records);
      token = page.continuationToken;
      pages++;
    } while (token !== undefined && pages < 20);
    assert.deepEqual(seen.map((r) => r.id), records.map((r) => r.id));
    assert.deepEqual(seen[7], records[7], "null columns come back as null");
  });

  test("from/to bound the window inclusively; team and action filter server-side", async () => {
    const page = await audit.list(query({ from: records[9]!.time, to: records[2]!.time, top: 100 }));
    assert.deepEqual(page.records.map((r) => r.id), records.slice(2, 10).map((r) => r.id));
    assert.equal(page.continuationToken, undefined);
    const filtered = await audit.list(query({ from: new Date(base - 3 * 86_400_000).toISOString(), team: "alpha", action: "submitJob", top: 100 }));
    assert.deepEqual(filtered.records.map((r) => r.id), records.filter((r) => r.team === "alpha" && r.action === "submitJob").map((r) => r.id));
  });

  test("records are append-only: the same id twice fails", async () => {
    await assert.rejects(audit.append(records[0]!));
  });

  test("bad inputs: a forged token, from after to, a window over 92 days", async () => {
    await assert.rejects(audit.list(query({ continuationToken: "bm9wZQ" })), (e: unknown) => e instanceof SandboxError && e.code === "InvalidRequest");
    assert.throws(() => query({ from: "2026-03-10T00:00:00Z", to: "2026-03-09T00:00:00Z" }), /from must not be after to/);
    assert.throws(() => query({ from: "2025-01-01T00:00:00Z", to: "2026-03-09T00:00:00Z" }), /at most 92 days/);
  });
});
