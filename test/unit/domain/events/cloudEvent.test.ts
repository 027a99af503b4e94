import { test } from "node:test";
import assert from "node:assert/strict";
import { jobEvents, operationEvents } from "../../../../src/domain/events/cloudEvent.js";
import type { JobRecord } from "../../../../src/domain/jobs/jobRecord.js";
import type { OperationRecord } from "../../../../src/domain/operations/operation.js";

const T = Date.parse("2026-12-01T10:00:00Z");

function op(overrides: Partial<OperationRecord>): OperationRecord {
  return {
    id: "op_01JABCDEFGHJKMNPQRSTVWXYZ0",
    kind: "CreateSandboxPool",
    target: "/subscriptions/s/resourceGroups/rg/clusters/c1/sandbox-pools/kata",
    subscriptionId: "s",
    serialKey: undefined,
    team: "alpha",
    createdBy: "alice",
    status: "Succeeded",
    steps: [],
    stepIndex: 0,
    stepState: {},
    input: {},
    data: {},
    nextPollAt: T,
    attempts: 0,
    armCalls: 2,
    ticks: 3,
    lastError: undefined,
    error: undefined,
    result: undefined,
    percentComplete: undefined,
    cancelRequested: false,
    holdsLease: false,
    claim: undefined,
    correlationId: "r1",
    createdAt: T,
    lastUpdatedAt: T,
    endedAt: T,
    deadlineAt: T + 1,
    ...overrides,
  };
}

function job(overrides: Partial<JobRecord>): JobRecord {
  return {
    team: "alpha",
    cluster: { subscriptionId: "s", resourceGroup: "rg", clusterName: "c1" },
    name: "build-42",
    namespace: "sandbox-alpha",
    uid: "u1",
    isolation: "sandbox",
    runtimeClassName: "kata-mshv-vm-isolation",
    sandboxVm: undefined,
    image: "img",
    createdAt: "2026-12-01T10:00:00Z",
    createdBy: "alice",
    requestId: "r",
    warnings: [],
    refreshedAt: undefined,
    logs: undefined,
    status: "Pending",
    ...overrides,
  };
}

test("operations: one CloudEvent per terminal status, deterministic id, only for a team, only once", () => {
  const [e] = operationEvents(op({}), undefined);
  assert.deepEqual(
    { ...e!.event, data: undefined },
    {
      specversion: "1.0",
      id: "op_01JABCDEFGHJKMNPQRSTVWXYZ0.succeeded",
      source: "/api/v1/subscriptions/s/resourceGroups/rg/clusters/c1/sandbox-pools/kata",
      type: "io.aks-pod-sandbox.operation.succeeded",
      subject: "operations/op_01JABCDEFGHJKMNPQRSTVWXYZ0",
      time: "2026-12-01T10:00:00.000Z",
      datacontenttype: "application/json",
      data: undefined,
    },
  );
  assert.equal(e!.event.data.summary, "CreateSandboxPool kata succeeded (op_01JABCDEFGHJKMNPQRSTVWXYZ0).");
  assert.equal((e!.event.data.resource as { status: string }).status, "Succeeded");
  assert.deepEqual(operationEvents(op({}), "Succeeded"), []);
  assert.deepEqual(operationEvents(op({ status: "Running" }), undefined), []);
  assert.deepEqual(operationEvents(op({ team: undefined }), undefined), []);
  const failed = operationEvents(
    op({ status: "Failed", error: { code: "UpstreamFailed", message: "AKS said no." } }),
    undefined,
  );
  assert.equal(failed[0]!.event.type, "io.aks-pod-sandbox.operation.failed");
  assert.equal(
    failed[0]!.event.data.summary,
    "CreateSandboxPool kata failed: UpstreamFailed — AKS said no. (op_01JABCDEFGHJKMNPQRSTVWXYZ0).",
  );
});

test("isolation checks and feature registrations add their own event after operation.succeeded", () => {
  const check = operationEvents(
    op({
      kind: "IsolationCheck",
      target: "/subscriptions/s/resourceGroups/rg/clusters/c1/isolation-checks/op_x",
      result: { isolated: true },
    }),
    undefined,
  );
  assert.deepEqual(
    check.map((e) => [e.event.type, e.sequence]),
    [
      ["io.aks-pod-sandbox.operation.succeeded", 0],
      ["io.aks-pod-sandbox.isolationcheck.completed", 1],
    ],
  );
  assert.match(check[1]!.event.data.summary, /^Isolation check on c1: ISOLATED/);
  const feature = operationEvents(
    op({ kind: "RegisterSandboxFeature", target: "/subscriptions/s/sandbox-feature" }),
    undefined,
  );
  assert.equal(feature[1]!.event.type, "io.aks-pod-sandbox.feature.registered");
});

test("jobs: started when it runs; a job first seen finished gets started then its end; statuses map to types", () => {
  assert.deepEqual(jobEvents(job({}), undefined), []);
  const running = jobEvents(job({ status: "Running", startedAt: "2026-12-01T10:00:05Z" }), undefined);
  assert.deepEqual(
    running.map((e) => e.event.id),
    ["job.u1.started"],
  );
  assert.equal(running[0]!.event.data.summary, "Job build-42 started on c1.");
  assert.deepEqual(jobEvents(job({ status: "Running", startedAt: "2026-12-01T10:00:05Z" }), "Running"), []);
  const jumped = jobEvents(
    job({ status: "Succeeded", exitCode: 0, startedAt: "2026-12-01T10:00:05Z", finishedAt: "2026-12-01T10:00:09Z" }),
    undefined,
  );
  assert.deepEqual(
    jumped.map((e) => [e.event.type, e.sequence]),
    [
      ["io.aks-pod-sandbox.job.started", 0],
      ["io.aks-pod-sandbox.job.succeeded", 1],
    ],
  );
  const oom = jobEvents(
    job({
      status: "Failed",
      reason: "OOMKilled",
      exitCode: 137,
      startedAt: "2026-12-01T10:00:05Z",
      finishedAt: "2026-12-01T10:00:09Z",
    }),
    "Running",
  );
  assert.deepEqual(
    oom.map((e) => e.event.data.summary),
    ["Job build-42 failed on c1: OOMKilled, exit code 137."],
  );
  const never = jobEvents(
    job({ status: "Failed", reason: "FailedCreate", finishedAt: "2026-12-01T10:00:09Z" }),
    undefined,
  );
  assert.deepEqual(
    never.map((e) => e.event.type),
    ["io.aks-pod-sandbox.job.failed"],
    "a job that never started gets no started event",
  );
  assert.equal(
    jobEvents(job({ status: "TimedOut", finishedAt: "2026-12-01T10:00:09Z" }), "Running")[0]!.event.type,
    "io.aks-pod-sandbox.job.timedout",
  );
  assert.equal(
    jobEvents(job({ status: "Canceled", finishedAt: "2026-12-01T10:00:09Z" }), "Running")[0]!.event.type,
    "io.aks-pod-sandbox.job.canceled",
  );
  assert.deepEqual(jobEvents(job({ status: "Canceled" }), "Failed"), [], "nothing after a final status");
});
