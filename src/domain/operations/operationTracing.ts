import type { OperationRecord } from "./operation.js";

/**
 * Port: tracing of the operations engine (OpenTelemetry behind it, or
 * nothing). The domain names the moments; the implementation decides
 * what a span is.
 */
export interface OperationTracing {
  /** The W3C `traceparent` of the work in progress (the creating request), kept on the new operation's row. */
  currentTraceparent(): string | undefined;
  /** Runs one step tick of `op` inside a span of the operation's trace (linked to the work that runs it now). */
  tick<T>(op: OperationRecord, fn: () => Promise<T>): Promise<T>;
  /** Runs one reconcile pass (its duration and backlog are measured). */
  pass<T extends { active: number }>(fn: () => Promise<T>): Promise<T>;
}

/** No tracing. */
export const NO_OPERATION_TRACING: OperationTracing = Object.freeze({
  currentTraceparent: () => undefined,
  tick: <T>(_op: OperationRecord, fn: () => Promise<T>) => fn(),
  pass: <T>(fn: () => Promise<T>) => fn(),
});
