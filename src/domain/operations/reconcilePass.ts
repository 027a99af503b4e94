import { isTerminal, type OperationRecord } from "./operation.js";
import type { OperationStore } from "./operationStore.js";

/** Figures of one reconcile pass. */
export interface ReconcileReport {
  active: number;
  advanced: number;
  purged: number;
}

/** What one advance returns. */
export interface AdvanceResult {
  record: OperationRecord | undefined;
  /** Set when the per-subscription budget deferred the work: wall ms to wait. */
  deferredMs?: number;
}

/** What a reconcile pass uses: the store, the engine's coalesced advance, the clock and sleep from outside. */
export interface ReconcilePassDependencies {
  readonly store: OperationStore;
  /** Advances one operation by one tick if due (coalesced with other callers in this instance). */
  advance(id: string): Promise<AdvanceResult>;
  readonly instanceId: string;
  now(): number;
  sleep(ms: number): Promise<unknown>;
  log(event: Record<string, unknown>): void;
  /** Operations advanced at once. */
  readonly concurrency: number;
  readonly retentionDays: number;
}

/** At most `size` tasks at once, the rest in arrival order. */
class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/**
 * One reconcile pass (the `reconcileOperations` timer): purges expired
 * history, then for `passMs` drives every active operation whose next
 * poll falls inside the pass, each at its due time, at most
 * `concurrency` at once. Costs O(active operations), not O(history).
 */
export async function reconcilePass(deps: ReconcilePassDependencies, passMs: number): Promise<ReconcileReport> {
  const start = deps.now();
  const passEnd = start + passMs;
  let purged = 0;
  try {
    purged = await deps.store.purgeEnded(start - deps.retentionDays * 86_400_000, 500);
  } catch (error) {
    deps.log({ level: "warn", msg: "purge failed", error: String(error) });
  }
  const semaphore = new Semaphore(deps.concurrency);
  const driven = new Set<string>();
  const tasks: Promise<void>[] = [];
  let advanced = 0;
  let activeCount = 0;

  const drive = async (id: string, firstDue: number): Promise<void> => {
    let due = firstDue;
    for (;;) {
      if (due >= passEnd) return;
      const wait = due - deps.now();
      if (wait > 0) await deps.sleep(wait);
      if (deps.now() >= passEnd) return;
      let result: AdvanceResult;
      try {
        result = await semaphore.run(() => deps.advance(id));
      } catch (error) {
        deps.log({ level: "warn", msg: "advance failed", operationId: id, error: String(error) });
        return;
      }
      advanced++;
      const op = result.record;
      if (!op || isTerminal(op.status)) return;
      const now = deps.now();
      if (result.deferredMs !== undefined) due = now + Math.max(1, result.deferredMs);
      else if (op.claim && op.claim.until > now && op.claim.by !== deps.instanceId) due = op.claim.until + 1;
      else due = Math.max(op.nextPollAt, now + 1);
    }
  };

  const refreshMs = Math.max(50, Math.min(1000, (passEnd - start) / 8));
  for (;;) {
    const active = await deps.store.listActive({ dueBy: passEnd });
    activeCount = Math.max(activeCount, driven.size + active.filter((e) => !driven.has(e.id)).length);
    for (const entry of active) {
      if (driven.has(entry.id)) continue;
      driven.add(entry.id);
      tasks.push(drive(entry.id, entry.nextPollAt));
    }
    const remaining = passEnd - deps.now();
    if (remaining <= refreshMs) break;
    await deps.sleep(refreshMs);
  }
  await Promise.all(tasks);
  return { active: activeCount, advanced, purged };
}
