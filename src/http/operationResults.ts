import { toOperationView, type OperationRecord } from "../domain/operations/operation.js";
import type { UseCaseOutcome } from "../domain/operations/operationSubmission.js";
import type { OperationResult } from "./operationHandler.js";

/** `Operation-Location` of an operation (docs/api-conventions.md: a path under /api/v1). */
export function operationLocation(id: string): string {
  return `/api/v1/operations/${id}`;
}

/** Knows when an operation is next worth polling. */
export interface RetryAfter {
  retryAfterSeconds(op: OperationRecord): number;
}

/**
 * The 202 answer of a long-running request: `Operation-Location`,
 * `Retry-After` (seconds until the operation's next poll, 1–60) and the
 * operation as body.
 */
export function acceptedOperation(op: OperationRecord, operations: RetryAfter): OperationResult {
  return {
    status: 202,
    headers: {
      "operation-location": operationLocation(op.id),
      "retry-after": String(operations.retryAfterSeconds(op)),
    },
    body: toOperationView(op),
  };
}

/** A use case's outcome as HTTP: 200 with the body, 202 with the operation, or 204 when the target is absent. */
export function outcomeResult<T>(outcome: UseCaseOutcome<T>, operations: RetryAfter): OperationResult {
  switch (outcome.type) {
    case "done":
      return { status: 200, body: outcome.body };
    case "accepted":
      return acceptedOperation(outcome.operation, operations);
    case "absent":
      return { status: 204 };
  }
}
