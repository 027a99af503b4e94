import type { ReconcileReport } from "./operationEngine.js";

type OperationsReconciler = { reconcile(): Promise<ReconcileReport> };

/**
 * The `reconcileOperations` timer handler (every 10 s): one reconcile pass of
 * the operations engine; logs its figures when there was anything to do.
 * @param operations resolved on each tick (the composition root builds it on first use, possibly asynchronously).
 * @param log read after `operations` has resolved (the services are built by then).
 */
export function reconcileOperationsTimer(
  operations: () => OperationsReconciler | Promise<OperationsReconciler>,
  log: () => (event: Record<string, unknown>) => void,
) {
  return async (): Promise<void> => {
    const report = await (await operations()).reconcile();
    // One JSON object per line (fields, not a JSON string inside the message).
    if (report.active > 0 || report.purged > 0)
      log()({ level: "info", msg: "reconcileOperations", component: "operations", ...report });
  };
}
