// JobSubmitter with in-memory fakes of its ports: which cluster reads a submission makes, and what a failure undoes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JobSubmitter, SANDBOX_NODES_CACHE_MS } from "../../../../src/domain/jobs/jobSubmitter.js";
import type { JobSlotQuota } from "../../../../src/domain/jobs/jobSlotQuota.js";
import type {
  ClusterKubernetes,
  KubernetesObject,
  NodeSummary,
} from "../../../../src/domain/kubernetes/clusterKubernetes.js";
import { JOB_ID_LABEL } from "../../../../src/domain/jobs/jobManifest.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import { ALPHA_CLUSTER, fixturePolicy, principal } from "../../../support/policyFixtures.js";
import { InMemoryJobStore } from "../../../support/fakes/inMemoryJobStore.js";

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const NODE: NodeSummary = {
  name: "n1",
  labels: {},
  allocatableMilliCpu: 4000,
  allocatableMemoryMiB: 16_000,
  kernelVersion: undefined,
  ready: true,
};

function setup() {
  const calls: string[] = [];
  const cluster = { nodes: [NODE], jobs: new Map<string, KubernetesObject>() };
  const k8s = {
    getRuntimeClass: async (name: string) => {
      calls.push("getRuntimeClass");
      return { name, handler: "kata", nodeSelector: {} };
    },
    listNodes: async () => {
      calls.push("listNodes");
      return cluster.nodes;
    },
    getJob: async (_ns: string, name: string) => cluster.jobs.get(name),
    ensureNamespace: async () => undefined,
    createJob: async (_ns: string, job: KubernetesObject) => {
      cluster.jobs.set(String(job.metadata?.name), job);
      return job;
    },
  } as unknown as ClusterKubernetes;
  const held = new Set<string>();
  const slots: JobSlotQuota & { limit: number } = {
    limit: 3,
    async reserveJobSlot(_team, id) {
      if (held.size >= this.limit) throw new SandboxError("QuotaExceeded", "full", { retryAfterSeconds: 30 });
      held.add(id);
    },
    async releaseJobSlot(_team, id) {
      return held.delete(id);
    },
  };
  const clock = { ms: Date.parse("2026-01-01T00:00:00Z") };
  const store = new InMemoryJobStore();
  let n = 0;
  const submitter = new JobSubmitter({
    store,
    kubernetes: { forCluster: async () => k8s, forget: () => undefined },
    slots,
    policy: fixturePolicy(),
    runtimeClassName: "kata-vm-isolation",
    now: () => new Date(clock.ms),
    random: () => String(++n).padStart(8, "0"),
    log: () => undefined,
  });
  const submit = (name: string) =>
    submitter.submit({
      principal: principal("alpha", ["Sandbox.Submitter"]),
      cluster: ALPHA_CLUSTER,
      body: { image: IMAGE, name },
      requestId: `r-${name}`,
    });
  /** One try of a request with a repeatability key (the HTTP layer passes it); `name` undefined: generated. */
  const tryOf = (submissionKey: string, name?: string, team = "alpha") =>
    submitter.submit({
      principal: principal(team, ["Sandbox.Submitter"]),
      cluster: ALPHA_CLUSTER,
      body: { image: IMAGE, ...(name === undefined ? {} : { name }) },
      requestId: `r-${submissionKey}-${++n}`,
      submissionKey,
    });
  return { calls, cluster, held, slots, clock, store, submit, tryOf };
}

