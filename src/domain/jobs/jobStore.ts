import type { ClusterRef } from "../kubernetes/clusterKubernetes.js";
import type { JobRecord, JobStatus } from "./jobRecord.js";

/** A filter for {@link JobStore.list}. */
export interface JobListQuery {
  /** Only this team's jobs; undefined = every team (Admin). */
  team: string | undefined;
  /** Only jobs of this cluster. */
  cluster?: ClusterRef | undefined;
  /** Only jobs on clusters of this name (any subscription / resource group), case-insensitive. */
  clusterName?: string | undefined;
  status?: JobStatus | undefined;
  /** Page size, 1–1000. */
  top: number;
  /** Opaque token from a previous page. */
  continuationToken?: string | undefined;
}

export interface JobPage {
  records: JobRecord[];
  /** Present when more records may follow. */
  continuationToken: string | undefined;
}

/** A pointer to a job that is not known to be finished (the job timer's work list). */
export interface ActiveJobKey {
  team: string;
  cluster: ClusterRef;
  name: string;
  /** When the pointer was written (ISO 8601), as `listActive` reads it; absent elsewhere. */
  since?: string | undefined;
}

/**
 * Port: job rows (and their captured log tails). Implementations keep one
 * row per job and team, keyed by cluster and name, with optimistic
 * concurrency (ETags).
 */
export interface JobStore {
  /**
   * Stores a new job row and its active-job pointer.
   * @throws SandboxError `Conflict` when the team already has a job of that name on the cluster.
   */
  insert(record: JobRecord): Promise<JobRecord>;
  /** The team's job of that name on the cluster, or undefined. */
  get(team: string, cluster: ClusterRef, name: string): Promise<JobRecord | undefined>;
  /** Jobs of that name on the cluster, of any team (for Admin callers). */
  findAnyTeam(cluster: ClusterRef, name: string): Promise<JobRecord[]>;
  /**
   * Replaces the row if its ETag still matches `record.etag`.
   * @returns the stored record (with its new ETag), or undefined when the row changed meanwhile (or is gone).
   */
  update(record: JobRecord): Promise<JobRecord | undefined>;
  /**
   * Replaces the row (ETag-checked) and stores `logText` as the job's captured
   * log tail, atomically. `record.logs` is set from the text.
   * @returns as {@link update}.
   */
  updateWithLogs(record: JobRecord, logText: string, truncated: boolean): Promise<JobRecord | undefined>;
  /** The captured log tail ("" when none). */
  readLogs(record: JobRecord): Promise<string>;
  /** Deletes the row, its log rows and its active pointer. Idempotent. */
  delete(record: Pick<JobRecord, "team" | "cluster" | "name">): Promise<void>;
  list(query: JobListQuery): Promise<JobPage>;
  /** Up to `limit` pointers of jobs not known to be finished. */
  listActive(limit: number): Promise<ActiveJobKey[]>;
  /** Removes the active pointer of a finished job. Idempotent. */
  clearActive(key: ActiveJobKey): Promise<void>;
}
