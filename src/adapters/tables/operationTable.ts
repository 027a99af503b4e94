// One file on purpose (~600 lines): the Table Storage adapter of one port (OperationStore) — rows, the
// active/expiry/lease index rows, shard pointers, the outbox and the legacy-partition migration are written
// in the same entity-group transactions, so their key layout has to be read together.
import {
  odata,
  TableClient,
  type TableEntity,
  type TableEntityResult,
  type TransactionAction,
} from "@azure/data-tables";
import { SandboxError } from "../../domain/sandboxError.js";
import {
  isTerminal,
  operationShard,
  shardOfOperationId,
  type OperationKindName,
  type OperationRecord,
  type OperationStatus,
} from "../../domain/operations/operation.js";
import type {
  ActiveOperationEntry,
  OperationFilter,
  OperationStore,
  StoredOperation,
} from "../../domain/operations/operationStore.js";
import { tableClient, type TablesConnection, tableCreator } from "./tableClients.js";
import { rowWriteError, statusOf } from "./tableErrors.js";
import { operationEvents } from "../../domain/events/cloudEvent.js";
import { outboxActions } from "./outboxRows.js";
import { serviceMetrics } from "../../telemetry/metrics.js";

/** The partition every operation lived in before sharding (now: pointers to migrated rows). */
export const LEGACY_PARTITION = "ops";
/** Lists the shard partitions in use (RowKey = partition name). */
export const SHARDS_PARTITION = "~shards";
const OP = "o|";
const ACTIVE = "a|";
const EXPIRY = "x|";
const LEASE = "l|";
const POINTER = "p|";

/** The partition of a subscription's operations (schema: docs/operations-table.md). */
export function operationPartition(subscriptionId: string): string {
  return `ops-${operationShard(subscriptionId)}`;
}

/**
 * Serial keys name their subscription (a cluster's lower-case ARM id
 * `/subscriptions/<id>/…`, or `sandbox-feature:<id>`): the lease lives with
 * that subscription's operations, so ending its holder releases it atomically.
 */
function leasePartition(serialKey: string): string {
  const subscription =
    /^\/subscriptions\/([^/]+)\//i.exec(serialKey)?.[1] ?? /^[a-z-]+:([0-9a-f-]{36})$/i.exec(serialKey)?.[1];
  return operationPartition(subscription ?? serialKey);
}

/**
 * A nextLink token is the Tables SDK's own continuation (base64 JSON naming
 * the next keys). One the SDK cannot decode must be the caller's mistake (400),
 * not a storage failure: the SDK throws a plain SyntaxError for it.
 */
function checkTablesContinuation(token: string): void {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("latin1")) as {
      nextPartitionKey?: unknown;
      nextRowKey?: unknown;
    };
    if (
      typeof parsed.nextPartitionKey === "string" &&
      (parsed.nextRowKey === undefined || typeof parsed.nextRowKey === "string")
    )
      return;
  } catch {
    // fall through
  }
  throw new SandboxError("InvalidRequest", "The nextLink token is not valid.", { target: "query.continuationToken" });
}
/** Outbox rows (events written with the change that causes them; see outboxRows.ts). */
export const OPERATION_OUTBOX_PREFIX = "e|";

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
    partitionKey: operationPartition(op.subscriptionId),
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
    announcedStatus: op.announcedStatus,
    traceparent: op.traceparent,
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
    announcedStatus: str(row, "announcedStatus"),
    traceparent: str(row, "traceparent"),
  };
}

/** The record as written: events its state warrants (if not yet announced) go into the outbox of the same partition. */
function withEvents(record: OperationRecord): { record: OperationRecord; outbox: TransactionAction[] } {
  const events = operationEvents(record, record.announcedStatus);
  if (events.length === 0) return { record, outbox: [] };
  const announced = { ...record, announcedStatus: record.status };
  serviceMetrics.operationStatus(record.kind, record.status);
  return {
    record: announced,
    outbox: outboxActions(operationPartition(record.subscriptionId), OPERATION_OUTBOX_PREFIX, events),
  };
}

/** Storage failures as SandboxError (never with the connection string or the raw message of the SDK). */
function storageError(error: unknown, what: string): SandboxError {
  return rowWriteError(error, what, "operation row");
}

/** Row properties without the service's own (ETag, timestamp), for copying a row elsewhere. */
function copyOf(row: Record<string, unknown>, partitionKey: string): Row {
  const out: Row = { partitionKey, rowKey: String(row.rowKey) };
  for (const [k, v] of Object.entries(row)) {
    if (k !== "partitionKey" && k !== "rowKey" && k !== "etag" && k !== "timestamp" && !k.startsWith("odata."))
      out[k] = v;
  }
  return out;
}

