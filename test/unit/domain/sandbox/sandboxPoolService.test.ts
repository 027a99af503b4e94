// SandboxPoolService with the real preflight on typed fakes of ARM (sync reads, agent pools) and a real engine: no
// network. Every refusal happens before an operation exists.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentPoolRef } from "../../../../src/domain/operations/armOperations.js";
import type { PreflightReport } from "../../../../src/domain/sandbox/poolPreflight.js";
import { isSandboxError, type SandboxError } from "../../../../src/domain/sandboxError.js";
import { SandboxPoolService } from "../../../../src/domain/sandbox/sandboxPoolService.js";
import { SandboxPreflightService } from "../../../../src/domain/sandbox/sandboxPreflight.js";
import { ALPHA_CLUSTER, BETA_CLUSTER, fixturePolicy, principal } from "../../../support/policyFixtures.js";
import { clusterState, sandboxDomain } from "../../../support/sandboxDomain.js";

const operator = { principal: principal("alpha", ["Sandbox.Operator"]), requestId: "req-1" };
const KATA = "KataMshvVmIsolation";
const pool = (poolName: string): AgentPoolRef => ({ ...ALPHA_CLUSTER, poolName });
const poolKey = (p: AgentPoolRef) => `${p.subscriptionId}/${p.resourceGroup}/${p.clusterName}/${p.poolName}`;

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
  sandboxArm.putCluster(
    ALPHA_CLUSTER,
    clusterState(ALPHA_CLUSTER, [
      ["system", "Standard_D4s_v3", undefined],
      ["kata1", "Standard_D4s_v3", KATA],
    ]),
  );
  const service = new SandboxPoolService({
    policy: fixturePolicy(),
    sandboxArm,
    arm: domain.armOperations,
    flavor,
    preflight: new SandboxPreflightService({
      arm: sandboxArm,
      flavor,
      minKubernetesVersion: "1.24.0",
      activeOperations: domain.activeOperations,
    }),
    operations: domain.submitter,
  });
  return { ...domain, service };
}

const withCode = (code: string) => (error: unknown) => isSandboxError(error) && error.code === code;

test("put: a valid pool → CreateSandboxPool on the cluster's serial key, sandbox runtime and capacity in its input", async () => {
  const { service, submitter } = setup();
  const outcome = await service.put(pool("kata2"), { vmSize: "Standard_D4s_v3", nodeCount: 2 }, false, operator);
  assert.equal(outcome.type, "accepted");
  const request = submitter.requests[0]!;
  assert.equal(request.kind, "CreateSandboxPool");
  assert.equal(
    request.target,
    `/subscriptions/${ALPHA_CLUSTER.subscriptionId}/resourceGroups/rg-alpha-1/clusters/c1/sandbox-pools/kata2`,
  );
  assert.equal(request.correlationId, "req-1");
  assert.deepEqual(request.input, {
    pool: pool("kata2"),
    spec: {
      vmSize: "Standard_D4s_v3",
      count: 2,
      mode: "User",
      osType: "Linux",
      osSKU: "AzureLinux",
      workloadRuntime: KATA,
    },
    apiVersion: "2026-10-02-preview",
    capacity: { vCpuPerNode: 4, memoryGiBPerNode: 16, defaultSandboxesPerNode: 4 },
  });
});

test("put: preflight failures are their check's code with every failing check, before any operation; dryRun reports", async () => {
  const { service, submitter } = setup();
  const error = await service.put(pool("Bad_Name"), { vmSize: "Standard_Nope", nodeCount: 1 }, false, operator).then(
    () => undefined,
    (e: unknown) => e as SandboxError,
  );
  assert.ok(error && isSandboxError(error), String(error));
  const targets = error.details.map((d) => d.target);
  assert.ok(targets.includes("poolName") && targets.includes("vmSizeAvailable"), JSON.stringify(error.details));
  const report = await service.put(pool("kata3"), { vmSize: "Standard_Nope", nodeCount: 1 }, true, operator);
  assert.ok(report.type === "done");
  const body = report.body as PreflightReport;
  assert.equal(body.ok, false);
  assert.ok(body.checks.some((c) => c.name === "vmSizeAvailable" && !c.ok && c.code === "UnsupportedVmSize"));
  assert.equal(submitter.requests.length, 0);
  await assert.rejects(
    service.put({ ...BETA_CLUSTER, poolName: "kata1" }, { vmSize: "Standard_D4s_v3", nodeCount: 1 }, false, operator),
    withCode("NotFound"),
  );
});

test("put: a pool already in the requested state → done, no operation; one with another runtime → Conflict", async () => {
  const { service, submitter, armOperations, sandboxArm } = setup();
  const kata1 = sandboxArm.clusters.get(`${ALPHA_CLUSTER.subscriptionId}/rg-alpha-1/c1`)!.pools[1]!;
  armOperations.pools.set(poolKey(pool("kata1")), kata1);
  const same = await service.put(pool("kata1"), { vmSize: "Standard_D4s_v3", nodeCount: 1 }, false, operator);
  assert.ok(same.type === "done", JSON.stringify(same));
  armOperations.pools.set(poolKey(pool("plain")), { ...kata1, workloadRuntime: "OCIContainer" });
  await assert.rejects(
    service.put(pool("plain"), { vmSize: "Standard_D4s_v3", nodeCount: 1 }, false, operator),
    withCode("Conflict"),
  );
  assert.equal(submitter.requests.length, 0);
});

test("get and list show only the pools that run the sandbox runtime, with capacity; others are NotFound", async () => {
  const { service } = setup();
  const list = await service.list(ALPHA_CLUSTER, operator);
  assert.deepEqual(
    list.map((p) => [p.name, p.workloadRuntime, p.capacity?.vCpuPerNode]),
    [["kata1", KATA, 4]],
  );
  assert.equal((await service.get(pool("kata1"), operator)).name, "kata1");
  await assert.rejects(service.get(pool("system"), operator), withCode("NotFound"));
  await assert.rejects(service.list({ ...ALPHA_CLUSTER, clusterName: "missing" }, operator), withCode("NotFound"));
});

test("delete: absent when missing; a non-sandbox pool is NotFound; a sandbox pool → DeleteSandboxPool", async () => {
  const { service, submitter, armOperations, sandboxArm } = setup();
  assert.equal((await service.delete(pool("kata9"), operator)).type, "absent");
  const [system, kata1] = sandboxArm.clusters.get(`${ALPHA_CLUSTER.subscriptionId}/rg-alpha-1/c1`)!.pools;
  armOperations.pools.set(poolKey(pool("system")), system!);
  armOperations.pools.set(poolKey(pool("kata1")), kata1!);
  await assert.rejects(service.delete(pool("system"), operator), withCode("NotFound"));
  assert.equal(submitter.requests.length, 0);
  assert.equal((await service.delete(pool("kata1"), operator)).type, "accepted");
  assert.deepEqual(
    submitter.requests.map((r) => [r.kind, r.input]),
    [["DeleteSandboxPool", { pool: pool("kata1"), apiVersion: "2026-10-02-preview" }]],
  );
});
