import type { OperationRecord } from "./operation.js";

/** How long a finished operation is answered from memory, and how many are kept. */
const KEEP_MS = 10 * 60_000;
const MAX_ENTRIES = 10_000;

/**
 * Finished operations held in memory. A terminal operation never changes
 * again (ids are never reused; only the retention purge deletes it), so status
 * reads of finished operations — clients keep polling `Operation-Location` —
 * need no Table read for a while: at most 10 minutes, and never past the
 * moment the purge may delete the row. Bounded; the oldest go first. Pure.
 */
export class FinishedOperations {
  readonly #entries = new Map<string, { record: OperationRecord; until: number }>();

  constructor(
    private readonly retentionMs: number,
    private readonly now: () => number,
  ) {}

  get(id: string): OperationRecord | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.record;
    this.#entries.delete(id);
    return undefined;
  }

  /** Remembers `op` if it is terminal (callers check) and not yet purgeable. */
  remember(op: OperationRecord): void {
    const now = this.now();
    const until = Math.min(now + KEEP_MS, (op.endedAt ?? now) + this.retentionMs);
    if (until <= now) return;
    this.#entries.delete(op.id);
    this.#entries.set(op.id, { record: op, until });
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
