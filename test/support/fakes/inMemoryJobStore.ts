import type { ClusterRef } from "../../../src/domain/kubernetes/clusterKubernetes.js";
import { clusterKey, type JobRecord } from "../../../src/domain/jobs/jobRecord.js";
import type { ActiveJobKey, JobListQuery, JobPage, JobStore } from "../../../src/domain/jobs/jobStore.js";
import { SandboxError } from "../../../src/domain/sandboxError.js";

/**
 * Typed in-memory {@link JobStore} for unit tests: rows and active pointers by
 * key, ETags (a counter), captured logs, and the calls made (in order).
 */
export class InMemoryJobStore implements JobStore {
  readonly rows = new Map<string, JobRecord>();
  readonly active = new Map<string, ActiveJobKey>();
  readonly calls: string[] = [];
  readonly #logs = new Map<string, string>();
  #etag = 0;

  static key(team: string, cluster: ClusterRef, name: string): string {
    return `${team}|${clusterKey(cluster)}|${name}`;
  }

  /** Row and pointer at once, as the Table adapter writes them: the pointer is written even when the name is taken. */
  async insert(record: JobRecord): Promise<JobRecord> {
    this.calls.push(`insert ${record.name}`);
    const key = InMemoryJobStore.key(record.team, record.cluster, record.name);
    this.active.set(key, { team: record.team, cluster: { ...record.cluster }, name: record.name });
    if (this.rows.has(key)) throw new SandboxError("Conflict", `A job named "${record.name}" already exists.`);
    const stored = { ...structuredClone(record), etag: String(++this.#etag) };
    this.rows.set(key, stored);
    return structuredClone(stored);
  }

  async get(team: string, cluster: ClusterRef, name: string): Promise<JobRecord | undefined> {
    this.calls.push(`get ${name}`);
    const row = this.rows.get(InMemoryJobStore.key(team, cluster, name));
    return row ? structuredClone(row) : undefined;
  }

  async findAnyTeam(cluster: ClusterRef, name: string): Promise<JobRecord[]> {
    return [...this.rows.values()]
      .filter((r) => clusterKey(r.cluster) === clusterKey(cluster) && r.name === name)
      .map((r) => structuredClone(r));
  }

  async update(record: JobRecord): Promise<JobRecord | undefined> {
    const key = InMemoryJobStore.key(record.team, record.cluster, record.name);
    const row = this.rows.get(key);
    if (!row || row.etag !== record.etag) return undefined;
    const stored = { ...structuredClone(record), etag: String(++this.#etag) };
    this.rows.set(key, stored);
    return structuredClone(stored);
  }

  async updateWithLogs(record: JobRecord, logText: string, truncated: boolean): Promise<JobRecord | undefined> {
    const bytes = Buffer.byteLength(logText, "utf8");
    const stored = await this.update({
      ...record,
      logs: { bytes, chunks: 1, truncated, capturedAt: new Date().toISOString() },
    });
    if (stored) this.#logs.set(InMemoryJobStore.key(record.team, record.cluster, record.name), logText);
    return stored;
  }

  async readLogs(record: JobRecord): Promise<string> {
    return this.#logs.get(InMemoryJobStore.key(record.team, record.cluster, record.name)) ?? "";
  }

  async delete(record: Pick<JobRecord, "team" | "cluster" | "name">): Promise<void> {
    this.calls.push(`delete ${record.name}`);
    const key = InMemoryJobStore.key(record.team, record.cluster, record.name);
    this.rows.delete(key);
    this.#logs.delete(key);
    this.active.delete(key);
  }

  async list(query: JobListQuery): Promise<JobPage> {
    const records = [...this.rows.values()]
      .filter((r) => query.team === undefined || r.team === query.team)
      .filter((r) => query.cluster === undefined || clusterKey(r.cluster) === clusterKey(query.cluster))
      .filter((r) => query.status === undefined || r.status === query.status)
      .slice(0, query.top)
      .map((r) => structuredClone(r));
    return { records, continuationToken: undefined };
  }

  async listActive(limit: number): Promise<ActiveJobKey[]> {
    return [...this.active.values()].slice(0, limit).map((k) => structuredClone(k));
  }

  async clearActive(key: ActiveJobKey): Promise<void> {
    this.calls.push(`clearActive ${key.name}`);
    this.active.delete(InMemoryJobStore.key(key.team, key.cluster, key.name));
  }
}
