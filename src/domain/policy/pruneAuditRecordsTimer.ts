import type { AuditLog } from "./auditLog.js";

/** Records one `deleteOlderThan` call removes at most; a pass repeats it until a call removes fewer. */
const PRUNE_BATCH = 1000;
/** Calls one pass makes at most (a backlog is finished by the next day's pass). */
const MAX_BATCHES = 100;

/**
 * Removes audit records older than `retentionDays` (AUDIT_RETENTION_DAYS): every record of the UTC days wholly
 * before `now − retentionDays`, so a record is kept at least `retentionDays` and at most one day longer.
 * @returns how many records were removed.
 */
export async function pruneAuditRecords(auditLog: AuditLog, retentionDays: number, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  let removed = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const n = await auditLog.deleteOlderThan(cutoff, PRUNE_BATCH);
    removed += n;
    if (n < PRUNE_BATCH) break;
  }
  return removed;
}

/**
 * The audit retention timer handler (`pruneAuditRecords`, daily).
 * @param services resolved on each tick (the composition root builds them on first use).
 * @param now the clock (tests pass a fake one).
 */
export function pruneAuditRecordsTimer(
  services: () => Promise<{ auditLog: AuditLog; auditRetentionDays: number }>,
  log: () => (event: Record<string, unknown>) => void,
  now: () => Date = () => new Date(),
) {
  return async (): Promise<void> => {
    const { auditLog, auditRetentionDays } = await services();
    const removed = await pruneAuditRecords(auditLog, auditRetentionDays, now());
    log()({ level: "info", component: "audit", msg: "pruneAuditRecords", removed, retentionDays: auditRetentionDays });
  };
}
