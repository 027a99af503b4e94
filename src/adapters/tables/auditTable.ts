import { odata, type TableClient } from "@azure/data-tables";
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from "../../domain/policy/auditLog.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { tableCreator } from "./tableClients.js";
import { decodeContinuation, encodeContinuation } from "./continuationToken.js";
import { statusOf, storageError } from "./tableErrors.js";

/** Default table of audit records. */
export const AUDIT_TABLE = "sandboxaudit";

/** Inverted timestamps sort newest first; 13 digits last until the year 2286. */
const INVERSION_BASE = 9_999_999_999_999;

function invertedTime(ms: number): string {
  return String(INVERSION_BASE - ms).padStart(13, "0");
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function previousDay(day: string): string {
  return dayOf(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000);
}

interface Continuation {
  /** Partition (UTC day) to continue in. */
  d: string;
  /** The Tables continuation token inside that partition, if mid-partition. */
  k?: string;
}

function decodeAuditContinuation(token: string): Continuation {
  return decodeContinuation(token, (v) =>
    typeof v.d === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v.d) && (v.k === undefined || typeof v.k === "string")
      ? { d: v.d, ...(typeof v.k === "string" ? { k: v.k } : {}) }
      : undefined,
  );
}

type AuditRow = Omit<
  AuditRecord,
  | "principalId"
  | "principalName"
  | "appId"
  | "team"
  | "errorCode"
  | "clientRequestId"
  | "operationId"
  | "status"
  | "source"
  | "count"
> & {
  status?: number;
  source?: string;
  /** Absent on rows written before counts existed: 1. */
  count?: number;
  principalId?: string;
  principalName?: string;
  appId?: string;
  team?: string;
  errorCode?: string;
  clientRequestId?: string;
  operationId?: string;
};

/** Rows one transaction deletes at most (a Table Storage batch). */
const BATCH = 100;

/** Table keys of a record: its UTC day, and inverted time + id (newest first inside the day). */
function keysOf(record: Pick<AuditRecord, "time" | "id">): { partitionKey: string; rowKey: string } {
  const ms = Date.parse(record.time);
  return { partitionKey: dayOf(ms), rowKey: `${invertedTime(ms)}-${record.id}` };
}

/**
 * {@link AuditLog} on Table Storage: records are created (`createEntity`),
 * only the outcome of a record written before a change is merged into it
 * (`settle`), and retention deletes whole days (`deleteOlderThan`). Keys: PartitionKey = UTC day of `time` (`YYYY-MM-DD`),
 * RowKey = inverted epoch milliseconds (13 digits) + `-` + record id, so a
 * day's records come back newest first and a time window is a RowKey range
 * inside each day's partition. A page walks partitions from `to`'s day back
 * to `from`'s; `team`/`action` are server-side property filters. The
 * continuation token (base64url JSON of the day plus the Tables continuation
 * inside it) is opaque to callers.
 */
