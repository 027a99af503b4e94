import { isTerminal, type OperationRecord } from "./operation.js";
import type { OperationStore } from "./operationStore.js";

/**
 * Per-cluster serialization: operations with the same `serialKey` run one
 * after the other, oldest first, behind a lease row of the store.
 */
/** Takes the serial lease if this operation is the oldest waiting on its key; returns what it waits for otherwise. */
export async function acquireSerialLease(store: OperationStore, op: OperationRecord): Promise<string | undefined> {
  const key = op.serialKey!;
  const queue = (await store.listActive({ subscriptionId: op.subscriptionId }))
    .filter((e) => e.serialKey === key && e.id !== op.id)
    .map((e) => e.id)
    .sort();
  for (let round = 0; round < 2; round++) {
    const holder = await store.acquireLease(key, op.id);
    if (holder === op.id) {
      // Fairness: an older queued operation goes first (unless the lease came to us anyway).
      const older = queue.find((id) => id < op.id);
      if (older !== undefined) {
        const olderOp = (await store.get(older))?.record;
        if (olderOp && !isTerminal(olderOp.status) && !olderOp.holdsLease) {
          await store.releaseLease(key, op.id);
          return older;
        }
      }
      return undefined;
    }
    const holderOp = (await store.get(holder))?.record;
    if (holderOp && !isTerminal(holderOp.status)) return holder;
    // Stale lease (holder ended or vanished): release and try again.
    await store.releaseLease(key, holder);
  }
  return "another operation";
}