describe("JobSubmitter", () => {
  test("the runtime class and the sandbox nodes are read once per cluster for a short while", async () => {
    const t = setup();
    await t.submit("a");
    await t.submit("b");
    assert.deepEqual(t.calls, ["getRuntimeClass", "listNodes"]);
    t.clock.ms += SANDBOX_NODES_CACHE_MS;
    await t.submit("c");
    assert.deepEqual(t.calls, ["getRuntimeClass", "listNodes", "getRuntimeClass", "listNodes"]);
  });

  test("no ready sandbox node is never remembered: the next submission looks again", async () => {
    const t = setup();
    t.cluster.nodes = [];
    await assert.rejects(t.submit("a"), (e: unknown) => e instanceof SandboxError && e.code === "SandboxNotReady");
    t.cluster.nodes = [NODE];
    await t.submit("a");
    assert.equal(t.store.rows.size, 1);
  });

  test("a full quota undoes the row; a taken name undoes the slot; a finished job gives up its name", async () => {
    const t = setup();
    t.slots.limit = 1;
    await t.submit("a");
    await assert.rejects(t.submit("b"), (e: unknown) => e instanceof SandboxError && e.code === "QuotaExceeded");
    assert.deepEqual(
      [...t.store.rows.values()].map((r) => r.name),
      ["a"],
      "the refused job's row is gone",
    );
    assert.equal(t.store.active.size, 1);

    t.slots.limit = 3;
    t.cluster.jobs.clear(); // the Job is gone, the row still says Pending
    await assert.rejects(t.submit("a"), (e: unknown) => e instanceof SandboxError && e.code === "Conflict");
    assert.equal(t.held.size, 1, "the slot taken for the refused submission is back");

    const [row] = t.store.rows.values();
    t.store.rows.set(InMemoryJobStore.key(row!.team, row!.cluster, "a"), { ...row!, status: "Succeeded" });
    const again = await t.submit("a");
    assert.equal(again.status, "Pending");
    assert.notEqual(again.uid, row!.uid);
    assert.ok(t.store.calls.includes("delete a"));
  });

  test("a Job of that name still on the cluster: Conflict, the finished row and its name stay, nothing else is left", async () => {
    const t = setup();
    await t.submit("a");
    const [row] = t.store.rows.values();
    const finished = { ...row!, status: "Succeeded" as const };
    t.store.rows.set(InMemoryJobStore.key(row!.team, row!.cluster, "a"), finished);
    t.held.clear();
    await assert.rejects(t.submit("a"), (e: unknown) => e instanceof SandboxError && e.code === "Conflict");
    assert.deepEqual([...t.store.rows.values()], [finished]);
    assert.equal(t.held.size, 0, "no slot kept");
    // A Job of that name but no row (someone else's): Conflict, the row written meanwhile is gone.
    t.cluster.jobs.set("b", { metadata: { name: "b" } });
    await assert.rejects(t.submit("b"), (e: unknown) => e instanceof SandboxError && e.code === "Conflict");
    assert.equal(t.store.rows.size, 1);
    assert.equal(t.held.size, 0);
  });

  test("a retry of a try that died between row and Job finishes that try's job: same uid, its Job created, one slot", async () => {
    const t = setup();
    const first = await t.tryOf("k1", "a");
    // The first try's instance died after writing the row and the slot, before creating the Job.
    t.cluster.jobs.clear();
    const retry = await t.tryOf("k1", "a");
    assert.equal(retry.uid, first.uid);
    assert.equal(retry.submissionKey, "k1");
    assert.equal(t.cluster.jobs.get("a")?.metadata?.labels?.[JOB_ID_LABEL], first.uid, "the Job carries the first uid");
    assert.deepEqual([...t.held], [first.uid], "the retry's own slot is given back");
    assert.equal(t.store.rows.size, 1);
  });

  test("a retry of a try that died after creating the Job answers with that job and creates nothing", async () => {
    const t = setup();
    const first = await t.tryOf("k1", "a");
    const job = t.cluster.jobs.get("a");
    const retry = await t.tryOf("k1", "a");
    assert.equal(retry.uid, first.uid);
    assert.equal(t.cluster.jobs.get("a"), job, "the same Job object: not created again");
    assert.deepEqual([...t.held], [first.uid]);
  });

  test("a generated name comes from the key: a retry finds its own job instead of submitting a second", async () => {
    const t = setup();
    const first = await t.tryOf("0123456789abcdef", undefined);
    assert.equal(first.name, "job-01234567");
    const retry = await t.tryOf("0123456789abcdef", undefined);
    assert.equal(retry.uid, first.uid);
    assert.equal(t.cluster.jobs.size, 1);
  });

  test("the name taken by another request or another caller stays a Conflict", async () => {
    const t = setup();
    await t.tryOf("k1", "a");
    await assert.rejects(t.tryOf("k2", "a"), (e: unknown) => e instanceof SandboxError && e.code === "Conflict");
    await assert.rejects(t.submit("a"), (e: unknown) => e instanceof SandboxError && e.code === "Conflict");
    // Someone else's Job under that name (a different uid label) with our row: not ours to answer with.
    const job = t.cluster.jobs.get("a")!;
    t.cluster.jobs.set("a", { ...job, metadata: { ...job.metadata, labels: { [JOB_ID_LABEL]: "j-other" } } });
    await assert.rejects(t.tryOf("k1", "a"), (e: unknown) => e instanceof SandboxError && e.code === "Conflict");
    assert.equal(t.held.size, 1, "only the first job's slot is held");
  });
});
