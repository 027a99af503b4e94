import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { OperationRecord } from "../domain/operations/operation.js";
import type { OperationTracing } from "../domain/operations/operationTracing.js";
import { serviceMetrics } from "./metrics.js";

/** The instrumentation scope of every span and metric of the service. */
export const TELEMETRY_SCOPE = "aks-pod-sandbox";

const w3c = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

export function tracer() {
  return trace.getTracer(TELEMETRY_SCOPE);
}

let started: Promise<void> | undefined;

/**
 * Starts OpenTelemetry with Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING
 * is set; otherwise does nothing (the API stays a no-op, nothing is loaded).
 * The exporter is imported lazily, so a cold start without it pays nothing.
 */
export function startTelemetry(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (!connectionString) return Promise.resolve();
  started ??= import("@azure/monitor-opentelemetry")
    .then(({ useAzureMonitor }) => {
      useAzureMonitor({ azureMonitorExporterOptions: { connectionString } });
    })
    .catch((error: unknown) => {
      // Telemetry must never take the API down: say so once, on one JSON line, and carry on.
      process.stderr.write(
        `${JSON.stringify({ level: "error", msg: "telemetry not started", error: error instanceof Error ? error.message : String(error) })}\n`,
      );
    });
  return started;
}

/** The parent context a caller's `traceparent`/`tracestate` headers name (W3C Trace Context), or the root. */
export function callerContext(headers: { get(name: string): string | null }): Context {
  const carrier: Record<string, string> = {};
  for (const name of ["traceparent", "tracestate"]) {
    const value = headers.get(name);
    if (value) carrier[name] = value;
  }
  return w3c.extract(ROOT_CONTEXT, carrier, headerGetter);
}

/** `traceparent` of a span context. */
function traceparentOf(span: Span | undefined): string | undefined {
  const sc = span?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
}

/** The trace id of the active span (for log lines), if any. */
export function activeTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** Runs `fn` in a new active span; records exceptions; always ends it. */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context; links?: Link[] },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {}, links: options.links ?? [] },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : "error" });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * {@link OperationTracing} with OpenTelemetry: a tick's span is a child of
 * the creating request's span (kept as `traceparent` on the row), so one
 * trace follows the operation from the caller's click to its last ARM poll
 * whichever instance runs the tick; a link points at the work running it
 * now (the timer pass, or a reader's GET).
 */
export const otelOperationTracing: OperationTracing = {
  currentTraceparent: () => traceparentOf(trace.getActiveSpan()),
  tick<T>(op: OperationRecord, fn: () => Promise<T>): Promise<T> {
    const runner = trace.getActiveSpan()?.spanContext();
    const parent = op.traceparent
      ? w3c.extract(ROOT_CONTEXT, { traceparent: op.traceparent }, headerGetter)
      : context.active();
    const links: Link[] =
      runner && trace.isSpanContextValid(runner) ? [{ context: runner, attributes: { "link.kind": "runner" } }] : [];
    const step = op.steps[op.stepIndex]?.name ?? "";
    return inSpan(
      `operation.tick ${op.kind}`,
      {
        parent,
        links,
        attributes: {
          "operation.id": op.id,
          "operation.kind": op.kind,
          "operation.step": step,
          "operation.team": op.team ?? "",
          "request.id": op.correlationId,
        },
      },
      () => fn(),
    );
  },
  pass<T extends { active: number }>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    return inSpan("operations.reconcilePass", {}, async () => {
      const report = await fn();
      serviceMetrics.reconcilePass(Date.now() - started, report.active);
      return report;
    });
  },
};

export { propagation, SpanKind };
