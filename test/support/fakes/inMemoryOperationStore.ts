import { isTerminal, type OperationRecord } from "../../../src/domain/operations/operation.js";
import type {
  ActiveOperationEntry,
  OperationFilter,
  OperationStore,
  StoredOperation,
} from "../../../src/domain/operations/operationStore.js";
import { SandboxError } from "../../../src/domain/sandboxError.js";

const copy = <T>(value: T): T => structuredClone(value);

/**
 * Typed in-memory {@link OperationStore} for unit tests of the domain (no Azurite, no network). It keeps the
 * port's contract: ETag-conditional writes (`PreconditionFailed` on a lost race), an active index that follows
 * the status, serial leases released when their holder ends. Integration tests use the Tables adapter on Azurite.
 */
export class InMemoryOperationStore implements OperationStore {
  readonly #rows = new Map<string, StoredOperation>();
  readonly #leases = new Map<string, string>();
  #etags = 0;
  /** Every port call, by name (for assertions on what the domain asked for). */
  readonly calls: string[] = [];

  #nextEtag(): string {
    this.#etags += 1;
    return `W/"${this.#etags}"`;
  }

  async create(record: OperationRecord): Promise<StoredOperation> {
    this.calls.push("create");
    if (this.#rows.has(record.id)) throw new SandboxError("Conflict", `Operation ${record.id} already exists.`);
    const stored = { record: copy(record), etag: this.#nextEtag() };
    this.#rows.set(record.id, stored);
    return copy(stored);
  }

  async get(id: string): Promise<StoredOperation | undefined> {
    this.calls.push("get");
    const stored = this.#rows.get(id);
    return stored ? copy(stored) : undefined;
  }

  async update(record: OperationRecord, etag: string): Promise<StoredOperation> {
    this.calls.push("update");
    const current = this.#rows.get(record.id);
    if (!current || current.etag !== etag) {
      throw new SandboxError("PreconditionFailed", `Operation ${record.id} changed since it was read.`);
    }
    if (isTerminal(record.status) && record.serialKey !== undefined && record.holdsLease) {
      if (this.#leases.get(record.serialKey) === record.id) this.#leases.delete(record.serialKey);
    }
    const stored = { record: copy(record), etag: this.#nextEtag() };
    this.#rows.set(record.id, stored);
    return copy(stored);
  }

  async listActive(options: { dueBy?: number } = {}): Promise<ActiveOperationEntry[]> {
    this.calls.push("listActive");
    return [...this.#rows.values()]
      .map(({ record }) => record)
      .filter((record) => !isTerminal(record.status))
      .filter((record) => options.dueBy === undefined || record.nextPollAt <= options.dueBy)
      .sort((a, b) => a.nextPollAt - b.nextPollAt)
      .map(({ id, nextPollAt, serialKey, subscriptionId }) => ({ id, nextPollAt, serialKey, subscriptionId }));
  }

  async list(
    filter: OperationFilter,
    top: number,
    continuationToken?: string,
  ): Promise<{ items: OperationRecord[]; continuationToken?: string }> {
    this.calls.push("list");
    const matching = [...this.#rows.values()]
      .map(({ record }) => record)
      .filter((r) => filter.status === undefined || r.status === filter.status)
      .filter((r) => filter.kind === undefined || r.kind === filter.kind)
      .filter((r) => filter.target === undefined || r.target === filter.target)
      .filter((r) => filter.team === undefined || r.team === filter.team)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const start = continuationToken === undefined ? 0 : Number(continuationToken);
    if (!Number.isInteger(start) || start < 0) {
      const target = "query.continuationToken";
      throw new SandboxError("InvalidRequest", "The nextLink token is not valid.", { target });
    }
    const items = matching.slice(start, start + top).map(copy);
    const next = start + top;
    return next < matching.length ? { items, continuationToken: String(next) } : { items };
  }

  async acquireLease(serialKey: string, operationId: string): Promise<string> {
    this.calls.push("acquireLease");
    const holder = this.#leases.get(serialKey);
    if (holder !== undefined) return holder;
    this.#leases.set(serialKey, operationId);
    return operationId;
  }

  async releaseLease(serialKey: string, operationId: string): Promise<void> {
    this.calls.push("releaseLease");
    if (this.#leases.get(serialKey) === operationId) this.#leases.delete(serialKey);
  }

  async purgeEnded(endedBefore: number, limit: number): Promise<number> {
    this.calls.push("purgeEnded");
    const ended = [...this.#rows.values()]
      .map(({ record }) => record)
      .filter((r) => isTerminal(r.status) && (r.endedAt ?? 0) < endedBefore)
      .slice(0, limit);
    for (const record of ended) this.#rows.delete(record.id);
    return ended.length;
  }

  /** The lease holder of `serialKey`, if any (test inspection, not part of the port). */
  leaseHolder(serialKey: string): string | undefined {
    return this.#leases.get(serialKey);
  }
}