/**
 * {@link OperationStore} on one Azure Table (Azurite locally), sharded by
 * subscription: partition `ops-<shard>` ({@link operationPartition}) holds a
 * subscription's operation rows (`o|<id>`), their active index (`a|<id>`),
 * expiry index (`x|<endedAt>|<id>`) and its clusters' serial leases
 * (`l|<key>`), so an operation row and its index rows still change together
 * in one entity-group transaction, and every operation update is conditional
 * on the row's ETag. Partition `~shards` lists the shards in use. Rows of the
 * unsharded layout (partition `ops`) are moved on the first reconcile pass of
 * a process (or when read), leaving `p|<id>` pointers for their ids.
 */
export class TableOperationStore implements OperationStore {
  readonly #client: TableClient;
  readonly #createTable: () => Promise<void>;
  readonly #knownShards = new Set<string>();
  #shardCache: { at: number; list: string[] } | undefined;
  #migration: Promise<number> | undefined;

  constructor(connectionOrClient: TablesConnection | TableClient, tableName = "operations") {
    this.#client =
      connectionOrClient instanceof TableClient ? connectionOrClient : tableClient(connectionOrClient, tableName);
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
      const first = actions[0]![1];
      const fresh = await this.#client.getEntity(String(first.partitionKey), String(first.rowKey));
      return fresh.etag;
    } catch (error) {
      throw storageError(error, what);
    }
  }

  /** Records that `partition` holds operations (once per process and shard; an idempotent upsert). */
  async #registerShard(partition: string): Promise<void> {
    if (this.#knownShards.has(partition)) return;
    try {
      await this.#client.upsertEntity({ partitionKey: SHARDS_PARTITION, rowKey: partition }, "Replace");
    } catch (error) {
      throw storageError(error, "registering an operations shard");
    }
    this.#knownShards.add(partition);
  }

  /**
   * The shard partitions in use: one small query, cached for 5 s (a shard
   * another instance opens meanwhile is seen by the next pass after that;
   * this process's own new shards at once).
   */
  async shards(): Promise<string[]> {
    const now = Date.now();
    if (this.#shardCache && now - this.#shardCache.at < 5000)
      return [...new Set([...this.#shardCache.list, ...this.#knownShards])];
    await this.ensureTable();
    const out: string[] = [];
    try {
      const filter = odata`PartitionKey eq ${SHARDS_PARTITION}`;
      for await (const row of this.#client.listEntities({ queryOptions: { filter, select: ["RowKey"] } }))
        out.push(String(row.rowKey));
    } catch (error) {
      throw storageError(error, "listing operations shards");
    }
    this.#shardCache = { at: now, list: out };
    return [...new Set([...out, ...this.#knownShards])];
  }

  #activeRow(op: OperationRecord): Row {
    const row: Row = {
      partitionKey: operationPartition(op.subscriptionId),
      rowKey: ACTIVE + op.id,
      nextPollAt: pad(op.nextPollAt),
      subscriptionId: op.subscriptionId,
    };
    if (op.serialKey !== undefined) row.serialKey = op.serialKey;
    return row;
  }

  async create(initial: OperationRecord): Promise<StoredOperation> {
    await this.ensureTable();
    await this.#registerShard(operationPartition(initial.subscriptionId));
    const { record, outbox } = withEvents(initial);
    const etag = await this.#transact(
      [["create", toRow(record)], ["create", this.#activeRow(record)], ...outbox],
      "creating the operation",
    );
    return { record, etag };
  }

  async #read(partition: string, rowKey: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
    try {
      return await this.#client.getEntity<Record<string, unknown>>(partition, rowKey);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, "reading the operation");
    }
  }

  async get(id: string): Promise<StoredOperation | undefined> {
    await this.ensureTable();
    // One point read: the id names its shard.
    const row = await this.#read(`ops-${shardOfOperationId(id)}`, OP + id);
    if (row) return { record: fromRow(row), etag: row.etag };
    // An id from before sharding: not moved yet (move it now), or moved (follow its pointer).
    if (await this.#read(LEGACY_PARTITION, OP + id)) await this.#migrateOne(id);
    const pointer = await this.#read(LEGACY_PARTITION, POINTER + id);
    if (pointer === undefined || typeof pointer.partition !== "string") return undefined;
    const moved = await this.#read(pointer.partition, OP + id);
    return moved ? { record: fromRow(moved), etag: moved.etag } : undefined;
  }

  async update(next: OperationRecord, etag: string): Promise<StoredOperation> {
    const { record, outbox } = withEvents(next);
    const partitionKey = operationPartition(record.subscriptionId);
    const actions: TransactionAction[] = [["update", toRow(record), "Replace", { etag }], ...outbox];
    if (isTerminal(record.status)) {
      actions.push(["delete", { partitionKey, rowKey: ACTIVE + record.id }]);
      actions.push([
        "upsert",
        { partitionKey, rowKey: `${EXPIRY}${pad(record.endedAt ?? Date.now())}|${record.id}`, operationId: record.id },
        "Replace",
      ]);
      if (record.serialKey !== undefined && record.holdsLease && leasePartition(record.serialKey) === partitionKey) {
        const lease = await this.#lease(record.serialKey);
        if (lease?.holder === record.id) actions.push(["delete", { partitionKey, rowKey: leaseKey(record.serialKey) }]);
      }
    } else {
      actions.push(["upsert", this.#activeRow(record), "Replace"]);
    }
    const newEtag = await this.#transact(actions, "updating the operation");
    // A serial key that names no subscription keeps its lease elsewhere: released right after.
    if (
      isTerminal(record.status) &&
      record.serialKey !== undefined &&
      record.holdsLease &&
      leasePartition(record.serialKey) !== partitionKey
    ) {
      await this.releaseLease(record.serialKey, record.id);
    }
    return { record, etag: newEtag };
  }

  async listActive(options: { dueBy?: number; subscriptionId?: string } = {}): Promise<ActiveOperationEntry[]> {
    await this.ensureTable();
    await this.migrateLegacyRows();
    const partitions =
      options.subscriptionId !== undefined ? [operationPartition(options.subscriptionId)] : await this.shards();
    const lists = await Promise.all(partitions.map((partition) => this.#listActiveIn(partition, options.dueBy)));
    return lists.flat();
  }

  async #listActiveIn(partition: string, dueBy: number | undefined): Promise<ActiveOperationEntry[]> {
    let filter = odata`PartitionKey eq ${partition} and RowKey ge ${ACTIVE} and RowKey lt ${"a}"}`;
    if (dueBy !== undefined) filter += odata` and nextPollAt le ${pad(dueBy)}`;
    const out: ActiveOperationEntry[] = [];
    try {
      for await (const row of this.#client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        const serialKey = str(row, "serialKey");
        out.push({
          id: String(row.rowKey).slice(ACTIVE.length),
          nextPollAt: num(row, "nextPollAt"),
          serialKey,
          subscriptionId: str(row, "subscriptionId") ?? "",
        });
      }
    } catch (error) {
      throw storageError(error, "listing active operations");
    }
    return out;
  }

  /**
   * One page of operations. Pages walk the partitions in key order (oldest
   * first within a subscription's shard); the continuation token is opaque.
   */
  async list(
    filter: OperationFilter,
    top: number,
    continuationToken?: string,
  ): Promise<{ items: OperationRecord[]; continuationToken?: string }> {
    if (continuationToken !== undefined) checkTablesContinuation(continuationToken);
    await this.ensureTable();
    let query = odata`RowKey ge ${OP} and RowKey lt ${"o}"}`;
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
      if (statusOf(error) === 400)
        throw new SandboxError("InvalidRequest", "The nextLink token is not valid.", {
          target: "query.continuationToken",
        });
      throw storageError(error, "listing operations");
    }
  }

  async #lease(serialKey: string): Promise<{ holder: string; etag: string } | undefined> {
    try {
      const row = await this.#client.getEntity<{ holder?: string }>(leasePartition(serialKey), leaseKey(serialKey));
      return { holder: String(row.holder ?? ""), etag: row.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, "reading a lease");
    }
  }

  async acquireLease(serialKey: string, operationId: string): Promise<string> {
    await this.ensureTable();
    try {
      await this.#client.createEntity({
        partitionKey: leasePartition(serialKey),
        rowKey: leaseKey(serialKey),
        holder: operationId,
        takenAt: new Date().toISOString(),
      });
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
      await this.#client.deleteEntity(leasePartition(serialKey), leaseKey(serialKey), { etag: lease.etag });
    } catch (error) {
      const status = statusOf(error);
      if (status !== 404 && status !== 412) throw storageError(error, "releasing a lease");
    }
  }

  async purgeEnded(endedBefore: number, limit: number): Promise<number> {
    await this.ensureTable();
    await this.migrateLegacyRows();
    let purged = 0;
    for (const partition of await this.shards()) {
      if (purged >= limit) break;
      purged += await this.#purgeIn(partition, endedBefore, limit - purged);
    }
    return purged;
  }

  async #purgeIn(partition: string, endedBefore: number, limit: number): Promise<number> {
    const filter = odata`PartitionKey eq ${partition} and RowKey ge ${EXPIRY} and RowKey lt ${EXPIRY + pad(endedBefore)}`;
    let purged = 0;
    try {
      const pages = this.#client
        .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
        .byPage({ maxPageSize: Math.min(limit, 100) });
      for await (const page of pages) {
        for (const row of page) {
          const id = str(row, "operationId") ?? String(row.rowKey).split("|")[2] ?? "";
          await this.#client
            .submitTransaction([
              ["delete", { partitionKey: partition, rowKey: OP + id }],
              ["delete", { partitionKey: partition, rowKey: String(row.rowKey) }],
            ])
            .catch(async (error: unknown) => {
              // The operation row may already be gone: drop the index row alone.
              if (statusOf(error) === 404)
                await this.#client.deleteEntity(partition, String(row.rowKey)).catch(() => undefined);
              else throw error;
            });
          // A moved pre-sharding operation also leaves its pointer.
          if (`ops-${shardOfOperationId(id)}` !== partition)
            await this.#client.deleteEntity(LEGACY_PARTITION, POINTER + id).catch(() => undefined);
          purged++;
          if (purged >= limit) return purged;
        }
      }
    } catch (error) {
      throw storageError(error, "purging expired operations");
    }
    return purged;
  }

  /**
   * Moves every operation of the unsharded layout (partition `ops`) into its
   * subscription's shard, once per process (again after a failure).
   * Idempotent and safe with several instances migrating at once: rows are
   * created in the shard in one transaction (409 = already moved), then
   * deleted from `ops` in one transaction that leaves a `p|<id>` pointer.
   * Returns how many operations this call moved.
   */
  migrateLegacyRows(): Promise<number> {
    this.#migration ??= this.#migrateAll().catch((error: unknown) => {
      this.#migration = undefined;
      throw storageError(error, "moving operations into their shards");
    });
    return this.#migration;
  }

  async #legacyRows(): Promise<Record<string, unknown>[]> {
    // Everything but the pointers (`p|…`): `a|`, `l|`, `o|` sort before them, `x|` after.
    const filter = odata`PartitionKey eq ${LEGACY_PARTITION} and (RowKey lt ${POINTER} or RowKey ge ${"p}"})`;
    const rows: Record<string, unknown>[] = [];
    for await (const row of this.#client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }))
      rows.push(row);
    return rows;
  }

  async #migrateAll(): Promise<number> {
    await this.ensureTable();
    const rows = await this.#legacyRows();
    let moved = 0;
    for (const row of rows) {
      const key = String(row.rowKey);
      if (key.startsWith(OP) && (await this.#migrateOne(key.slice(OP.length), rows))) moved++;
    }
    // Leases no operation of the old layout holds any more (their holder ended): drop them.
    for (const row of await this.#legacyRows()) {
      if (String(row.rowKey).startsWith(LEASE))
        await this.#client.deleteEntity(LEGACY_PARTITION, String(row.rowKey)).catch(() => undefined);
    }
    return moved;
  }

  /** Moves one pre-sharding operation with its index rows and the lease it holds. False when already moved. */
  async #migrateOne(id: string, known?: Record<string, unknown>[]): Promise<boolean> {
    const rows = known ?? (await this.#legacyRows());
    const op = rows.find((r) => r.rowKey === OP + id);
    if (!op) return false;
    const partition = operationPartition(str(op, "subscriptionId") ?? "");
    const mine = rows.filter((r) => {
      const key = String(r.rowKey);
      return (
        key === OP + id ||
        key === ACTIVE + id ||
        (key.startsWith(EXPIRY) && key.endsWith(`|${id}`)) ||
        (key.startsWith(LEASE) && r.holder === id)
      );
    });
    // A lease moves to where its cluster's operations now take it.
    const copies = mine.map((r) => {
      const key = String(r.rowKey);
      return copyOf(r, key.startsWith(LEASE) ? leasePartition(decodeURIComponent(key.slice(LEASE.length))) : partition);
    });
    await this.#registerShard(partition);
    const byPartition = new Map<string, Row[]>();
    for (const c of copies) byPartition.set(c.partitionKey, [...(byPartition.get(c.partitionKey) ?? []), c]);
    for (const [, group] of byPartition) {
      try {
        await this.#client.submitTransaction(group.map((c): TransactionAction => ["create", c]));
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
    }
    try {
      await this.#client.submitTransaction([
        ...mine.map((r): TransactionAction => ["delete", { partitionKey: LEGACY_PARTITION, rowKey: String(r.rowKey) }]),
        ["upsert", { partitionKey: LEGACY_PARTITION, rowKey: POINTER + id, partition }, "Replace"],
      ]);
    } catch (error) {
      // Another instance moved it meanwhile.
      if (statusOf(error) !== 404) throw error;
      return false;
    }
    return true;
  }
}
