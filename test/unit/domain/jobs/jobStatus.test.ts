import { test } from "node:test";
import assert from "node:assert/strict";
import { jobStateFrom } from "../../../../src/domain/jobs/jobStatus.js";
import { fitsSomeNode, sandboxVmFootprint } from "../../../../src/domain/jobs/sandboxFootprint.js";
import type { KubernetesObject } from "../../../../src/domain/kubernetes/clusterKubernetes.js";

const job = (conditions: object[] = [], extra: object = {}): KubernetesObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "j" },
  status: { startTime: "2026-11-26T10:00:00Z", conditions, ...extra },
});
const pod = (phase: string, state: object, created = "2026-11-26T10:00:01Z"): KubernetesObject => ({
  metadata: { name: `j-${created}`, creationTimestamp: created },
  status: { phase, containerStatuses: [{ name: "main", state }] },
});
const warning = (reason: string, message: string): KubernetesObject => ({
  type: "Warning",
  reason,
  message,
  lastTimestamp: "2026-11-26T10:00:02Z",
});

test("Complete → Succeeded with exit code and times", () => {
  const s = jobStateFrom(
    job(
      [
        { type: "SuccessCriteriaMet", status: "True" },
        { type: "Complete", status: "True", lastTransitionTime: "2026-11-26T10:01:00Z" },
      ],
      { completionTime: "2026-11-26T10:01:00Z" },
    ),
    [pod("Succeeded", { terminated: { exitCode: 0, reason: "Completed" } })],
    [],
  );
  assert.deepEqual(s, {
    status: "Succeeded",
    startedAt: "2026-11-26T10:00:00Z",
    exitCode: 0,
    reason: "Completed",
    finishedAt: "2026-11-26T10:01:00Z",
  });
});

test("DeadlineExceeded → TimedOut", () => {
  const s = jobStateFrom(
    job([
      { type: "FailureTarget", status: "True", reason: "DeadlineExceeded" },
      {
        type: "Failed",
        status: "True",
        reason: "DeadlineExceeded",
        message: "Job was active longer than specified deadline",
        lastTransitionTime: "2026-11-26T11:00:00Z",
      },
    ]),
    [],
    [],
  );
  assert.equal(s?.status, "TimedOut");
  assert.equal(s?.reason, "DeadlineExceeded");
  assert.equal(s?.finishedAt, "2026-11-26T11:00:00Z");
});

test("failed container: exit code and OOMKilled surfaced", () => {
  const failedCond = [
    { type: "Failed", status: "True", reason: "BackoffLimitExceeded", lastTransitionTime: "2026-11-26T10:02:00Z" },
  ];
  const exit3 = jobStateFrom(job(failedCond), [pod("Failed", { terminated: { exitCode: 3, reason: "Error" } })], []);
  assert.equal(exit3?.status, "Failed");
  assert.equal(exit3?.exitCode, 3);
  assert.equal(exit3?.reason, "BackoffLimitExceeded");
  const oom = jobStateFrom(
    job(failedCond),
    [pod("Failed", { terminated: { exitCode: 137, reason: "OOMKilled" } })],
    [],
  );
  assert.equal(oom?.reason, "OOMKilled");
  assert.match(oom?.message ?? "", /memory limit/);
});

test("running, image pull errors, FailedCreate, FailedScheduling, sandbox failures", () => {
  assert.equal(jobStateFrom(job(), [pod("Running", { running: { startedAt: "x" } })], [])?.status, "Running");
  const pull = jobStateFrom(
    job(),
    [pod("Pending", { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "nope:1"' } })],
    [],
  );
  assert.deepEqual(
    [pull?.status, pull?.reason, pull?.message],
    ["Pending", "ImagePullBackOff", 'Back-off pulling image "nope:1"'],
  );
  const failedCreate = jobStateFrom(
    job(),
    [],
    [
      warning(
        "FailedCreate",
        'Error creating: pods "j-" is forbidden: pod rejected: RuntimeClass "kata-mhsv-vm-isolation" not found',
      ),
    ],
  );
  assert.deepEqual([failedCreate?.status, failedCreate?.reason], ["Pending", "FailedCreate"]);
  assert.match(failedCreate?.message ?? "", /RuntimeClass/);
  const unschedulable = jobStateFrom(
    job(),
    [pod("Pending", {})],
    [warning("FailedScheduling", "0/1 nodes are available: 1 Insufficient memory.")],
  );
  assert.deepEqual([unschedulable?.status, unschedulable?.reason], ["Pending", "Unschedulable"]);
  const sandbox = jobStateFrom(
    job(),
    [pod("Pending", { waiting: { reason: "ContainerCreating" } })],
    [warning("FailedCreatePodSandBox", "host network is not supported")],
  );
  assert.equal(sandbox?.reason, "FailedCreatePodSandBox");
  assert.equal(jobStateFrom(undefined, [], []), undefined);
});

test("the newest pod decides (retries)", () => {
  const s = jobStateFrom(
    job(),
    [
      pod("Failed", { terminated: { exitCode: 1 } }, "2026-11-26T10:00:01Z"),
      pod("Running", { running: {} }, "2026-11-26T10:00:30Z"),
    ],
    [],
  );
  assert.equal(s?.status, "Running");
});

test("sandbox VM footprint: 1 vCPU + cpu limit, 2 GiB + memory limit", () => {
  assert.deepEqual(sandboxVmFootprint(undefined, undefined), { vCpu: 1, memoryMiB: 2048 });
  assert.deepEqual(sandboxVmFootprint(0.5, 512), { vCpu: 1.5, memoryMiB: 2560 });
  const nodes = [{ name: "n", allocatableMilliCpu: 3860, allocatableMemoryMiB: 12000 }];
  assert.equal(fitsSomeNode(sandboxVmFootprint(2, 4096), nodes), true);
  assert.equal(fitsSomeNode(sandboxVmFootprint(3, 0), nodes), false);
  assert.equal(fitsSomeNode(sandboxVmFootprint(0, 10 * 1024), nodes), false);
});
