import { setTimeout as sleep } from "node:timers/promises";
import { odata, type TableClient } from "@azure/data-tables";
import type { JobSlotStore, ReserveOutcome } from "../../domain/policy/jobSlots.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { tableCreator } from "./tableClients.js";
import { statusOf, storageError } from "./tableErrors.js";

/** Default table of job slots. */
export const JOB_SLOTS_TABLE = "sandboxjobslots";

const COUNTER = "~count";
const MAX_ATTEMPTS = 30;

type CounterRow = {
  partitionKey: string;
  rowKey: string;
  count: number;
};

/** Row key of a job's slot: ids may hold `/`, which row keys may not. */
function slotKey(jobId: string): string {
  return `job:${encodeURIComponent(jobId)}`;
}

/**
 * {@link JobSlotStore} on Table Storage. Partition = team; one counter row
 * (`~count`) plus one row per held slot (`job:<id>`). Every change is an
 * entity-group transaction that updates the counter with `If-Match: <etag>`
 * and creates or deletes the slot row, so concurrent changes of one team
 * serialize on the counter's ETag (412 → re-read and retry) and the count
 * always equals the slot rows. A duplicate reservation of one job fails the
 * row create (409) and is retried into `alreadyHeld`.
 */
export class JobSlotTable implements JobSlotStore {
  readonly #createTable: () => Promise<void>;
  /** Each team's counter as this instance last wrote it (count and ETag); a hint, never trusted without If-Match. */
  readonly #known = new Map<string, { count: number; etag: string }>();

  constructor(private readonly client: TableClient) {
    this.#createTable = tableCreator(client, (error) => storageError(error, "creating the job slots table"));
  }

  #ensureTable(): Promise<void> {
    return this.#createTable();
  }

  async #counter(team: string): Promise<{ count: number; etag: string | undefined }> {
    try {
      const row = await this.client.getEntity<CounterRow>(team, COUNTER);
      return { count: row.count, etag: row.etag };
    } catch (error) {
      if (statusOf(error) === 404) return { count: 0, etag: undefined };
      throw storageError(error, "reading a job slot counter");
    }
  }

  async #exists(team: string, rowKey: string): Promise<boolean> {
    try {
      await this.client.getEntity(team, rowKey, { queryOptions: { select: ["PartitionKey"] } });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw storageError(error, "reading a job slot");
    }
  }

  async #retrying<T>(attempt: () => Promise<T | "conflict">): Promise<T> {
    await this.#ensureTable();
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const result = await attempt();
      if (result !== "conflict") return result;
      // Jittered backoff so contending instances do not retry in lockstep.
      await sleep(Math.random() * Math.min(200, 5 * 2 ** i));
    }
    throw new SandboxError("ServiceUnavailable", "The job slot counter is too contended right now; retry shortly.", {
      retryAfterSeconds: 1,
    });
  }

  async tryReserve(team: string, jobId: string, limit: number): Promise<ReserveOutcome> {
    let known = this.#known.get(team);
    return this.#retrying(async () => {
      // The counter as this instance last wrote or read it, when it says there is room: the
      // transaction below is conditional on its ETag, so a stale copy costs one 412 and a re-read.
      // Without one (or when it says full) both rows are read first.
      const last = known !== undefined && known.count < limit ? known : undefined;
      known = undefined;
      const [{ count, etag }, held] = last
        ? [last, false]
        : await Promise.all([this.#counter(team), this.#exists(team, slotKey(jobId))]);
      if (held) return { outcome: "alreadyHeld", inUse: count };
      if (count >= limit) return { outcome: "full", inUse: count };
      const counter: CounterRow = { partitionKey: team, rowKey: COUNTER, count: count + 1 };
      try {
        const response = await this.client.submitTransaction([
          etag === undefined ? ["create", counter] : ["update", counter, "Replace", { etag }],
          ["create", { partitionKey: team, rowKey: slotKey(jobId), jobId, reservedAt: new Date().toISOString() }],
        ]);
        this.#remember(team, count + 1, response.subResponses[0]?.etag);
        return { outcome: "reserved", inUse: count + 1 };
      } catch (error) {
        this.#known.delete(team);
        const status = statusOf(error);
        // 409 after a remembered counter: the slot row may exist (alreadyHeld) or the counter was
        // created meanwhile; the re-read decides.
        if (status === 412 || status === 409) return "conflict";
        throw storageError(error, "reserving a job slot");
      }
    });
  }

  async release(team: string, jobId: string): Promise<boolean> {
    return this.#retrying(async () => {
      // Both reads at once; the transaction below is conditional on the counter's ETag anyway.
      const [{ count, etag }, held] = await Promise.all([this.#counter(team), this.#exists(team, slotKey(jobId))]);
      if (etag === undefined || !held) return false;
      try {
        const response = await this.client.submitTransaction([
          ["update", { partitionKey: team, rowKey: COUNTER, count: Math.max(0, count - 1) }, "Replace", { etag }],
          ["delete", { partitionKey: team, rowKey: slotKey(jobId) }],
        ]);
        this.#remember(team, Math.max(0, count - 1), response.subResponses[0]?.etag);
        return true;
      } catch (error) {
        this.#known.delete(team);
        const status = statusOf(error);
        // 404: another release deleted the row first; re-read decides.
        if (status === 412 || status === 409 || status === 404) return "conflict";
        throw storageError(error, "releasing a job slot");
      }
    });
  }

  /** Keeps the counter this instance just wrote (no ETag in the answer: nothing kept). */
  #remember(team: string, count: number, etag: unknown): void {
    if (typeof etag === "string" && etag.length > 0) this.#known.set(team, { count, etag });
    else this.#known.delete(team);
  }

  async holders(team: string): Promise<string[]> {
    await this.#ensureTable();
    const ids: string[] = [];
    const rows = this.client.listEntities<{ jobId: string }>({
      queryOptions: {
        filter: odata`PartitionKey eq ${team} and RowKey ge ${"job:"} and RowKey lt ${"job;"}`,
        select: ["jobId"],
      },
    });
    try {
      for await (const row of rows) ids.push(row.jobId);
    } catch (error) {
      throw storageError(error, "listing job slots");
    }
    return ids;
  }
}
