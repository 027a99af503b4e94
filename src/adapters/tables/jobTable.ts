import { odata, type TableClient, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import { clusterKey, type JobRecord, type JobStatus } from "../../domain/jobs/jobRecord.js";
import type { ActiveJobKey, JobListQuery, JobPage, JobStore } from "../../domain/jobs/jobStore.js";
import type { ClusterRef } from "../../domain/kubernetes/clusterKubernetes.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { isStorableTableKey, tableCreator } from "./tableClients.js";
import { decodeContinuation, encodeContinuation } from "./continuationToken.js";
import { statusOf, storageError } from "./tableErrors.js";
import { jobEvents } from "../../domain/events/cloudEvent.js";
import { outboxActions } from "./outboxRows.js";
import { serviceMetrics } from "../../telemetry/metrics.js";

/** Default table of job rows (schema: docs/jobs-table.md). */
export const JOBS_TABLE = "sandboxjobs";

/** Partition of the active-job pointers (team names cannot start with `~`). */
const ACTIVE_PARTITION = "~active";
/** Outbox rows in the job's partition (events written with the change that causes them; see outboxRows.ts). */
export const JOB_OUTBOX_PREFIX = "evt|";
/** Bytes of log per row (binary properties hold at most 64 KiB). */
export const LOG_CHUNK_BYTES = 60 * 1024;
/** Longest `message` kept in a row, characters. */
const MAX_MESSAGE_CHARS = 4000;

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

const jobKey = (ck: string, name: string): string => `job|${ck}|${name}`;
const logPrefix = (ck: string, name: string, uid: string): string => `log|${ck}|${name}|${uid}|`;
const activeKey = (team: string, ck: string, name: string): string => `${team}|${ck}|${name}`;

function toRow(record: JobRecord): Row {
  const ck = clusterKey(record.cluster);
  const row: Row = {
    partitionKey: record.team,
    rowKey: jobKey(ck, record.name),
    team: record.team,
    subscriptionId: record.cluster.subscriptionId,
    resourceGroup: record.cluster.resourceGroup,
    clusterName: record.cluster.clusterName,
    clusterKey: ck,
    clusterNameKey: record.cluster.clusterName.toLowerCase(),
    name: record.name,
    namespace: record.namespace,
    uid: record.uid,
    isolation: record.isolation,
    image: record.image,
    status: record.status,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    requestId: record.requestId,
    warnings: JSON.stringify(record.warnings),
  };
  const optional: Record<string, unknown> = {
    runtimeClassName: record.runtimeClassName,
    sandboxVCpu: record.sandboxVm?.vCpu,
    sandboxMemoryMiB: record.sandboxVm?.memoryMiB,
    exitCode: record.exitCode,
    reason: record.reason,
    message: record.message?.slice(0, MAX_MESSAGE_CHARS),
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    refreshedAt: record.refreshedAt,
    logBytes: record.logs?.bytes,
    logChunks: record.logs?.chunks,
    logTruncated: record.logs?.truncated,
    logCapturedAt: record.logs?.capturedAt,
    announcedStatus: record.announcedStatus,
    submissionKey: record.submissionKey,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) row[k] = v;
  return row;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

function fromRow(row: TableEntityResult<Record<string, unknown>>): JobRecord {
  const record: JobRecord = {
    team: String(row.team),
    cluster: {
      subscriptionId: String(row.subscriptionId),
      resourceGroup: String(row.resourceGroup),
      clusterName: String(row.clusterName),
    },
    name: String(row.name),
    namespace: String(row.namespace),
    uid: String(row.uid),
    isolation: row.isolation === "none" ? "none" : "sandbox",
    runtimeClassName: str(row.runtimeClassName),
    sandboxVm:
      num(row.sandboxVCpu) !== undefined
        ? { vCpu: num(row.sandboxVCpu)!, memoryMiB: num(row.sandboxMemoryMiB) ?? 0 }
        : undefined,
    image: String(row.image),
    status: String(row.status) as JobStatus,
    createdAt: String(row.createdAt),
    createdBy: String(row.createdBy),
    requestId: String(row.requestId),
    ...(typeof row.submissionKey === "string" ? { submissionKey: row.submissionKey } : {}),
    warnings: JSON.parse(str(row.warnings) ?? "[]") as string[],
    refreshedAt: str(row.refreshedAt),
    logs:
      num(row.logChunks) !== undefined
        ? {
            bytes: num(row.logBytes) ?? 0,
            chunks: num(row.logChunks)!,
            truncated: row.logTruncated === true,
            capturedAt: str(row.logCapturedAt) ?? "",
          }
        : undefined,
    etag: row.etag,
  };
  const exitCode = num(row.exitCode);
  if (exitCode !== undefined) record.exitCode = exitCode;
  const announced = str(row.announcedStatus);
  if (announced !== undefined) record.announcedStatus = announced;
  for (const key of ["reason", "message", "startedAt", "finishedAt"] as const) {
    const value = str(row[key]);
    if (value !== undefined) record[key] = value;
  }
  return record;
}

/** The record as written: events its state warrants (if not yet announced) go into the outbox of its partition. */
function withEvents(record: JobRecord): { record: JobRecord; outbox: TransactionAction[] } {
  const events = jobEvents(record, record.announcedStatus);
  if (events.length === 0) return { record, outbox: [] };
  serviceMetrics.jobStatus(record.status);
  return {
    record: { ...record, announcedStatus: record.status },
    outbox: outboxActions(record.team, JOB_OUTBOX_PREFIX, events),
  };
}

interface Continuation {
  /** Tables' continuation token. */
  t: string;
}

function decodeJobContinuation(token: string): Continuation {
  return decodeContinuation(token, (v) => (typeof v.t === "string" && v.t.length > 0 ? { t: v.t } : undefined));
}

/**
 * {@link JobStore} on one Azure Table (schema in docs/jobs-table.md):
 * partition = team; a job row `job|<clusterKey>|<name>`, its captured log
 * tail in rows `log|<clusterKey>|<name>|<uid>|<nnn>` (binary, 60 KiB each)
 * written in the same entity-group transaction as the job row's final
 * update; pointers to unfinished jobs in partition `~active` for the job
 * timer. Updates are conditional on the row's ETag.
 */
export class JobTable implements JobStore {
  readonly #createTable: () => Promise<void>;

  constructor(private readonly client: TableClient) {
    this.#createTable = tableCreator(client, (error) => storageError(error, "creating the jobs table"));
  }

  #ensureTable(): Promise<void> {
    return this.#createTable();
  }

  async #getRow(team: string, rowKey: string): Promise<JobRecord | undefined> {
    // Cluster and job names come from the URL: one Table Storage cannot store names no row.
    if (!isStorableTableKey(team) || !isStorableTableKey(rowKey)) return undefined;
    await this.#ensureTable();
    try {
      return fromRow(await this.client.getEntity<Record<string, unknown>>(team, rowKey));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageError(error, "reading a job");
    }
  }

  /**
   * Creates the job row and its active pointer at once (the timer keeps a
   * young pointer whose row is on its way). A 409 from the create is read
   * back: when the row is this submission's own (same `uid`), the create had
   * reached the table and only its answer was lost, so the SDK's retry found
   * it — that is a success, not "a job of that name already exists". A
   * failure after the row was created leaves it; the caller removes its own
   * row (the submitter).
   */
  async insert(record: JobRecord): Promise<JobRecord> {
    await this.#ensureTable();
    const ck = clusterKey(record.cluster);
    const row = toRow(record);
    const pointer = {
      partitionKey: ACTIVE_PARTITION,
      rowKey: activeKey(record.team, ck, record.name),
      team: record.team,
      subscriptionId: record.cluster.subscriptionId,
      resourceGroup: record.cluster.resourceGroup,
      clusterName: record.cluster.clusterName,
      name: record.name,
    };
    // Row and pointer at once (two partitions: no one transaction). A pointer whose row is not
    // there yet is kept by the timer for a grace period (`listActive` gives its time); a pointer
    // left by a failed create points at the same-named job or at nothing, and the timer clears it.
    const [created, pointed] = await Promise.allSettled([
      this.client.createEntity(row),
      this.client.upsertEntity(pointer, "Replace"),
    ]);
    let etag: string;
    if (created.status === "fulfilled") etag = created.value.etag ?? "";
    else {
      if (statusOf(created.reason) !== 409) throw storageError(created.reason, "recording the job");
      const existing = await this.#getRow(record.team, row.rowKey);
      if (!existing || existing.uid !== record.uid)
        throw new SandboxError(
          "Conflict",
          `A job named "${record.name}" already exists on cluster "${record.cluster.clusterName}".`,
          { target: "body.name" },
        );
      etag = existing.etag ?? "";
    }
    if (pointed.status === "rejected") throw storageError(pointed.reason, "recording the job");
    return { ...record, etag };
  }

  get(team: string, cluster: ClusterRef, name: string): Promise<JobRecord | undefined> {
    return this.#getRow(team, jobKey(clusterKey(cluster), name));
  }

  async findAnyTeam(cluster: ClusterRef, name: string): Promise<JobRecord[]> {
    await this.#ensureTable();
    const out: JobRecord[] = [];
    try {
      for await (const row of this.client.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`RowKey eq ${jobKey(clusterKey(cluster), name)}` },
      }))
        out.push(fromRow(row));
    } catch (error) {
      throw storageError(error, "finding a job");
    }
    return out;
  }

  async update(given: JobRecord): Promise<JobRecord | undefined> {
    await this.#ensureTable();
    const { record, outbox } = withEvents(given);
    try {
      if (outbox.length > 0) {
        const response = await this.client.submitTransaction([
          ["update", toRow(record), "Replace", { etag: record.etag ?? "*" }],
          ...outbox,
        ]);
        const etag = response.subResponses[0]?.etag;
        if (typeof etag === "string" && etag.length > 0) return { ...record, etag };
        return await this.#getRow(record.team, jobKey(clusterKey(record.cluster), record.name));
      }
      const response = await this.client.updateEntity(toRow(record), "Replace", { etag: record.etag ?? "*" });
      return { ...record, etag: response.etag ?? "" };
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return undefined;
      throw storageError(error, "updating a job");
    }
  }

  async updateWithLogs(record: JobRecord, logText: string, truncated: boolean): Promise<JobRecord | undefined> {
    await this.#ensureTable();
    const bytes = Buffer.from(logText, "utf8");
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += LOG_CHUNK_BYTES) chunks.push(bytes.subarray(i, i + LOG_CHUNK_BYTES));
    const { record: next, outbox } = withEvents({
      ...record,
      logs: { bytes: bytes.length, chunks: chunks.length, truncated, capturedAt: new Date().toISOString() },
    });
    const prefix = logPrefix(clusterKey(record.cluster), record.name, record.uid);
    const actions: TransactionAction[] = [
      ["update", toRow(next), "Replace", { etag: record.etag ?? "*" }],
      ...outbox,
      ...chunks.map((chunk, i): TransactionAction => [
        "upsert",
        { partitionKey: record.team, rowKey: `${prefix}${String(i).padStart(3, "0")}`, data: new Uint8Array(chunk) },
        "Replace",
      ]),
    ];
    try {
      const response = await this.client.submitTransaction(actions);
      const etag = response.subResponses[0]?.etag;
      return {
        ...next,
        etag:
          typeof etag === "string" && etag.length > 0
            ? etag
            : ((await this.#getRow(record.team, jobKey(clusterKey(record.cluster), record.name)))?.etag ?? ""),
      };
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 404) return undefined;
      throw storageError(error, "storing a job's logs");
    }
  }

  async readLogs(record: JobRecord): Promise<string> {
    if (!record.logs || record.logs.chunks === 0) return "";
    await this.#ensureTable();
    const prefix = logPrefix(clusterKey(record.cluster), record.name, record.uid);
    const parts: Buffer[] = [];
    try {
      const rows = this.client.listEntities<{ data: Uint8Array }>({
        queryOptions: {
          filter: odata`PartitionKey eq ${record.team} and RowKey ge ${prefix} and RowKey lt ${`${prefix}~`}`,
        },
      });
      for await (const row of rows) parts.push(Buffer.from(row.data));
    } catch (error) {
      throw storageError(error, "reading a job's logs");
    }
    return Buffer.concat(parts).toString("utf8");
  }

  async delete(record: Pick<JobRecord, "team" | "cluster" | "name">): Promise<void> {
    await this.#ensureTable();
    const ck = clusterKey(record.cluster);
    const logs = `log|${ck}|${record.name}|`;
    try {
      const keys: string[] = [];
      for await (const row of this.client.listEntities({
        queryOptions: {
          filter: odata`PartitionKey eq ${record.team} and RowKey ge ${logs} and RowKey lt ${`${logs}~`}`,
          select: ["RowKey"],
        },
      })) {
        keys.push(String(row.rowKey));
      }
      for (const key of [...keys, jobKey(ck, record.name)])
        await this.client.deleteEntity(record.team, key).catch(ignore404);
      await this.client.deleteEntity(ACTIVE_PARTITION, activeKey(record.team, ck, record.name)).catch(ignore404);
    } catch (error) {
      throw storageError(error, "deleting a job");
    }
  }

  async list(query: JobListQuery): Promise<JobPage> {
    await this.#ensureTable();
    const filters: string[] = [];
    if (query.team !== undefined) filters.push(odata`PartitionKey eq ${query.team}`);
    else filters.push(odata`PartitionKey ne ${ACTIVE_PARTITION}`);
    if (query.cluster) {
      const from = `job|${clusterKey(query.cluster)}|`;
      filters.push(odata`RowKey ge ${from} and RowKey lt ${`${from}~`}`);
    } else {
      filters.push(odata`RowKey ge ${"job|"} and RowKey lt ${"job}"}`);
    }
    if (query.clusterName !== undefined) filters.push(odata`clusterNameKey eq ${query.clusterName.toLowerCase()}`);
    if (query.status !== undefined) filters.push(odata`status eq ${query.status}`);
    const continuation =
      query.continuationToken === undefined ? undefined : decodeJobContinuation(query.continuationToken).t;
    try {
      const pages = this.client
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: filters.join(" and ") } })
        .byPage({ maxPageSize: query.top, ...(continuation !== undefined ? { continuationToken: continuation } : {}) });
      const page = (await pages.next()).value as
        (TableEntityResult<Record<string, unknown>>[] & { continuationToken?: string }) | undefined;
      return {
        records: (page ?? []).map(fromRow),
        continuationToken:
          page?.continuationToken !== undefined ? encodeContinuation({ t: page.continuationToken }) : undefined,
      };
    } catch (error) {
      throw storageError(error, "listing jobs");
    }
  }

  async listActive(limit: number): Promise<ActiveJobKey[]> {
    await this.#ensureTable();
    const out: ActiveJobKey[] = [];
    try {
      const rows = this.client.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${ACTIVE_PARTITION}` },
      });
      for await (const row of rows) {
        out.push({
          team: String(row.team),
          cluster: {
            subscriptionId: String(row.subscriptionId),
            resourceGroup: String(row.resourceGroup),
            clusterName: String(row.clusterName),
          },
          name: String(row.name),
          since: typeof row.timestamp === "string" ? row.timestamp : undefined,
        });
        if (out.length >= limit) break;
      }
    } catch (error) {
      throw storageError(error, "listing active jobs");
    }
    return out;
  }

  async clearActive(key: ActiveJobKey): Promise<void> {
    await this.#ensureTable();
    try {
      await this.client.deleteEntity(ACTIVE_PARTITION, activeKey(key.team, clusterKey(key.cluster), key.name));
    } catch (error) {
      if (statusOf(error) !== 404) throw storageError(error, "clearing an active job");
    }
  }
}

function ignore404(error: unknown): void {
  if (statusOf(error) !== 404) throw error;
}
