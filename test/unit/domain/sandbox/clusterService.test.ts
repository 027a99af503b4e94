// ClusterService with the real preflight on typed fakes of ARM and Kubernetes and a real engine: no network.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PreflightReport } from "../../../../src/domain/sandbox/poolPreflight.js";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";
import { ClusterService } from "../../../../src/domain/sandbox/clusterService.js";
import type { ClusterView } from "../../../../src/domain/sandbox/clusterView.js";
import { SandboxPreflightService } from "../../../../src/domain/sandbox/sandboxPreflight.js";
import { ALPHA_CLUSTER, fixturePolicy, principal } from "../../../support/policyFixtures.js";
import { clusterState, sandboxDomain } from "../../../support/sandboxDomain.js";

const operator = { principal: principal("alpha", ["Sandbox.Operator"]), requestId: "req-1" };
const beta = { principal: principal("beta", ["Sandbox.Operator"]), requestId: "req-2" };
const KATA = "KataMshvVmIsolation";
const RC = "kata-mshv-vm-isolation";
const withCode = (code: string) => (error: unknown) => isSandboxError(error) && error.code === code;

function setup() {
  const domain = sandboxDomain();
  const { sandboxArm, flavor } = domain;
  const feature = flavor.feature!;
  sandboxArm.features.set(
    `${ALPHA_CLUSTER.subscriptionId}/${feature.namespace}/${feature.name}`.toLowerCase(),
    "Registered",
  );
  sandboxArm.providers.set(`${ALPHA_CLUSTER.subscriptionId}/${feature.namespace}`.toLowerCase(), "Registered");
  sandboxArm.vmSkus.set("eastus/standard_d4s_v3", {
    name: "Standard_D4s_v3",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: ["V1", "V2"],
    cpuArchitecture: "x64",
    restricted: false,
  });
  const service = new ClusterService({
    policy: fixturePolicy(),
    arm: sandboxArm,
    kubernetes: domain.kubernetes,
    flavor,
    preflight: new SandboxPreflightService({
      arm: sandboxArm,
      flavor,
      minKubernetesVersion: "1.24.0",
      activeOperations: domain.activeOperations,
    }),
    operations: domain.submitter,
    minKubernetesVersion: "1.24.0",
  });
  const sandboxCluster = () => {
    sandboxArm.putCluster(ALPHA_CLUSTER, clusterState(ALPHA_CLUSTER, [["system", "Standard_D4s_v3", KATA]]));
    domain.kubernetes.cluster(ALPHA_CLUSTER).runtimeClasses.set(RC, { name: RC, handler: "kata", nodeSelector: {} });
  };
  return { ...domain, service, sandboxCluster };
}

test("create: preflight, then CreateCluster with the sandbox body; dryRun only reports; nothing for another team", async () => {
  const { service, submitter } = setup();
  const dry = await service.create(ALPHA_CLUSTER, { location: "eastus", nodeVmSize: "Standard_Nope" }, true, operator);
  assert.ok(dry.type === "done");
  assert.equal((dry.body as PreflightReport).ok, false);
  await assert.rejects(
    service.create(ALPHA_CLUSTER, { location: "eastus", nodeVmSize: "Standard_Nope" }, false, operator),
    withCode("UnsupportedVmSize"),
  );
  await assert.rejects(service.create(ALPHA_CLUSTER, { location: "eastus" }, false, beta), withCode("Forbidden"));
  assert.equal(submitter.requests.length, 0);
  const created = await service.create(ALPHA_CLUSTER, { location: "eastus", nodeCount: 2 }, false, operator);
  assert.equal(created.type, "accepted");
  const request = submitter.requests[0]!;
  assert.equal(request.kind, "CreateCluster");
  const input = request.input as { location: string; body: { agentPoolProfiles: Record<string, unknown>[] } };
  assert.equal(input.location, "eastus");
  const system = input.body.agentPoolProfiles[0]!;
  assert.deepEqual(
    [system.name, system.count, system.vmSize, system.mode, system.osSKU, system.workloadRuntime],
    ["system", 2, "Standard_D4s_v3", "System", "AzureLinux", KATA],
  );
});

