import { test } from "node:test";
import assert from "node:assert/strict";
import { FinishedOperations } from "../../../../src/domain/operations/finishedOperations.js";
import type { OperationRecord, OperationStatus } from "../../../../src/domain/operations/operation.js";
import { OperationEngine } from "../../../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../../../src/domain/operations/operationKinds.js";
import type { OperationStore, StoredOperation } from "../../../../src/domain/operations/operationStore.js";
import type { ArmOperations } from "../../../../src/domain/operations/armOperations.js";

const DAY = 86_400_000;

function record(id: string, status: OperationStatus, endedAt: number | undefined): OperationRecord {
  return {
    id,
    kind: "CreateSandboxPool",
    target: "/t",
    subscriptionId: "s",
    serialKey: undefined,
    team: "alpha",
    createdBy: "u",
    status,
    steps: [],
    stepIndex: 0,
    stepState: {},
    input: {},
    data: {},
    nextPollAt: 0,
    attempts: 0,
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
    createdAt: 0,
    lastUpdatedAt: 0,
    endedAt,
    deadlineAt: 0,
  };
}

test("a finished operation is kept 10 minutes at most, and never past its purge time", () => {
  const clock = { ms: 100 * DAY };
  const finished = new FinishedOperations(30 * DAY, () => clock.ms);
  finished.remember(record("op_a", "Succeeded", clock.ms - DAY));
  assert.equal(finished.get("op_a")?.status, "Succeeded");
  clock.ms += 10 * 60_000;
  assert.equal(finished.get("op_a"), undefined, "10 minutes later: read the table again");

  clock.ms = 100 * DAY;
  finished.remember(record("op_b", "Failed", clock.ms - 30 * DAY + 60_000)); // purgeable in one minute
  assert.equal(finished.get("op_b")?.status, "Failed");
  clock.ms += 60_000;
  assert.equal(finished.get("op_b"), undefined, "not served once the purge may have deleted it");

  finished.remember(record("op_c", "Canceled", clock.ms - 31 * DAY));
  assert.equal(finished.get("op_c"), undefined, "already purgeable: not kept");
});

test("the engine reads a finished operation from the table once, a running one every time", async () => {
  const rows = new Map<string, StoredOperation>([
    ["op_done", { record: record("op_done", "Succeeded", Date.now() - 1000), etag: "e1" }],
    ["op_run", { record: record("op_run", "Running", undefined), etag: "e2" }],
  ]);
  let reads = 0;
  const unused = (): never => {
    throw new Error("not used by get");
  };
  const store: OperationStore = {
    get: async (id) => {
      reads++;
      return rows.get(id);
    },
    create: unused,
    update: unused,
    listActive: unused,
    list: unused,
    acquireLease: unused,
    releaseLease: unused,
    purgeEnded: unused,
  };
  const engine = new OperationEngine({ store, arm: {} as ArmOperations, kinds: new OperationKindRegistry([]) });
  for (let i = 0; i < 3; i++) assert.equal((await engine.get("op_done"))?.status, "Succeeded");
  assert.equal(reads, 1);
  for (let i = 0; i < 3; i++) assert.equal((await engine.get("op_run"))?.status, "Running");
  assert.equal(reads, 4);
  assert.equal(await engine.get("op_missing"), undefined);
  assert.equal(await engine.get("op_missing"), undefined);
  assert.equal(reads, 6, "unknown ids are not remembered");
});