export class AuditTable implements AuditLog {
  readonly #createTable: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#createTable = tableCreator(client, (error) => storageError(error, "creating the audit table"));
  }

  #ensureTable(): Promise<void> {
    return this.#createTable();
  }

  async append(record: AuditRecord): Promise<void> {
    await this.#ensureTable();
    const row: Record<string, unknown> = keysOf(record);
    // Null columns are left out: Table Storage has no null.
    for (const [name, value] of Object.entries(record)) if (value !== null) row[name] = value;
    try {
      await this.client.createEntity(row as { partitionKey: string; rowKey: string });
    } catch (error) {
      throw storageError(error, "appending an audit record");
    }
  }

  async settle(record: AuditRecord): Promise<void> {
    await this.#ensureTable();
    const outcome: Record<string, unknown> = { ...keysOf(record) };
    for (const name of ["status", "errorCode", "operationId"] as const)
      if (record[name] !== null) outcome[name] = record[name];
    try {
      // Merge with If-Match: * — the row must exist (404 otherwise); nothing but the outcome changes.
      await this.client.updateEntity(outcome as { partitionKey: string; rowKey: string }, "Merge");
    } catch (error) {
      throw storageError(error, "recording an audit outcome");
    }
  }

  async deleteOlderThan(cutoff: Date, limit: number): Promise<number> {
    await this.#ensureTable();
    const before = dayOf(cutoff.getTime());
    const byDay = new Map<string, string[]>();
    let found = 0;
    try {
      const rows = this.client.listEntities<{ partitionKey: string; rowKey: string }>({
        queryOptions: { filter: odata`PartitionKey lt ${before}`, select: ["PartitionKey", "RowKey"] },
      });
      for await (const row of rows) {
        const keys = byDay.get(row.partitionKey) ?? [];
        keys.push(row.rowKey);
        byDay.set(row.partitionKey, keys);
        if (++found >= limit) break;
      }
      for (const [partitionKey, rowKeys] of byDay) {
        for (let i = 0; i < rowKeys.length; i += BATCH) {
          await this.client.submitTransaction(
            rowKeys.slice(i, i + BATCH).map((rowKey) => ["delete", { partitionKey, rowKey }] as const),
          );
        }
      }
    } catch (error) {
      throw storageError(error, "removing audit records past retention");
    }
    return found;
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const start =
      query.continuationToken === undefined
        ? { d: dayOf(query.to.getTime()) }
        : decodeAuditContinuation(query.continuationToken);
    await this.#ensureTable();
    const firstDay = dayOf(query.from.getTime());
    const newest = invertedTime(query.to.getTime());
    // "." sorts right after "-", so the bound includes every id at `from`'s millisecond.
    const oldest = `${invertedTime(query.from.getTime())}.`;
    const records: AuditRecord[] = [];
    let day = start.d;
    let inner = start.k;
    while (day >= firstDay && records.length < query.top) {
      let filter = odata`PartitionKey eq ${day} and RowKey ge ${newest} and RowKey lt ${oldest}`;
      if (query.team !== undefined) filter += odata` and team eq ${query.team}`;
      if (query.action !== undefined) filter += odata` and action eq ${query.action}`;
      const page = await this.#page(filter, query.top - records.length, inner);
      for (const row of page ?? []) records.push(toRecord(row));
      if (page?.continuationToken !== undefined) {
        inner = page.continuationToken;
      } else {
        day = previousDay(day);
        inner = undefined;
      }
    }
    const more = day >= firstDay;
    return {
      records,
      continuationToken: more ? encodeContinuation(inner === undefined ? { d: day } : { d: day, k: inner }) : undefined,
    };
  }

  async #page(
    filter: string,
    top: number,
    continuationToken: string | undefined,
  ): Promise<(AuditRow[] & { continuationToken?: string }) | undefined> {
    try {
      const pages = this.client
        .listEntities<AuditRow>({ queryOptions: { filter } })
        .byPage({ maxPageSize: top, ...(continuationToken !== undefined ? { continuationToken } : {}) });
      return (await pages.next()).value as (AuditRow[] & { continuationToken?: string }) | undefined;
    } catch (error) {
      // A forged inner token fails in the SDK (it decodes it) or at Table Storage (400).
      if (continuationToken !== undefined && (error instanceof SyntaxError || statusOf(error) === 400))
        throw new SandboxError("InvalidRequest", "continuationToken is not a token this API issued.", {
          target: "query.continuationToken",
        });
      throw storageError(error, "listing audit records");
    }
  }
}

function toRecord(row: AuditRow): AuditRecord {
  return {
    id: row.id,
    time: row.time,
    principalId: row.principalId ?? null,
    principalName: row.principalName ?? null,
    appId: row.appId ?? null,
    team: row.team ?? null,
    action: row.action,
    method: row.method,
    target: row.target,
    status: row.status ?? null,
    errorCode: row.errorCode ?? null,
    requestId: row.requestId,
    clientRequestId: row.clientRequestId ?? null,
    operationId: row.operationId ?? null,
    source: row.source ?? null,
    count: row.count ?? 1,
  };
}
