import type { DispatchReport } from "./webhookDispatcher.js";

type Dispatcher = { pass(): Promise<DispatchReport> };

/**
 * The `deliverWebhooks` timer handler: one dispatcher pass (outbox →
 * deliveries → signed POSTs); logs its figures when there was anything to do.
 * @param dispatcher resolved on each tick (the composition root builds it on first use, possibly asynchronously).
 * @param log read after `dispatcher` has resolved (the services are built by then).
 */
export function reconcileWebhooksTimer(
  dispatcher: () => Dispatcher | Promise<Dispatcher>,
  log: () => (event: Record<string, unknown>) => void,
) {
  return async (): Promise<void> => {
    const report = await (await dispatcher()).pass();
    if (report.fannedOut > 0 || report.attempted > 0)
      log()({ level: "info", msg: "deliverWebhooks", component: "webhooks", ...report });
  };
}
