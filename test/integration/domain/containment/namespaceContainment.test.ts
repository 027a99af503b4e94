// NamespaceContainment against the Kubernetes emulator through the product's Kubernetes adapter: the first ensure
// creates every object; applying the containment again writes nothing (no object changes, nothing is created,
// replaced or deleted), whatever the team's policy holds.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubernetesClientFactory } from "../../../../src/adapters/kubernetes/kubernetesClusterClient.js";
import { containmentObjects } from "../../../../src/domain/containment/containmentObjects.js";
import { NamespaceContainment } from "../../../../src/domain/containment/namespaceContainment.js";
import type { ClusterKubernetes, KubernetesObject } from "../../../../src/domain/kubernetes/clusterKubernetes.js";
import { buildPolicy, type TeamPolicy } from "../../../../src/domain/policy/policy.js";
import { startKubernetesTestEnv, type KubernetesTestEnv } from "../../../support/kubernetesTestCluster.js";

const CLUSTER = {
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-test",
  clusterName: "aks-test",
};

function team(name: string, settings: Record<string, unknown>): TeamPolicy {
  const { policy, problems } = buildPolicy({
    version: 1,
    defaults: { allowedRegistries: ["mcr.microsoft.com/"] },
    teams: { [name]: { scopes: [{ subscriptionId: CLUSTER.subscriptionId, clusters: ["*"] }], ...settings } },
  });
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return policy.teams.get(name)!;
}

/** `kind/name → resourceVersion` of every object the containment consists of. */
async function versions(k8s: ClusterKubernetes, objects: readonly KubernetesObject[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const o of objects) {
    const live = await k8s.getObject(o.apiVersion!, o.kind!, o.metadata?.namespace, o.metadata!.name!);
    assert.ok(live, `${o.kind}/${o.metadata?.name} exists`);
    out[`${o.kind}/${o.metadata?.name}`] = String(
      (live.metadata as { resourceVersion?: string } | undefined)?.resourceVersion,
    );
  }
  return out;
}

describe("NamespaceContainment: re-applying is a no-op (Kubernetes emulator)", () => {
  let env: KubernetesTestEnv;
  let k8s: ClusterKubernetes;
  before(async () => {
    env = await startKubernetesTestEnv();
    const factory = new KubernetesClientFactory({ kubeconfigs: { userKubeconfig: async () => env.kubeconfig } });
    k8s = await factory.forCluster(CLUSTER);
  });
  after(async () => {
    await env?.close();
  });

  const cases: Array<[string, TeamPolicy]> = [
    ["closed egress (defaults)", team("closed", {})],
    [
      "internet, extra CIDRs and ports, own quotas",
      team("open", {
        egress: { internet: true, cidrs: ["20.50.0.0/16"], ports: [443, 8443] },
        quotas: { maxConcurrentJobs: 5, maxVCpuPerJob: 1.5, maxMemoryMiBPerJob: 3000, ephemeralStorageMiBPerJob: 512 },
      }),
    ],
    ["run as root (baseline)", team("rooted", { allowRunAsRoot: true })],
  ];

  for (const [what, policy] of cases) {
    test(`${what}: the second ensure changes no object and creates, replaces or deletes nothing`, async () => {
      const namespace = `sandbox-${policy.name}`;
      const containment = new NamespaceContainment();
      const objects = containmentObjects(namespace, policy);
      await containment.ensure(k8s, CLUSTER, policy, namespace);
      const first = await versions(k8s, objects);
      assert.equal(Object.keys(first).length, objects.length);

      env.emulator.requestLog.clear();
      await containment.ensure(k8s, CLUSTER, policy, namespace, { force: true });
      const requests = env.emulator.requestLog.entries();
      assert.ok(
        requests.some((r) => r.method === "PATCH"),
        "the re-apply did run (server-side apply of every object)",
      );
      assert.deepEqual(
        requests.filter((r) => r.method !== "GET" && r.method !== "PATCH").map((r) => `${r.method} ${r.path}`),
        [],
        "nothing created, replaced or deleted",
      );
      assert.deepEqual(await versions(k8s, objects), first, "no object changed (same resourceVersion)");
    });
  }
});
