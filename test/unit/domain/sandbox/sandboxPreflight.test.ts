import assert from "node:assert/strict";
import { test } from "node:test";
import { managedClusterStateOf } from "../../../../src/domain/sandbox/clusterView.js";
import { SandboxPreflightService } from "../../../../src/domain/sandbox/sandboxPreflight.js";
import { sandboxFlavor } from "../../../../src/domain/sandbox/sandboxFlavor.js";
import { FakeSandboxArm } from "../../../support/fakes/fakeSandboxArm.js";

// The preflight reports the cluster's network policy engine and whether the jobs' network containment holds.

const SUB = "sub1";
const call = { correlationId: "corr-1" };

function preflightOn(networkProfile: Record<string, unknown> | undefined) {
  const arm = new FakeSandboxArm();
  arm.vmSkus.set("westeurope/standard_d4s_v3", {
    name: "Standard_D4s_v3",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: ["V1", "V2"],
    cpuArchitecture: "x64",
    restricted: false,
  });
  const ref = { subscriptionId: SUB, resourceGroup: "rg", clusterName: "c1" };
  arm.putCluster(
    ref,
    managedClusterStateOf(
      {
        id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1`,
        name: "c1",
        location: "westeurope",
        kubernetesVersion: "1.30.6",
        provisioningState: "Succeeded",
        agentPoolProfiles: [],
        ...(networkProfile ? { networkProfile } : {}),
      },
      "c1",
    ),
  );
  const service = new SandboxPreflightService({
    arm,
    flavor: sandboxFlavor("ga"),
    minKubernetesVersion: "1.24.0",
    activeOperations: { activeOn: async () => undefined },
  });
  return { arm, ref, service };
}

test("pool preflight: a cluster with Cilium reports the engine and that job network containment is enforced", async () => {
  const { arm, ref, service } = preflightOn({
    networkPlugin: "azure",
    networkPluginMode: "overlay",
    networkDataplane: "cilium",
    networkPolicy: "cilium",
  });
  const cluster = await arm.getCluster(ref, "x", call);
  const { report } = await service.checkPool({ ...ref, poolName: "kata" }, cluster, "Standard_D4s_v3", undefined, call);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.network?.networkPolicy, "cilium");
  assert.equal(report.network?.networkDataplane, "cilium");
  assert.equal(report.network?.policyEnforced, true);
  assert.match(report.network?.message ?? "", /"cilium" enforces .* containment .* will be enforced/);
});

test("pool preflight: Azure NPM and Calico count as engines; a cluster without one is reported unenforced (not failed)", async () => {
  for (const engine of ["azure", "calico"]) {
    const { arm, ref, service } = preflightOn({ networkPlugin: "azure", networkPolicy: engine });
    const cluster = await arm.getCluster(ref, "x", call);
    const { report } = await service.checkPool(
      { ...ref, poolName: "kata" },
      cluster,
      "Standard_D4s_v3",
      undefined,
      call,
    );
    assert.deepEqual([report.network?.networkPolicy, report.network?.policyEnforced], [engine, true]);
  }
  for (const profile of [{ networkPlugin: "kubenet" }, undefined]) {
    const { arm, ref, service } = preflightOn(profile);
    const cluster = await arm.getCluster(ref, "x", call);
    const { report } = await service.checkPool(
      { ...ref, poolName: "kata" },
      cluster,
      "Standard_D4s_v3",
      undefined,
      call,
    );
    assert.equal(report.ok, true, "an engine is not a precondition of a pool");
    assert.equal(report.network?.networkPolicy, "none");
    assert.equal(report.network?.policyEnforced, false);
    assert.match(
      report.network?.message ?? "",
      /no network policy engine.*NetworkPolicyUnsupported.*allowUnenforcedNetworking/,
    );
  }
  // No cluster: nothing to report about its network.
  const { ref, service } = preflightOn(undefined);
  const missing = await service.checkPool({ ...ref, poolName: "kata" }, undefined, "Standard_D4s_v3", undefined, call);
  assert.equal(missing.report.network, undefined);
});

test("cluster-create preflight: the cluster the service would create has Cilium, so containment will be enforced", async () => {
  const { service } = preflightOn(undefined);
  const { report } = await service.checkCluster({
    cluster: { subscriptionId: SUB, resourceGroup: "rg", clusterName: "new1" },
    location: "westeurope",
    kubernetesVersion: undefined,
    vmSize: "Standard_D4s_v3",
    call,
  });
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.deepEqual(
    [
      report.network?.networkPlugin,
      report.network?.networkPluginMode,
      report.network?.networkDataplane,
      report.network?.networkPolicy,
      report.network?.policyEnforced,
    ],
    ["azure", "overlay", "cilium", "cilium", true],
  );
});
