// Audit retention with a fake audit store and a fake clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuditRecord } from "../../../../src/domain/policy/auditLog.js";
import { pruneAuditRecords, pruneAuditRecordsTimer } from "../../../../src/domain/policy/pruneAuditRecordsTimer.js";
import { InMemoryAuditLog } from "../../../support/fakes/httpPipelineFakes.js";

function record(id: string, time: string): AuditRecord {
  return {
    id,
    time,
    principalId: null,
    principalName: null,
    appId: null,
    team: null,
    action: "whoami",
    method: "GET",
    target: "/api/v1/whoami",
    status: 401,
    errorCode: "Unauthorized",
    requestId: id,
    clientRequestId: null,
    operationId: null,
    source: null,
    count: 1,
  };
}

test("the timer removes the days wholly older than the retention (fake clock), keeps the rest, and logs the count", async () => {
  const log = new InMemoryAuditLog();
  const times = {
    old1: "2026-01-01T00:00:00.000Z",
    old2: "2026-03-01T23:59:59.999Z",
    edge: "2026-03-02T00:00:00.000Z", // the cutoff's own day is kept whole
    recent: "2026-05-30T12:00:00.000Z",
  };
  for (const [id, time] of Object.entries(times)) await log.append(record(id, time));
  const events: Record<string, unknown>[] = [];
  const now = new Date("2026-05-31T03:17:00.000Z"); // 90 days back: 2026-03-02T03:17Z
  await pruneAuditRecordsTimer(
    async () => ({ auditLog: log, auditRetentionDays: 90 }),
    () => (event) => events.push(event),
    () => now,
  )();
  assert.deepEqual(
    log.records.map((r) => r.id),
    ["edge", "recent"],
  );
  assert.deepEqual(events, [
    { level: "info", component: "audit", msg: "pruneAuditRecords", removed: 2, retentionDays: 90 },
  ]);
});

test("a backlog larger than one batch is removed in one pass", async () => {
  const log = new InMemoryAuditLog();
  for (let i = 0; i < 2500; i++) await log.append(record(`r${i}`, "2025-01-01T00:00:00.000Z"));
  await log.append(record("new", "2026-05-30T00:00:00.000Z"));
  assert.equal(await pruneAuditRecords(log, 30, new Date("2026-05-31T00:00:00.000Z")), 2500);
  assert.deepEqual(
    log.records.map((r) => r.id),
    ["new"],
  );
});
