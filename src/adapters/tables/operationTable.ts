import { RestError, odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import { SandboxError } from "../../domain/sandboxError.js";
import { isTerminal, type OperationKindName, type OperationRecord, type OperationStatus } from "../../domain/operations/operation.js";
import type { ActiveOperationEntry, OperationFilter, OperationStore, StoredOperation } from "../../domain/operations/operationStore.js";
import { tableClient, type TablesConnection, tableCreator } from "./tableClients.js";

/** The one partition of the operations table (schema: docs/operations-table.md). */
export const OPERATIONS_PARTITION = "ops";
const OP = "o|";
const ACTIVE = "a|";
const EXPIRY = "x|";
const LEASE = "l|";

/** Fixed-width decimal epoch ms, so that string order is time order in Table queries. */
function pad(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(15, "0");
}

function leaseKey(serialKey: string): string {
  return LEASE + encodeURIComponent(serialKey);
}

type Row = TableEntity<Record<string, unknown>>;

function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function parse<T>(value: unknown): T | undefined {
  return typeof value === "string" && value.length > 0 ? (JSON.parse(value) as T) : undefined;
}

function toRow(op: OperationRecord): Row {
  const row: Row = {
    partitionKey: OPERATIONS_PARTITION,
    rowKey: OP + op.id,
    kind: op.kind,
    target: op.target,
    subscriptionId: op.subscriptionId,
    status: op.status,
    createdBy: op.createdBy,
    correlationId: op.correlationId,
    stepIndex: op.stepIndex,
    attempts: op.attempts,
    armCalls: op.armCalls,
    ticks: op.ticks,
    cancelRequested: op.cancelRequested,
    holdsLease: op.holdsLease,
    nextPollAt: pad(op.nextPollAt),
    createdAt: new Date(op.createdAt).toISOString(),
    lastUpdatedAt: new Date(op.lastUpdatedAt).toISOString(),
    deadlineAt: new Date(op.deadlineAt).toISOString(),
    steps: JSON.stringify(op.steps),
    stepState: JSON.stringify(op.stepState),
    input: JSON.stringify(op.input),
    data: JSON.stringify(op.data),
  };
  const optional: Record<string, string | number | undefined> = {
    serialKey: op.serialKey,
    team: op.team,
    endedAt: op.endedAt === undefined ? undefined : new Date(op.endedAt).toISOString(),
    percentComplete: op.percentComplete,
    result: json(op.result),
    error: json(op.error),
    lastError: json(op.lastError),
    claimBy: op.claim?.by,
    claimUntil: op.claim === undefined ? undefined : pad(op.claim.until),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) row[k] = v;
  return row;
}

function str(row: Record<string, unknown>, key: string): string | undefined {
  const v = row[key];
  return typeof v === "string" ? v : undefined;
}

function num(row: Record<string, unknown>, key: string): number {
  const v = row[key];
  return typeof v === "number" ? v : Number(v ?? 0);
}

function fromRow(row: Record<string, unknown>): OperationRecord {
  const endedAt = str(row, "endedAt");
  const claimBy = str(row, "claimBy");
  const pct = row.percentComplete;
  return {
    id: String(row.rowKey).slice(OP.length),
    kind: str(row, "kind") as OperationKindName,
    target: str(row, "target") ?? "",
    subscriptionId: str(row, "subscriptionId") ?? "",
    serialKey: str(row, "serialKey"),
    team: str(row, "team"),
    createdBy: str(row, "createdBy") ?? "",
    status: str(row, "status") as OperationStatus,
    steps: parse(row.steps) ?? [],
    stepIndex: num(row, "stepIndex"),
    stepState: parse(row.stepState) ?? {},
    input: parse(row.input) ?? {},
    data: parse(row.data) ?? {},
    nextPollAt: num(row, "nextPollAt"),
    attempts: num(row, "attempts"),
    armCalls: num(row, "armCalls"),
    ticks: num(row, "ticks"),
    lastError: parse(row.lastError),
    error: parse(row.error),
    result: parse(row.result),
    percentComplete: typeof pct === "number" ? pct : undefined,
    cancelRequested: row.cancelRequested === true,
    holdsLease: row.holdsLease === true,
    claim: claimBy === undefined ? undefined : { by: claimBy, until: num(row, "claimUntil") },
    correlationId: str(row, "correlationId") ?? "",
    createdAt: Date.parse(str(row, "createdAt") ?? ""),
    lastUpdatedAt: Date.parse(str(row, "lastUpdatedAt") ?? ""),
    endedAt: endedAt === undefined ? undefined : Date.parse(endedAt),
    deadlineAt: Date.parse(str(row, "deadlineAt") ?? ""),
  };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : (error as { statusCode?: number }).statusCode;
}

/** Storage failures as SandboxError (never with the connection string or the raw message of the SDK). */
function storageError(error: unknown, what: string): SandboxError {
  const status = statusOf(error);
  if (status === 412) return new SandboxError("PreconditionFailed", `The operation row changed while ${what}.`, { cause: error });
  if (status === 409) return new SandboxError("Conflict", `The operation row already exists (${what}).`, { cause: error });
  return new SandboxError("ServiceUnavailable", `Table Storage failed while ${what}${status ? ` (HTTP ${status})` : ""}.`, { retryAfterSeconds: 5, cause: error });
}

/**
 * {@link OperationStore} on one Azure Table (Azurite locally). One partition
 * `ops` holds operation rows (`o|<id>`), the active index (`a|<id>`), the
 * expiry index (`x|<endedAt>|<id>`) and serial leases (`l|<key>`); an
 * operation row and its index rows change together in one entity-group
 * transaction, and every operation update is conditional on the row's ETag.
 */
export class TableOperationStore implements OperationStore {
  readonly #client: TableClient;
  readonly #createTable: () => Promise<void>;

  constructor(connectionOrClient: TablesConnection | TableClient, tableName = "operations") {
    this.#client = "connectionString" in connectionOrClient ? tableClient(connectionOrClient, tableName) : connectionOrClient;
    this.#createTable = tableCreator(this.#client, (error) => storageError(error, "creating the operations table"));
  }

  /** Creates the table if needed (once per instance). */
  async ensureTable(): Promise<void> {
    return this.#createTable();
  }

  async #transact(actions: TransactionAction[], what: string): Promise<string> {
    await this.ensureTable();
    try {
      const response = await this.#client.submitTransaction(actions);
      const etag = response.subResponses[0]?.etag;
      if (typeof etag === "string" && etag.length > 0) return etag;
      const fresh = await this.#client.getEntity(OPERATIONS_PARTITION, String(actions[0]![1].rowKey));
      return fresh.etag;
    } catch (error) {
      throw storageError(error, what);
    }
  }

  #activeRow(op: OperationRecord): Row {
    const row: Row = { partitionKey: OPERATIONS_PARTITION, rowKey: ACTIVE + op.id, nextPollAt: pad(op.nextPollAt), subscriptionId: op.subscriptionId };
    if (op.serialKey !== undefined) row.serialKey = op.serialKey;
    return row;
  }

  async create(record: OperationRecord): Promise<StoredOperation> {
    const etag = await this.#transact([["create", toRow(record)], ["create", this.#activeRow(record)]], "creating the operation");
    return { record, etag };
  }

  async get(id: string): Promise<StoredOperation | undefined> {
    await this.ensureTable();
    try {
      const row = await this.#client.getEntity<Record<string, unknown>>(OPERATIONS_PARTITION, OP + id);
      return { record: fromRow(row), etag: row.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, "reading the operation");
    }
  }

  async update(record: OperationRecord, etag: string): Promise<StoredOperation> {
    const actions: TransactionAction[] = [["update", toRow(record), "Replace", { etag }]];
    if (isTerminal(record.status)) {
      actions.push(["delete", { partitionKey: OPERATIONS_PARTITION, rowKey: ACTIVE + record.id }]);
      actions.push(["upsert", { partitionKey: OPERATIONS_PARTITION, rowKey: `${EXPIRY}${pad(record.endedAt ?? Date.now())}|${record.id}`, operationId: record.id }, "Replace"]);
      if (record.serialKey !== undefined && record.holdsLease) {
        const lease = await this.#lease(record.serialKey);
        if (lease?.holder === record.id) actions.push(["delete", { partitionKey: OPERATIONS_PARTITION, rowKey: leaseKey(record.serialKey) }]);
      }
    } else {
      actions.push(["upsert", this.#activeRow(record), "Replace"]);
    }
    const newEtag = await this.#transact(actions, "updating the operation");
    return { record, etag: newEtag };
  }

  async listActive(options: { dueBy?: number } = {}): Promise<ActiveOperationEntry[]> {
    await this.ensureTable();
    let filter = odata`PartitionKey eq ${OPERATIONS_PARTITION} and RowKey ge ${ACTIVE} and RowKey lt ${"a}"}`;
    if (options.dueBy !== undefined) filter += odata` and nextPollAt le ${pad(options.dueBy)}`;
    const out: ActiveOperationEntry[] = [];
    try {
      for await (const row of this.#client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        const serialKey = str(row, "serialKey");
        out.push({ id: String(row.rowKey).slice(ACTIVE.length), nextPollAt: num(row, "nextPollAt"), serialKey, subscriptionId: str(row, "subscriptionId") ?? "" });
      }
    } catch (error) {
      throw storageError(error, "listing active operations");
    }
    return out;
  }

  async list(filter: OperationFilter, top: number, continuationToken?: string): Promise<{ items: OperationRecord[]; continuationToken?: string }> {
    await this.ensureTable();
    let query = odata`PartitionKey eq ${OPERATIONS_PARTITION} and RowKey ge ${OP} and RowKey lt ${"o}"}`;
    if (filter.status !== undefined) query += odata` and status eq ${filter.status}`;
    if (filter.kind !== undefined) query += odata` and kind eq ${filter.kind}`;
    if (filter.target !== undefined) query += odata` and target eq ${filter.target}`;
    if (filter.team !== undefined) query += odata` and team eq ${filter.team}`;
    try {
      const pages = this.#client
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: query } })
        .byPage({ maxPageSize: top, ...(continuationToken ? { continuationToken } : {}) });
      const page = await pages.next();
      if (page.done) return { items: [] };
      const items = (page.value as TableEntityResult<Record<string, unknown>>[]).map(fromRow);
      const next = (page.value as { continuationToken?: string }).continuationToken;
      return next ? { items, continuationToken: next } : { items };
    } catch (error) {
      if (statusOf(error) === 400) throw new SandboxError("InvalidRequest", "The nextLink token is not valid.", { target: "query.continuationToken" });
      throw storageError(error, "listing operations");
    }
  }

  async #lease(serialKey: string): Promise<{ holder: string; etag: string } | undefined> {
    try {
      const row = await this.#client.getEntity<{ holder?: string }>(OPERATIONS_PARTITION, leaseKey(serialKey));
      return { holder: String(row.holder ?? ""), etag: row.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, "reading a lease");
    }
  }

  async acquireLease(serialKey: string, operationId: string): Promise<string> {
    await this.ensureTable();
    try {
      await this.#client.createEntity({ partitionKey: OPERATIONS_PARTITION, rowKey: leaseKey(serialKey), holder: operationId, takenAt: new Date().toISOString() });
      return operationId;
    } catch (error) {
      if (statusOf(error) !== 409) throw storageError(error, "taking a lease");
    }
    const lease = await this.#lease(serialKey);
    return lease ? lease.holder : this.acquireLease(serialKey, operationId);
  }

  async releaseLease(serialKey: string, operationId: string): Promise<void> {
    await this.ensureTable();
    const lease = await this.#lease(serialKey);
    if (!lease || lease.holder !== operationId) return;
    try {
      await this.#client.deleteEntity(OPERATIONS_PARTITION, leaseKey(serialKey), { etag: lease.etag });
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 412) throw storageError(error, "releasing a lease");
    }
  }

  async purgeEnded(endedBefore: number, limit: number): Promise<number> {
    await this.ensureTable();
    const filter = odata`PartitionKey eq ${OPERATIONS_PARTITION} and RowKey ge ${EXPIRY} and RowKey lt ${EXPIRY + pad(endedBefore)}`;
    let purged = 0;
    try {
      const pages = this.#client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 100) });
      for await (const page of pages) {
        for (const row of page) {
          const id = str(row, "operationId") ?? String(row.rowKey).split("|")[2] ?? "";
          await this.#client.submitTransaction([
            ["delete", { partitionKey: OPERATIONS_PARTITION, rowKey: OP + id }],
            ["delete", { partitionKey: OPERATIONS_PARTITION, rowKey: String(row.rowKey) }],
          ]).catch(async (error: unknown) => {
            // The operation row may already be gone: drop the index row alone.
            if (statusOf(error) === 404) await this.#client.deleteEntity(OPERATIONS_PARTITION, String(row.rowKey)).catch(() => undefined);
            else throw error;
          });
          purged++;
          if (purged >= limit) return purged;
        }
      }
    } catch (error) {
      throw storageError(error, "purging expired operations");
    }
    return purged;
  }
}
