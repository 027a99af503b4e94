import { metrics } from "@opentelemetry/api";
import { TELEMETRY_SCOPE } from "./tracing.js";

/**
 * The service's metrics (OpenTelemetry API: no-ops until a meter provider is
 * registered, e.g. by Azure Monitor). Instruments are created on first use.
 */
function meter() {
  return metrics.getMeter(TELEMETRY_SCOPE);
}

let instruments:
  | {
      operations: ReturnType<ReturnType<typeof meter>["createCounter"]>;
      armCalls: ReturnType<ReturnType<typeof meter>["createCounter"]>;
      armThrottles: ReturnType<ReturnType<typeof meter>["createCounter"]>;
      reconcileDuration: ReturnType<ReturnType<typeof meter>["createHistogram"]>;
      reconcileBacklog: ReturnType<ReturnType<typeof meter>["createHistogram"]>;
      jobs: ReturnType<ReturnType<typeof meter>["createCounter"]>;
      webhookDeliveries: ReturnType<ReturnType<typeof meter>["createCounter"]>;
      webhookFailures: ReturnType<ReturnType<typeof meter>["createCounter"]>;
    }
  | undefined;

function get() {
  const m = meter();
  instruments ??= {
    operations: m.createCounter("sandbox.operations", {
      description: "Operations that reached a status, by kind and status.",
    }),
    armCalls: m.createCounter("sandbox.arm.calls", { description: "ARM HTTP calls, by method and status code." }),
    armThrottles: m.createCounter("sandbox.arm.throttles", { description: "ARM calls answered 429." }),
    reconcileDuration: m.createHistogram("sandbox.reconcile.duration", {
      unit: "ms",
      description: "Duration of one reconcile pass.",
    }),
    reconcileBacklog: m.createHistogram("sandbox.reconcile.backlog", {
      description: "Active operations seen by a reconcile pass.",
    }),
    jobs: m.createCounter("sandbox.jobs", { description: "Jobs that reached a status, by status." }),
    webhookDeliveries: m.createCounter("sandbox.webhook.deliveries", {
      description: "Webhook delivery attempts, by outcome.",
    }),
    webhookFailures: m.createCounter("sandbox.webhook.failures", { description: "Failed webhook delivery attempts." }),
  };
  return instruments;
}

export const serviceMetrics = {
  operationStatus(kind: string, status: string): void {
    get().operations.add(1, { kind, status });
  },
  armCall(method: string, status: number): void {
    get().armCalls.add(1, { method, status });
    if (status === 429) get().armThrottles.add(1);
  },
  reconcilePass(durationMs: number, backlog: number): void {
    get().reconcileDuration.record(durationMs);
    get().reconcileBacklog.record(backlog);
  },
  jobStatus(status: string): void {
    get().jobs.add(1, { status });
  },
  webhookAttempts(delivered: number, failed: number, deadLettered: number): void {
    if (delivered > 0) get().webhookDeliveries.add(delivered, { outcome: "delivered" });
    if (failed > 0) {
      get().webhookDeliveries.add(failed, { outcome: "failed" });
      get().webhookFailures.add(failed);
    }
    if (deadLettered > 0) get().webhookDeliveries.add(deadLettered, { outcome: "deadLettered" });
  },
};
