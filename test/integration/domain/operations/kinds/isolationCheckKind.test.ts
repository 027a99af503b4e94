// The isolation check's job slot against the Kubernetes emulator: a check holds one of its team's job slots and
// gives it back however it ends — canceled while its probes run, or timed out — so the team can start again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubernetesClientFactory } from "../../../../../src/adapters/kubernetes/kubernetesClusterClient.js";
import { NamespaceContainment } from "../../../../../src/domain/containment/namespaceContainment.js";
import {
  isolationCheckKind,
  prepareIsolationCheck,
} from "../../../../../src/domain/operations/kinds/isolationCheckKind.js";
import type { OperationRecord } from "../../../../../src/domain/operations/operation.js";
import { OperationEngine } from "../../../../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../../../../src/domain/operations/operationKinds.js";
import { JobSlots } from "../../../../../src/domain/policy/jobSlots.js";
import { buildPolicy, type SandboxPolicy } from "../../../../../src/domain/policy/policy.js";
import { activeOperationLookup } from "../../../../../src/domain/sandbox/sandboxPreflight.js";
import { FakeArmOperations } from "../../../../support/fakes/fakeArmOperations.js";
import { InMemoryJobSlotStore } from "../../../../support/fakes/inMemoryJobSlotStore.js";
import { InMemoryOperationStore } from "../../../../support/fakes/inMemoryOperationStore.js";
import { startKubernetesTestEnv, type KubernetesTestEnv } from "../../../../support/kubernetesTestCluster.js";
import { ALPHA_CLUSTER, FIXTURE_POLICY_DOCUMENT, principal } from "../../../../support/policyFixtures.js";

const RUNTIME_CLASS = "kata-mshv-vm-isolation";

/** The fixture policy with team alpha limited to one concurrent job (so one held slot blocks the next start). */
function onePerTeamPolicy(): SandboxPolicy {
  const alpha = FIXTURE_POLICY_DOCUMENT.teams.alpha!;
  const { policy, problems } = buildPolicy({
    ...FIXTURE_POLICY_DOCUMENT,
    teams: { ...FIXTURE_POLICY_DOCUMENT.teams, alpha: { ...alpha, quotas: { maxConcurrentJobs: 1 } } },
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return policy;
}

describe("IsolationCheck gives its job slot back however it ends (Kubernetes emulator)", () => {
  let env: KubernetesTestEnv;
  let n = 0;
  before(async () => {
    env = await startKubernetesTestEnv({ scale: 0.002 });
  });
  after(async () => {
    await env?.close();
  });

  function harness() {
    const clock = { now: Date.now() };
    const policy = onePerTeamPolicy();
    const slotStore = new InMemoryJobSlotStore();
    const slots = new JobSlots(slotStore, policy);
    const kubernetes = new KubernetesClientFactory({ kubeconfigs: { userKubeconfig: async () => env.kubeconfig } });
    const store = new InMemoryOperationStore();
    const engine = new OperationEngine({
      store,
      arm: new FakeArmOperations(),
      kinds: new OperationKindRegistry([isolationCheckKind({ kubernetes, slots })]),
      instanceId: "test",
      now: () => clock.now,
    });
    const submitter = principal("alpha", ["Sandbox.Submitter"]);
    const start = async (): Promise<OperationRecord> =>
      engine.submit(
        await prepareIsolationCheck({
          principal: submitter,
          policy,
          kubernetes,
          runtimeClassName: RUNTIME_CLASS,
          cluster: ALPHA_CLUSTER,
          requestId: `req-${++n}`,
          unique: `slot${n}`,
          containment: new NamespaceContainment(),
          slots,
          activeOperations: activeOperationLookup(store),
        }),
      );
    /** Advances (forced) until the operation ends; bounded. */
    const untilEnded = async (id: string): Promise<OperationRecord> => {
      for (let i = 0; i < 200; i++) {
        const op = (await engine.advance(id, { force: true }))!;
        if (op.status !== "Running" && op.status !== "NotStarted") return op;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail(`operation ${id} did not end`);
    };
    return { clock, slotStore, slots, engine, start, untilEnded };
  }

  const probeJobs = (): string[] =>
    env.emulator
      .snapshot(env.cluster.key)
      .jobs.map((j) => j.metadata.name ?? "")
      .filter((name) => name.startsWith("isolation-probe-"));

  test("canceled while it runs: Canceled at once, probes deleted, the slot is free for the next check", async () => {
    const h = harness();
    const op = await h.start();
    assert.equal(op.status, "Running", JSON.stringify(op));
    assert.deepEqual(await h.slotStore.holders("alpha"), [`check-isolation-probe-slot${n}`], "the check holds a slot");
    // The team's only slot is taken: a second check (or a job) is refused meanwhile.
    await assert.rejects(
      h.start(),
      (e: Error & { code?: string }) => e.code === "Conflict" || e.code === "QuotaExceeded",
    );

    await h.engine.cancel(op.id);
    const ended = await h.untilEnded(op.id);
    assert.equal(ended.status, "Canceled", JSON.stringify(ended));
    assert.deepEqual(await h.slotStore.holders("alpha"), [], "the slot is given back");
    assert.deepEqual(probeJobs(), [], "no probe is left on the cluster");
    // A job of the team can take the slot now.
    await h.slots.reserveJobSlot("alpha", "j-next");
    await h.slots.releaseJobSlot("alpha", "j-next");
  });

  test("timed out: Failed OperationTimedOut, the slot is free and a new check starts", async () => {
    const h = harness();
    const op = await h.start();
    assert.equal(op.status, "Running", JSON.stringify(op));
    assert.equal((await h.slotStore.holders("alpha")).length, 1);
    h.clock.now = op.deadlineAt + 1;
    const ended = await h.untilEnded(op.id);
    assert.equal(ended.status, "Failed");
    assert.equal(ended.error?.code, "OperationTimedOut");
    assert.deepEqual(await h.slotStore.holders("alpha"), [], "the slot is given back");
    assert.deepEqual(probeJobs(), [], "no probe is left on the cluster");

    const next = await h.start();
    assert.equal(next.status, "Running", "a new check of the team can start");
    await h.engine.cancel(next.id);
    assert.equal((await h.untilEnded(next.id)).status, "Canceled");
    assert.deepEqual(await h.slotStore.holders("alpha"), []);
  });
});
