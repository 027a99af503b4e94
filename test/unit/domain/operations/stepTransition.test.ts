// The engine's pure step transition: plain records in, plain records out; no store, no ARM, no clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { OperationRecord } from "../../../../src/domain/operations/operation.js";
import { applyStepOutcome, retryStep } from "../../../../src/domain/operations/stepTransition.js";

const NOW = Date.parse("2026-03-10T12:00:00.000Z");
const timing = { now: NOW, wallMs: (seconds: number) => seconds * 1000 };

function record(overrides: Partial<OperationRecord> = {}): OperationRecord {
  return {
    id: "op_1",
    kind: "CreateSandboxPool",
    target: "/subscriptions/s/x",
    subscriptionId: "s",
    serialKey: undefined,
    team: "alpha",
    createdBy: "tester",
    status: "Running",
    steps: [
      { name: "A", status: "Running" },
      { name: "B", status: "NotStarted" },
    ],
    stepIndex: 0,
    stepState: { polls: 1 },
    input: {},
    data: {},
    nextPollAt: NOW,
    attempts: 2,
    armCalls: 0,
    ticks: 0,
    lastError: undefined,
    error: undefined,
    result: undefined,
    percentComplete: undefined,
    cancelRequested: false,
    holdsLease: false,
    claim: undefined,
    correlationId: "c",
    createdAt: NOW,
    lastUpdatedAt: NOW,
    endedAt: undefined,
    deadlineAt: NOW + 3_600_000,
    ...overrides,
  };
}

const kind = {
  steps: [{ name: "A" }, { name: "B" }] as never[],
  result: (data: Readonly<Record<string, unknown>>) => ({ from: data.a }),
};

test("wait: keeps the step's state and message, polls after max(afterSeconds, Retry-After + 2 ms)", () => {
  const op = record();
  const next = applyStepOutcome(
    op,
    kind,
    "A",
    {
      type: "wait",
      state: { polls: 2 },
      afterSeconds: 10,
      retryAfterMs: 30_000,
      message: "polling",
      percentComplete: 50,
    },
    timing,
  );
  assert.equal(next, "stop");
  assert.deepEqual(op.stepState, { polls: 2 });
  assert.equal(op.steps[0]!.message, "polling");
  assert.equal(op.nextPollAt, NOW + 30_002);
  assert.equal(op.percentComplete, 25);
  assert.equal(op.attempts, 0);
});

test("done: the next step may run in the same tick; the last step's done ends the operation with the kind's result", () => {
  const op = record();
  assert.equal(applyStepOutcome(op, kind, "A", { type: "done", data: { a: 1 } }, timing), "next");
  assert.equal(op.stepIndex, 1);
  assert.deepEqual(op.stepState, {});
  assert.equal(op.steps[0]!.status, "Succeeded");
  op.steps[1]!.status = "Running";
  assert.equal(applyStepOutcome(op, kind, "B", { type: "done" }, timing), "stop");
  assert.equal(op.status, "Succeeded");
  assert.deepEqual(op.result, { from: 1 });
  assert.equal(op.endedAt, NOW);
  assert.equal(op.stepIndex, 1);
});

test("a cancel requested while a step ran stops the operation after that step", () => {
  const op = record({ cancelRequested: true });
  assert.equal(applyStepOutcome(op, kind, "A", { type: "done" }, timing), "stop");
  assert.equal(op.status, "Canceled");
  assert.equal(op.error?.message, "The operation was canceled after step A.");
});

test("a transient failure counts an attempt and backs off, never sooner than Retry-After", () => {
  const op = record({ attempts: 0 });
  retryStep(op, { code: "UpstreamThrottled", message: "slow down" }, (attempts) => attempts * 1000, 5000, NOW);
  assert.equal(op.attempts, 1);
  assert.equal(op.nextPollAt, NOW + 5002);
  assert.equal(op.steps[0]!.message, "Retrying after UpstreamThrottled (attempt 1)");
});
