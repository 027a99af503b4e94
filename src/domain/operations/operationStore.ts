import type { OperationKindName, OperationRecord, OperationStatus } from "./operation.js";

/** A record with the ETag of the row it was read from or written to. */
export interface StoredOperation {
  readonly record: OperationRecord;
  readonly etag: string;
}

/** An entry of the active-operations index (cheap to list: no history). */
export interface ActiveOperationEntry {
  readonly id: string;
  readonly nextPollAt: number;
  readonly serialKey: string | undefined;
  readonly subscriptionId: string;
}

/** Filters of {@link OperationStore.list}; all optional, combined with AND. */
export interface OperationFilter {
  status?: OperationStatus;
  kind?: OperationKindName;
  target?: string;
  /** Only this team's operations (non-admin readers). */
  team?: string;
}

/**
 * Port: durable operation rows with optimistic concurrency.
 *
 * Every write is conditional on the row's ETag; a lost race throws
 * `SandboxError("PreconditionFailed")` and the caller re-reads and
 * re-decides. Implementations keep an index of active operations separate
 * from history, so listing work costs O(active), and an expiry index so that
 * purging costs O(expired).
 */
export interface OperationStore {
  /** Writes a new operation and its active-index entry atomically. */
  create(record: OperationRecord): Promise<StoredOperation>;
  get(id: string): Promise<StoredOperation | undefined>;
  /**
   * Replaces the row if its ETag still is `etag`. Keeps the index in step
   * (same atomic write): active entries follow `nextPollAt`; a terminal
   * status moves the operation to the expiry index and releases its serial
   * lease. @throws SandboxError `PreconditionFailed` on a lost race.
   */
  update(record: OperationRecord, etag: string): Promise<StoredOperation>;
  /**
   * The active index (NotStarted/Running operations), optionally only those
   * due by `dueBy` (epoch ms) and only one subscription's (one shard read).
   */
  listActive(options?: { dueBy?: number; subscriptionId?: string }): Promise<ActiveOperationEntry[]>;
  /** One page of operations, oldest first. `continuationToken` is opaque. */
  list(
    filter: OperationFilter,
    top: number,
    continuationToken?: string,
  ): Promise<{ items: OperationRecord[]; continuationToken?: string }>;
  /**
   * Takes the serial lease of `serialKey` for `operationId` if free (or
   * already held by it). Returns the holder after the attempt.
   */
  acquireLease(serialKey: string, operationId: string): Promise<string>;
  /** Releases the lease if `operationId` holds it (no-op otherwise). */
  releaseLease(serialKey: string, operationId: string): Promise<void>;
  /** Deletes terminal operations that ended before `endedBefore` (epoch ms), at most `limit`. Returns how many. */
  purgeEnded(endedBefore: number, limit: number): Promise<number>;
}
