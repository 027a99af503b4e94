import assert from "node:assert/strict";
import { test } from "node:test";
import {
  registerSandboxFeatureKind,
  type SandboxFeatureView,
} from "../../../../src/domain/operations/kinds/sandboxFeatureKind.js";
import type { OperationRecord } from "../../../../src/domain/operations/operation.js";
import { OperationEngine } from "../../../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../../../src/domain/operations/operationKinds.js";
import { sandboxFlavor } from "../../../../src/domain/sandbox/sandboxFlavor.js";
import { FakeArmOperations } from "../../../support/fakes/fakeArmOperations.js";
import { FakeSandboxArm } from "../../../support/fakes/fakeSandboxArm.js";
import { InMemoryOperationStore } from "../../../support/fakes/inMemoryOperationStore.js";

// OperationEngine on typed in-memory fakes of its ports: no Azurite, no emulator, no network, no real time.
function engineOnFakes() {
  const clock = { now: Date.parse("2026-01-01T00:00:00Z") };
  const store = new InMemoryOperationStore();
  const sandboxArm = new FakeSandboxArm();
  const kinds = new OperationKindRegistry([
    registerSandboxFeatureKind({ arm: sandboxArm, flavor: sandboxFlavor("preview"), now: () => clock.now }),
  ]);
  const sleeps: number[] = [];
  const engine = new OperationEngine({
    store,
    arm: new FakeArmOperations(),
    kinds,
    instanceId: "unit",
    now: () => clock.now,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
  });
  return { clock, store, sandboxArm, engine, sleeps };
}

const featureRequest = (serialKey?: string) => ({
  kind: "RegisterSandboxFeature" as const,
  target: "/subscriptions/sub1/sandbox-feature",
  subscriptionId: "sub1",
  ...(serialKey === undefined ? {} : { serialKey }),
  input: { subscriptionId: "sub1", namespace: "Microsoft.ContainerService", featureName: "KataVMIsolationPreview" },
  createdBy: "user1",
  team: "red",
  correlationId: "corr-1",
});

/** Moves the fake clock to the operation's next poll and advances it, until it ends (bounded). */
async function runToEnd(harness: ReturnType<typeof engineOnFakes>, id: string): Promise<OperationRecord> {
  for (let tick = 0; tick < 20; tick++) {
    const op = (await harness.store.get(id))?.record;
    assert.ok(op, id);
    if (op.status === "Succeeded" || op.status === "Failed" || op.status === "Canceled") return op;
    harness.clock.now = Math.max(harness.clock.now, op.nextPollAt);
    await harness.engine.advance(id);
  }
  assert.fail(`operation ${id} did not end in 20 ticks`);
}

test("a submitted operation runs its steps to Succeeded through the ports, with its correlation id", async () => {
  const harness = engineOnFakes();
  const submitted = await harness.engine.submit(featureRequest());
  assert.match(submitted.id, /^op_[0-9A-HJKMNP-TV-Z]{26}$/);
  assert.equal(submitted.createdBy, "user1");
  const done = await runToEnd(harness, submitted.id);
  assert.equal(done.status, "Succeeded");
  assert.deepEqual(
    done.steps.map((step) => [step.name, step.status]),
    [
      ["RegisterFeature", "Succeeded"],
      ["WaitForFeature", "Succeeded"],
      ["RegisterProvider", "Succeeded"],
      ["WaitForProvider", "Succeeded"],
    ],
  );
  assert.equal((done.result as SandboxFeatureView).ready, true);
  assert.deepEqual(
    harness.sandboxArm.calls.map((call) => call.method),
    // One tick runs on through steps that finish at once; each wait re-reads until ARM says Registered.
    [
      "registerFeature",
      "getFeatureState",
      "getFeatureState",
      "registerProvider",
      "getProviderState",
      "getProviderState",
    ],
  );
  assert.ok(harness.sandboxArm.calls.every((call) => call.correlationId === "corr-1"));
  assert.equal(done.armCalls, 6);
  assert.ok(done.endedAt !== undefined && done.endedAt >= done.createdAt);
});

test("startNow=false leaves the row NotStarted for the reconciler; get with advanceIfDue moves it", async () => {
  const harness = engineOnFakes();
  const submitted = await harness.engine.submit({ ...featureRequest(), startNow: false });
  assert.equal(submitted.status, "NotStarted");
  assert.equal(harness.sandboxArm.calls.length, 0);
  const read = await harness.engine.get(submitted.id, { advanceIfDue: true });
  assert.equal(read?.status, "Running");
  assert.equal(harness.sandboxArm.calls[0]?.method, "registerFeature");
});

test("operations with one serial key queue behind the lease and run one after the other", async () => {
  const harness = engineOnFakes();
  const first = await harness.engine.submit(featureRequest("Cluster-1"));
  const second = await harness.engine.submit(featureRequest("Cluster-1"));
  assert.equal(harness.store.leaseHolder("cluster-1"), first.id);
  assert.equal((await harness.store.get(second.id))?.record.status, "NotStarted");
  assert.equal((await runToEnd(harness, first.id)).status, "Succeeded");
  // The engine wakes the next queued operation when the lease is released (it may already hold it).
  assert.ok([undefined, second.id].includes(harness.store.leaseHolder("cluster-1")));
  assert.equal((await runToEnd(harness, second.id)).status, "Succeeded");
});

test("cancel ends a running operation as Canceled; canceling it again is a Conflict", async () => {
  const harness = engineOnFakes();
  const submitted = await harness.engine.submit(featureRequest());
  const canceled = await harness.engine.cancel(submitted.id);
  assert.equal(canceled.status, "Canceled");
  await assert.rejects(harness.engine.cancel(submitted.id), { code: "Conflict" });
  await assert.rejects(harness.engine.cancel("op_missing"), { code: "NotFound" });
});

test("an unknown kind is refused before anything is written", async () => {
  const harness = engineOnFakes();
  await assert.rejects(harness.engine.submit({ ...featureRequest(), kind: "CreateCluster" }), {
    code: "InvalidRequest",
  });
  assert.deepEqual(harness.store.calls, []);
});
