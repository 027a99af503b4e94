// JobService in-process against the real wire: job rows and slots in Azurite (Tables SDK), Jobs in the Kubernetes
// emulator through the product's Kubernetes adapter. Covers writes whose answer is lost on the way back (issue 12:
// "A job named "trusted" already exists" although no such job exists) and the job timer's repair of an edited
// contained namespace.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { RestError, type PipelinePolicy } from "@azure/core-rest-pipeline";
import { KubernetesClientFactory } from "../../../../src/adapters/kubernetes/kubernetesClusterClient.js";
import { JobSlotTable } from "../../../../src/adapters/tables/jobSlotTable.js";
import { JobTable } from "../../../../src/adapters/tables/jobTable.js";
import {
  containmentObjects,
  DEFAULT_DENY_POLICY,
  PSA_ENFORCE,
  QUOTA_NAME,
} from "../../../../src/domain/containment/containmentObjects.js";
import { NamespaceContainment } from "../../../../src/domain/containment/namespaceContainment.js";
import { JobService } from "../../../../src/domain/jobs/jobService.js";
import type {
  ClusterKubernetes,
  ClusterKubernetesFactory,
  KubernetesObject,
} from "../../../../src/domain/kubernetes/clusterKubernetes.js";
import { JobSlots } from "../../../../src/domain/policy/jobSlots.js";
import { buildPolicy, type SandboxPolicy, type TeamPolicy } from "../../../../src/domain/policy/policy.js";
import { managedClusterStateOf } from "../../../../src/domain/sandbox/clusterView.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";
import { FakeSandboxArm } from "../../../support/fakes/fakeSandboxArm.js";
import { rawRequest, startKubernetesTestEnv, type KubernetesTestEnv } from "../../../support/kubernetesTestCluster.js";
import { principal } from "../../../support/policyFixtures.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes JSON is inspected freely */

const SUB = "00000000-0000-0000-0000-000000000001";
const CLUSTER = { subscriptionId: SUB, resourceGroup: "rg-test", clusterName: "aks-test" };
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const NAMESPACE = "sandbox-alpha";

