import type { OperationError, OperationRecord, OperationStatus } from "./operation.js";
import type { OperationKindDefinition } from "./operationKinds.js";
import type { StepOutcome } from "./steps.js";

/**
 * The pure part of an engine tick: how a step's outcome (or a thrown error)
 * changes the operation record. Plain data in, plain data out — no store, no
 * ARM, no clock (`now` and the timing functions are passed in) — so each
 * transition is unit-testable on its own. The functions update the record
 * they are given (the engine's private copy of the row).
 */

/** Timing the transitions need, from the engine's settings. */
export interface TransitionTiming {
  /** Wall epoch ms. */
  readonly now: number;
  /** Wall ms for service seconds (SIM_TIME_SCALE). */
  wallMs(seconds: number): number;
}

/** Ends the operation with `status`; the running step ends with it. */
export function finishOperation(
  op: OperationRecord,
  status: OperationStatus,
  now: number,
  error?: OperationError,
): void {
  op.status = status;
  op.endedAt = now;
  op.error = error;
  const step = op.steps[op.stepIndex];
  if (step && step.status === "Running") {
    step.status = status === "Succeeded" ? "Succeeded" : status === "Canceled" ? "Canceled" : "Failed";
    step.endedAt = new Date(now).toISOString();
  }
}

/** Marks the current step running (first tick of the step: its start time, no message). */
export function startStep(op: OperationRecord, now: number): void {
  const view = op.steps[op.stepIndex];
  op.status = "Running";
  if (view && view.status !== "Running") {
    view.status = "Running";
    view.startedAt ??= new Date(now).toISOString();
    delete view.message;
  }
}

/** A permanent step failure: the operation fails with the error's code, message and details. */
export function failStep(op: OperationRecord, error: OperationError, now: number): void {
  op.lastError = { code: error.code, message: error.message };
  finishOperation(op, "Failed", now, error);
}

/**
 * A transient step failure: one more attempt, retried after `backoffMs`
 * (and never before the service's `retryAfterMs`).
 */
export function retryStep(
  op: OperationRecord,
  lastError: { code: string; message: string },
  backoffMs: (attempts: number) => number,
  retryAfterMs: number,
  now: number,
): void {
  op.attempts += 1;
  op.lastError = lastError;
  const view = op.steps[op.stepIndex];
  if (view) view.message = `Retrying after ${lastError.code} (attempt ${op.attempts})`;
  op.nextPollAt = now + Math.max(backoffMs(op.attempts), retryAfterMs + 2);
}

/**
 * Applies a step's outcome. Returns `"next"` when the step finished and the
 * following step may run in the same tick; `"stop"` when the tick ends
 * (waiting, failed, succeeded or canceled).
 */
export function applyStepOutcome(
  op: OperationRecord,
  kind: Pick<OperationKindDefinition, "steps" | "result">,
  stepName: string,
  outcome: StepOutcome,
  timing: TransitionTiming,
): "next" | "stop" {
  const view = op.steps[op.stepIndex];
  op.attempts = 0;
  if (outcome.type === "fail") {
    if (op.cancelRequested && outcome.error.code === "Canceled")
      finishOperation(op, "Canceled", timing.now, outcome.error);
    else finishOperation(op, "Failed", timing.now, outcome.error);
    return "stop";
  }
  if (outcome.type === "wait") {
    if (outcome.state) op.stepState = outcome.state;
    if (view) {
      if (outcome.message !== undefined) view.message = outcome.message;
      else delete view.message;
    }
    if (outcome.percentComplete !== undefined)
      op.percentComplete = Math.round((op.stepIndex * 100 + outcome.percentComplete) / op.steps.length);
    op.nextPollAt = timing.now + Math.max(timing.wallMs(outcome.afterSeconds), (outcome.retryAfterMs ?? 0) + 2);
    return "stop";
  }
  if (view) {
    view.status = "Succeeded";
    view.endedAt = new Date(timing.now).toISOString();
    delete view.message;
  }
  if (outcome.data) Object.assign(op.data, outcome.data);
  op.stepState = {};
  op.stepIndex += 1;
  op.percentComplete = Math.round((op.stepIndex * 100) / op.steps.length);
  if (op.stepIndex >= kind.steps.length) {
    op.stepIndex = kind.steps.length - 1;
    op.result = kind.result ? kind.result(op.data, op.input) : outcome.result;
    finishOperation(op, "Succeeded", timing.now);
    return "stop";
  }
  if (op.cancelRequested) {
    op.stepIndex -= 1;
    finishOperation(op, "Canceled", timing.now, {
      code: "Canceled",
      message: `The operation was canceled after step ${stepName}.`,
    });
    return "stop";
  }
  return "next";
}
