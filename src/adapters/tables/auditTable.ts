import { odata, type TableClient } from "@azure/data-tables";
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from "../../domain/policy/auditLog.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { tableCreator } from "./tableClients.js";

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

function encodeContinuation(c: Continuation): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeContinuation(token: string): Continuation {
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<Continuation>;
    if (typeof value.d === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value.d) && (value.k === undefined || typeof value.k === "string")) return value as Continuation;
  } catch {
    // reported below
  }
  throw new SandboxError("InvalidRequest", "continuationToken is not a token this API issued.", { target: "query.continuationToken" });
}

type AuditRow = Omit<AuditRecord, "principalId" | "principalName" | "appId" | "team" | "errorCode" | "clientRequestId" | "operationId"> & {
  principalId?: string;
  principalName?: string;
  appId?: string;
  team?: string;
  errorCode?: string;
  clientRequestId?: string;
  operationId?: string;
};

/**
 * {@link AuditLog} on Table Storage, append-only (`createEntity`, never
 * update or delete). Keys: PartitionKey = UTC day of `time` (`YYYY-MM-DD`),
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
    this.#createTable = tableCreator(client);
  }

  #ensureTable(): Promise<void> {
    return this.#createTable();
  }

  async append(record: AuditRecord): Promise<void> {
    await this.#ensureTable();
    const ms = Date.parse(record.time);
    const row: Record<string, unknown> = { partitionKey: dayOf(ms), rowKey: `${invertedTime(ms)}-${record.id}` };
    // Null columns are left out: Table Storage has no null.
    for (const [name, value] of Object.entries(record)) if (value !== null) row[name] = value;
    await this.client.createEntity(row as { partitionKey: string; rowKey: string });
  }

  async list(query: AuditQuery): Promise<AuditPage> {
    const start = query.continuationToken === undefined ? { d: dayOf(query.to.getTime()) } : decodeContinuation(query.continuationToken);
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
      const pages = this.client
        .listEntities<AuditRow>({ queryOptions: { filter } })
        .byPage({ maxPageSize: query.top - records.length, ...(inner !== undefined ? { continuationToken: inner } : {}) });
      const page = (await pages.next()).value as (AuditRow[] & { continuationToken?: string }) | undefined;
      for (const row of page ?? []) records.push(toRecord(row));
      if (page?.continuationToken !== undefined) {
        inner = page.continuationToken;
      } else {
        day = previousDay(day);
        inner = undefined;
      }
    }
    const more = day >= firstDay;
    return { records, continuationToken: more ? encodeContinuation(inner === undefined ? { d: day } : { d: day, k: inner }) : undefined };
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
    status: row.status,
    errorCode: row.errorCode ?? null,
    requestId: row.requestId,
    clientRequestId: row.clientRequestId ?? null,
    operationId: row.operationId ?? null,
  };
}