function alphaPolicy(): SandboxPolicy {
  const { policy, problems } = buildPolicy({
    version: 1,
    defaults: { allowedRegistries: ["mcr.microsoft.com/"] },
    teams: { alpha: { scopes: [{ subscriptionId: SUB, resourceGroups: ["rg-test"], clusters: ["*"] }] } },
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return policy;
}

/** The product's Kubernetes adapter, with a switch that loses the answer of the next Job create (after it happened). */
class LossyKubernetes implements ClusterKubernetesFactory {
  loseNextJobCreateAnswer = false;
  constructor(private readonly inner: ClusterKubernetesFactory) {}
  async forCluster(cluster: typeof CLUSTER): Promise<ClusterKubernetes> {
    const k8s = await this.inner.forCluster(cluster);
    return new Proxy(k8s, {
      get: (target, property) => {
        if (property !== "createJob") {
          // Bound to the client itself: its methods use private fields.
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        return async (namespace: string, job: KubernetesObject) => {
          const created = await target.createJob(namespace, job);
          if (!this.loseNextJobCreateAnswer) return created;
          this.loseNextJobCreateAnswer = false;
          throw new SandboxError("UpstreamUnavailable", "job: the connection to the cluster API was reset", {
            retryAfterSeconds: 1,
          });
        };
      },
    });
  }
  forget(cluster: typeof CLUSTER): void {
    this.inner.forget(cluster);
  }
}

describe("JobService against Azurite and the Kubernetes emulator", () => {
  let azurite: RunningAzurite;
  let env: KubernetesTestEnv;
  let jobs: JobService;
  let kubernetes: LossyKubernetes;
  let policy: SandboxPolicy;
  let team: TeamPolicy;
  /** Set: the next create of a job row has its answer dropped after Azurite stored the row (the SDK retries it). */
  let dropNextRowCreateAnswer = false;
  let droppedRowCreates = 0;
  const submitter = principal("alpha", ["Sandbox.Submitter"]);
  const operator = principal("alpha", ["Sandbox.Operator"]);

  before(async () => {
    azurite = await startTestAzurite();
    env = await startKubernetesTestEnv({ scale: 0.002 });
    policy = alphaPolicy();
    team = policy.teams.get("alpha")!;
    const jobsTable = "jobsvc";
    const dropCreateAnswer: PipelinePolicy = {
      name: "dropCreateAnswer",
      async sendRequest(request, next) {
        const response = await next(request);
        if (
          dropNextRowCreateAnswer &&
          request.method === "POST" &&
          new URL(request.url).pathname.endsWith(`/${jobsTable}`)
        ) {
          dropNextRowCreateAnswer = false;
          droppedRowCreates += 1;
          throw new RestError("socket hang up", { code: "ECONNRESET", request });
        }
        return response;
      },
    };
    const table = (name: string, policies: PipelinePolicy[] = []) =>
      TableClient.fromConnectionString(azurite.connectionString, name, {
        allowInsecureConnection: true,
        additionalPolicies: policies.map((p) => ({ policy: p, position: "perRetry" as const })),
      });
    const arm = new FakeSandboxArm();
    arm.putCluster(
      CLUSTER,
      managedClusterStateOf(
        {
          id: env.cluster.armId,
          name: CLUSTER.clusterName,
          location: "westeurope",
          networkProfile: { networkPlugin: "azure", networkDataplane: "cilium", networkPolicy: "cilium" },
        },
        CLUSTER.clusterName,
      ),
    );
    kubernetes = new LossyKubernetes(
      new KubernetesClientFactory({ kubeconfigs: { userKubeconfig: async () => env.kubeconfig } }),
    );
    jobs = new JobService({
      store: new JobTable(table(jobsTable, [dropCreateAnswer])),
      kubernetes,
      slots: new JobSlots(new JobSlotTable(table("jobsvcslots")), policy),
      policy,
      runtimeClassName: "kata-mshv-vm-isolation",
      containment: new NamespaceContainment({ arm, containerServiceApiVersion: "2026-10-01" }),
    });
  });
  after(async () => {
    await env?.close();
    await azurite?.stop();
  });

  const submit = (who: typeof submitter, body: Record<string, unknown>) =>
    jobs.submit({
      principal: who,
      cluster: CLUSTER,
      body: { image: IMAGE, command: ["sleep", "600"], ...body },
      requestId: "r",
    });
  const liveJobs = (): string[] =>
    env.emulator
      .snapshot(env.cluster.key)
      .jobs.filter((j) => j.metadata.namespace === NAMESPACE)
      .map((j) => j.metadata.name ?? "")
      .sort();
  const cancelAll = async (): Promise<void> => {
    for (const record of (await jobs.list({ principal: operator, top: 100 })).records)
      await jobs.cancel({ principal: operator, cluster: CLUSTER, name: record.name });
  };

  test("regression (issue 12): untrusted canceled, then an Operator's `trusted` (isolation none) is accepted although the row create's answer was lost", async () => {
    const untrusted = await submit(submitter, { name: "untrusted" });
    assert.equal(untrusted.isolation, "sandbox");
    const canceled = await jobs.cancel({ principal: submitter, cluster: CLUSTER, name: "untrusted" });
    assert.equal(canceled.status, "Canceled");

    dropNextRowCreateAnswer = true;
    const trusted = await submit(operator, { name: "trusted", isolation: "none" });
    assert.equal(droppedRowCreates, 1, "the row create's answer was lost and the SDK retried the create");
    assert.equal(trusted.isolation, "none");
    assert.equal(trusted.status, "Pending");
    assert.deepEqual(liveJobs(), ["trusted"], "the Job was created (and `untrusted` is gone)");
    const got = await jobs.get({ principal: operator, cluster: CLUSTER, name: "trusted" });
    assert.equal(got.uid, trusted.uid, "one row, this submission's");
    await cancelAll();
  });

  test("a Job create whose answer was lost leaves neither Job nor row behind: retrying the submission succeeds", async () => {
    kubernetes.loseNextJobCreateAnswer = true;
    await assert.rejects(
      submit(submitter, { name: "lost" }),
      (e: unknown) => e instanceof SandboxError && e.code === "UpstreamUnavailable",
    );
    assert.deepEqual(liveJobs(), [], "the Job the cluster did create is deleted again");
    await assert.rejects(
      jobs.get({ principal: submitter, cluster: CLUSTER, name: "lost" }),
      (e: unknown) => e instanceof SandboxError && e.code === "NotFound",
    );
    // The client's retry (503 → retry) is accepted, not 409 "A job named "lost" already exists".
    const retried = await submit(submitter, { name: "lost" });
    assert.equal(retried.status, "Pending");
    assert.deepEqual(liveJobs(), ["lost"]);
    await cancelAll();
  });

  test("the job timer repairs an edited contained namespace: PSA label, a deleted NetworkPolicy, a changed quota, a stray policy", async () => {
    await submit(submitter, { name: "held" });
    const desired = containmentObjects(NAMESPACE, team);
    const plural: Record<string, string> = {
      ServiceAccount: "serviceaccounts",
      LimitRange: "limitranges",
      ResourceQuota: "resourcequotas",
      NetworkPolicy: "networkpolicies",
    };
    const path = (o: KubernetesObject): string => {
      const base = o.apiVersion === "v1" ? "/api/v1" : `/apis/${o.apiVersion}`;
      if (o.kind === "Namespace") return `${base}/namespaces/${o.metadata!.name}`;
      return `${base}/namespaces/${NAMESPACE}/${plural[o.kind!]}/${o.metadata!.name}`;
    };
    const live = async (o: KubernetesObject): Promise<any> => {
      const res = await rawRequest(env, "GET", path(o));
      return res.status === 200 ? res.json : undefined;
    };
    /** True when every field the product sets is on the live object with the product's value. */
    const holds = (want: unknown, have: unknown): boolean => {
      if (Array.isArray(want))
        return Array.isArray(have) && have.length === want.length && want.every((w, i) => holds(w, have[i]));
      if (want !== null && typeof want === "object")
        return (
          have !== null &&
          typeof have === "object" &&
          Object.entries(want).every(([k, v]) => holds(v, (have as Record<string, unknown>)[k]))
        );
      return want === have;
    };
    const inShape = async (): Promise<string[]> => {
      const off: string[] = [];
      for (const o of desired) {
        const l = await live(o);
        if (!l || !holds({ metadata: { labels: o.metadata?.labels }, ...stripMeta(o) }, l))
          off.push(`${o.kind}/${o.metadata?.name}`);
      }
      const policies = (
        await rawRequest(env, "GET", `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`)
      ).json.items
        .map((p: any) => p.metadata.name)
        .sort();
      const ours = desired
        .filter((o) => o.kind === "NetworkPolicy")
        .map((o) => o.metadata!.name)
        .sort();
      if (JSON.stringify(policies) !== JSON.stringify(ours)) off.push(`NetworkPolicies ${policies.join(",")}`);
      return off;
    };
    assert.deepEqual(await inShape(), [], "the submission contained the namespace");

    // Someone edits the namespace through the Kubernetes API.
    const merge = { "Content-Type": "application/merge-patch+json" };
    const edits = [
      await rawRequest(env, "PATCH", `/api/v1/namespaces/${NAMESPACE}`, {
        headers: merge,
        body: { metadata: { labels: { [PSA_ENFORCE]: null, "pod-security.kubernetes.io/warn": "privileged" } } },
      }),
      await rawRequest(
        env,
        "DELETE",
        `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies/${DEFAULT_DENY_POLICY}`,
      ),
      await rawRequest(env, "PATCH", `/api/v1/namespaces/${NAMESPACE}/resourcequotas/${QUOTA_NAME}`, {
        headers: merge,
        body: { spec: { hard: { pods: "1000", "limits.cpu": "1000" } } },
      }),
      await rawRequest(env, "POST", `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/networkpolicies`, {
        body: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "allow-all-egress" },
          spec: { podSelector: {}, policyTypes: ["Egress"], egress: [{}] },
        },
      }),
    ];
    assert.deepEqual(
      edits.map((r) => r.status),
      [200, 200, 200, 201],
      edits.map((r) => r.text).join("\n"),
    );
    assert.deepEqual(
      (await inShape()).sort(),
      [
        "Namespace/sandbox-alpha",
        `NetworkPolicies ${["allow-all-egress", "sandbox-allow-dns"].join(",")}`,
        `NetworkPolicy/${DEFAULT_DENY_POLICY}`,
        `ResourceQuota/${QUOTA_NAME}`,
      ].sort(),
      "the edits took",
    );

    // The job timer (in-process): the namespace has an active job, so it is repaired.
    const report = await jobs.reconcileJobs();
    assert.equal(report.failed, 0, JSON.stringify(report));
    assert.deepEqual(await inShape(), [], "everything is back to the product's shape");
    const ns = await live(desired[0]!);
    assert.equal(ns.metadata.labels[PSA_ENFORCE], "restricted");
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/warn"], "restricted");
    await cancelAll();
  });
});

/** The object without `apiVersion`, `kind` and `metadata` (what is compared besides the labels). */
function stripMeta(o: KubernetesObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = o as Record<string, unknown>;
  return rest;
}
