import { test } from "node:test";
import assert from "node:assert/strict";
import {
  poolPreflight,
  preflightError,
  compareVersions,
  type PoolPreflightInput,
  type VmSkuInfo,
} from "../../../../src/domain/sandbox/poolPreflight.js";
import { sandboxFlavor } from "../../../../src/domain/sandbox/sandboxFlavor.js";
import { findVmSku } from "../../../../src/emulators/arm/vmSkuCatalogue.js";

function sku(name: string): VmSkuInfo | undefined {
  const s = findVmSku(name);
  return (
    s && {
      name: s.name,
      vCpus: s.vCpus,
      memoryGiB: s.memoryGiB,
      hyperVGenerations: s.hyperVGenerations.split(","),
      cpuArchitecture: s.cpuArchitecture,
      restricted: false,
    }
  );
}

function input(overrides: Partial<PoolPreflightInput> = {}): PoolPreflightInput {
  return {
    flavor: sandboxFlavor("preview"),
    clusterName: "c1",
    cluster: { provisioningState: "Succeeded", kubernetesVersion: "1.33.5", location: "eastus" },
    poolName: "sandbox",
    vmSize: "Standard_D4s_v3",
    osSku: undefined,
    sku: sku("Standard_D4s_v3"),
    minKubernetesVersion: "1.24.0",
    featureState: "Registered",
    providerState: "Registered",
    activeOperation: undefined,
    ...overrides,
  };
}

function failing(report: ReturnType<typeof poolPreflight>): Record<string, string | undefined> {
  return Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.code]));
}

test("a good request passes every check", () => {
  const report = poolPreflight(input());
  assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => !c.ok)));
  assert.equal(preflightError(report), undefined);
});

test("each acceptance case fails with its own code and a helpful message", () => {
  const cases: [string, Partial<PoolPreflightInput>, string, string, RegExp][] = [
    [
      "Gen-1",
      { vmSize: "Standard_D2_v3", sku: sku("Standard_D2_v3") },
      "vmSizeGeneration",
      "UnsupportedVmSize",
      /generation 1 only.*Standard_D4s_v3/,
    ],
    [
      "no nested",
      { vmSize: "Standard_D4as_v4", sku: sku("Standard_D4as_v4") },
      "vmSizeNestedVirtualization",
      "UnsupportedVmSize",
      /does not support nested virtualization/,
    ],
    [
      "burstable",
      { vmSize: "Standard_B2s", sku: sku("Standard_B2s") },
      "vmSizeNestedVirtualization",
      "UnsupportedVmSize",
      /B \(burstable\)/,
    ],
    [
      "Arm64",
      { vmSize: "Standard_D4ps_v5", sku: sku("Standard_D4ps_v5") },
      "vmSizeArchitecture",
      "UnsupportedVmSize",
      /Arm64.*only on x64/,
    ],
    [
      "k8s 1.23",
      { cluster: { provisioningState: "Succeeded", kubernetesVersion: "1.23.12", location: "eastus" } },
      "kubernetesVersion",
      "KubernetesVersionTooOld",
      /1\.23\.12.*1\.24\.0 or later/,
    ],
    [
      "feature",
      { featureState: "NotRegistered", providerState: "NotRegistered" },
      "featureRegistered",
      "FeatureNotRegistered",
      /KataVMIsolationPreview is NotRegistered.*sandbox-feature/,
    ],
    ["pool name", { poolName: "Sandbox_1" }, "poolName", "InvalidRequest", /\^\[a-z\]\[a-z0-9\]\{0,11\}\$/],
    ["os sku", { osSku: "Ubuntu" }, "osSku", "UnsupportedOsSku", /only AzureLinux/],
    [
      "missing size",
      { vmSize: "Standard_D4s_v3", sku: undefined },
      "vmSizeAvailable",
      "UnsupportedVmSize",
      /not offered in eastus/,
    ],
    ["missing cluster", { cluster: undefined }, "clusterExists", "NotFound", /was not found/],
    [
      "updating cluster",
      { cluster: { provisioningState: "Updating", kubernetesVersion: "1.33.5", location: "eastus" } },
      "clusterExists",
      "Conflict",
      /Updating/,
    ],
  ];
  for (const [label, overrides, check, code, message] of cases) {
    const report = poolPreflight(input(overrides));
    assert.equal(report.ok, false, label);
    const c = report.checks.find((x) => x.name === check)!;
    assert.equal(c.ok, false, `${label}: ${check}`);
    assert.equal(c.code, code, label);
    assert.match(c.message, message, label);
    const error = preflightError(report)!;
    assert.ok(
      error.details.some((d) => d.target === check),
      label,
    );
  }
});

test("the report lists every failing check at once", () => {
  const report = poolPreflight(
    input({
      poolName: "BAD",
      vmSize: "Standard_B2s",
      sku: sku("Standard_B2s"),
      featureState: "Registering",
      cluster: { provisioningState: "Succeeded", kubernetesVersion: "1.23.0", location: "eastus" },
    }),
  );
  assert.deepEqual(failing(report), {
    poolName: "InvalidRequest",
    kubernetesVersion: "KubernetesVersionTooOld",
    vmSizeNestedVirtualization: "UnsupportedVmSize",
    featureRegistered: "FeatureNotRegistered",
  });
  const error = preflightError(report)!;
  assert.equal(error.code, "InvalidRequest");
  assert.equal(error.details.length, 4);
});

test("GA needs no feature; an active operation queues rather than fails", () => {
  const report = poolPreflight(
    input({
      flavor: sandboxFlavor("ga"),
      featureState: undefined,
      providerState: undefined,
      activeOperation: { id: "op_1", kind: "CreateSandboxPool" },
    }),
  );
  assert.equal(report.ok, true);
  assert.match(report.checks.find((c) => c.name === "noConflictingOperation")!.message, /queued/);
});

test("versions compare numerically", () => {
  assert.equal(compareVersions("1.9.0", "1.24.0"), -1);
  assert.equal(compareVersions("v1.24", "1.24.0"), 0);
  assert.equal(compareVersions("1.33.5", "1.24.0"), 1);
});