test("create: an existing cluster that matches answers its view (no operation); one with other settings → Conflict", async () => {
  const { service, submitter, sandboxCluster } = setup();
  sandboxCluster();
  const same = await service.create(ALPHA_CLUSTER, { location: "East US" }, false, operator);
  assert.ok(same.type === "done");
  assert.equal((same.body as ClusterView).sandbox.ready, true);
  await assert.rejects(
    service.create(ALPHA_CLUSTER, { location: "eastus", nodeCount: 3 }, false, operator),
    withCode("Conflict"),
  );
  assert.equal(submitter.requests.length, 0);
});

test("get: ready only with the RuntimeClass seen through Kubernetes; an unreachable API leaves it unconfirmed", async () => {
  const { service, sandboxCluster, kubernetes } = setup();
  await assert.rejects(service.get(ALPHA_CLUSTER, operator), withCode("NotFound"));
  sandboxCluster();
  const view = await service.get(ALPHA_CLUSTER, operator);
  assert.deepEqual(
    [view.sandbox.ready, view.sandbox.runtimeClassFound, view.sandbox.pools.map((p) => p.name)],
    [true, true, ["system"]],
  );
  kubernetes.cluster(ALPHA_CLUSTER).runtimeClasses.clear();
  assert.equal((await service.get(ALPHA_CLUSTER, operator)).sandbox.ready, false);
  kubernetes.failWith = new Error("connect ECONNREFUSED");
  const unknown = await service.get(ALPHA_CLUSTER, operator);
  assert.equal(unknown.sandbox.ready, false);
  assert.match(unknown.sandbox.message ?? "", /could not be asked/);
  await assert.rejects(service.get(ALPHA_CLUSTER, beta), withCode("NotFound"));
});

test("delete: absent when ARM has no such cluster; else DeleteCluster", async () => {
  const { service, submitter, sandboxCluster } = setup();
  assert.equal((await service.delete(ALPHA_CLUSTER, operator)).type, "absent");
  sandboxCluster();
  assert.equal((await service.delete(ALPHA_CLUSTER, operator)).type, "accepted");
  assert.deepEqual(
    submitter.requests.map((r) => r.kind),
    ["DeleteCluster"],
  );
});

test("enableSandboxing: already ready → the view; a plain cluster → EnableSandboxing adding a pool; too old → refused", async () => {
  const { service, submitter, sandboxArm, sandboxCluster, kubernetes } = setup();
  sandboxCluster();
  assert.equal((await service.enableSandboxing(ALPHA_CLUSTER, undefined, operator)).type, "done");
  sandboxArm.putCluster(ALPHA_CLUSTER, clusterState(ALPHA_CLUSTER, [["system", "Standard_D4s_v3", undefined]]));
  const enabled = await service.enableSandboxing(ALPHA_CLUSTER, { nodeCount: 2 }, operator);
  assert.equal(enabled.type, "accepted");
  const input = submitter.requests[0]!.input as { addPool?: unknown; capacities?: unknown };
  assert.deepEqual(input.addPool, { name: "sandbox", vmSize: "Standard_D4s_v3", count: 2 });
  assert.deepEqual(input.capacities, {
    standard_d4s_v3: { vCpuPerNode: 4, memoryGiBPerNode: 16, defaultSandboxesPerNode: 4 },
  });
  await assert.rejects(
    service.enableSandboxing(ALPHA_CLUSTER, { poolName: "system" }, operator),
    withCode("Conflict"),
    "a pool of that name without the runtime",
  );
  // A sandbox pool without the RuntimeClass (not ready) on a Kubernetes version too old for Pod Sandboxing.
  kubernetes.cluster(ALPHA_CLUSTER).runtimeClasses.clear();
  sandboxArm.putCluster(
    ALPHA_CLUSTER,
    clusterState(ALPHA_CLUSTER, [["system", "Standard_D4s_v3", KATA]], { kubernetesVersion: "1.23.12" }),
  );
  await assert.rejects(
    service.enableSandboxing(ALPHA_CLUSTER, undefined, operator),
    withCode("KubernetesVersionTooOld"),
  );
  assert.equal(submitter.requests.length, 1);
});
