import type { ErrorCode } from "../errorCodes.js";
import type { PreflightNetworkView } from "./clusterView.js";
import { SandboxError } from "../sandboxError.js";
import type { SandboxFlavorNames } from "./sandboxFlavor.js";
import { DEFAULT_VM_FAMILY_RULES, vmFamilyOf, type VmFamilyRule } from "./vmFamilies.js";

/** What the Compute SKU API says about a VM size in a region. */
export interface VmSkuInfo {
  readonly name: string;
  readonly vCpus: number;
  readonly memoryGiB: number;
  /** e.g. ["V1", "V2"] */
  readonly hyperVGenerations: readonly string[];
  /** `x64` | `Arm64` */
  readonly cpuArchitecture: string;
  /** True when the SKU is restricted for the subscription in this location. */
  readonly restricted: boolean;
}

export interface PoolPreflightInput {
  readonly flavor: SandboxFlavorNames;
  readonly clusterName: string;
  /** Undefined when the cluster does not exist. */
  readonly cluster:
    { readonly provisioningState: string; readonly kubernetesVersion: string; readonly location: string } | undefined;
  readonly poolName: string;
  readonly vmSize: string;
  /** OS SKU the caller asked for, if any; only AzureLinux is possible. */
  readonly osSku: string | undefined;
  /** Undefined when the SKU API does not list the size in the cluster's region. */
  readonly sku: VmSkuInfo | undefined;
  /** Minimum Kubernetes version for Pod Sandboxing (setting, default 1.24.0). */
  readonly minKubernetesVersion: string;
  /** Feature and provider registration state (preview flavour; ignored for GA). */
  readonly featureState: string | undefined;
  readonly providerState: string | undefined;
  /** Another operation of ours running on the cluster (the new one is queued behind it). */
  readonly activeOperation: { readonly id: string; readonly kind: string } | undefined;
  readonly familyRules?: readonly VmFamilyRule[];
}

export interface PreflightCheck {
  readonly name: string;
  readonly ok: boolean;
  /** Error code when not ok. */
  readonly code?: ErrorCode;
  /** What was found, and for a failure how to fix it. */
  readonly message: string;
}

export interface PreflightReport {
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
  /**
   * The cluster's network policy engine and whether job network containment
   * will be enforced (absent when the cluster does not exist). Informative:
   * it never fails the report, sandboxed job submission decides.
   */
  readonly network?: PreflightNetworkView;
}

export const POOL_NAME_PATTERN = /^[a-z][a-z0-9]{0,11}$/;

/** Compares dotted versions numerically (`1.9` < `1.24`); a leading `v` is ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a
    .replace(/^v/i, "")
    .split(".")
    .map((n) => Number.parseInt(n, 10) || 0);
  const pb = b
    .replace(/^v/i, "")
    .split(".")
    .map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const NESTED_SIZES_HINT =
  "Pick a generation-2 x64 size with nested virtualization, e.g. Standard_D4s_v3 (Dsv3), Standard_D4s_v5 (Dsv5) or Standard_E4s_v5.";

/**
 * Pod Sandboxing's preconditions for adding or scaling a sandbox node pool,
 * every check evaluated (not only up to the first failure) so that
 * `dryRun=true` can show the whole report. Pure: it reads only its input.
 */
export function poolPreflight(input: PoolPreflightInput): PreflightReport {
  const checks: PreflightCheck[] = [];
  const pass = (name: string, message: string): void => void checks.push({ name, ok: true, message });
  const fail = (name: string, code: ErrorCode, message: string): void =>
    void checks.push({ name, ok: false, code, message });

  if (POOL_NAME_PATTERN.test(input.poolName)) pass("poolName", `"${input.poolName}" is a valid Linux node pool name.`);
  else
    fail(
      "poolName",
      "InvalidRequest",
      `Pool name "${input.poolName}" is invalid: AKS needs 1–12 lowercase letters and digits, starting with a letter (^[a-z][a-z0-9]{0,11}$).`,
    );

  const cluster = input.cluster;
  if (!cluster) {
    fail(
      "clusterExists",
      "NotFound",
      `Cluster "${input.clusterName}" was not found in this resource group. Create it first (PUT …/clusters/${input.clusterName}).`,
    );
  } else if (cluster.provisioningState !== "Succeeded") {
    fail(
      "clusterExists",
      "Conflict",
      `Cluster "${input.clusterName}" is ${cluster.provisioningState}; sandbox pools can be added once it is Succeeded.`,
    );
  } else {
    pass("clusterExists", `Cluster "${input.clusterName}" exists and is Succeeded.`);
  }

  if (cluster) {
    if (compareVersions(cluster.kubernetesVersion, input.minKubernetesVersion) >= 0) {
      pass("kubernetesVersion", `Kubernetes ${cluster.kubernetesVersion} ≥ ${input.minKubernetesVersion}.`);
    } else {
      fail(
        "kubernetesVersion",
        "KubernetesVersionTooOld",
        `Cluster "${input.clusterName}" runs Kubernetes ${cluster.kubernetesVersion}; Pod Sandboxing needs ${input.minKubernetesVersion} or later. Upgrade the cluster (az aks upgrade) first.`,
      );
    }
  }

  const size = input.vmSize;
  const sku = input.sku;
  const region = cluster?.location ?? "the cluster's region";
  if (!cluster) {
    pass("vmSizeAvailable", `Not checked: the region of cluster "${input.clusterName}" is unknown until it exists.`);
  } else if (!sku) {
    fail(
      "vmSizeAvailable",
      "UnsupportedVmSize",
      `VM size ${size} is not offered in ${region} (Compute SKU API). ${NESTED_SIZES_HINT}`,
    );
  } else if (sku.restricted) {
    fail(
      "vmSizeAvailable",
      "UnsupportedVmSize",
      `VM size ${size} is restricted for this subscription in ${region}. Request quota or pick another size. ${NESTED_SIZES_HINT}`,
    );
  } else {
    pass("vmSizeAvailable", `${size} is offered in ${region}: ${sku.vCpus} vCPU, ${sku.memoryGiB} GiB.`);
  }
  if (sku) {
    if (sku.cpuArchitecture.toLowerCase() === "x64") pass("vmSizeArchitecture", `${size} is x64.`);
    else
      fail(
        "vmSizeArchitecture",
        "UnsupportedVmSize",
        `${size} is ${sku.cpuArchitecture}; Pod Sandboxing runs only on x64 sizes. ${NESTED_SIZES_HINT}`,
      );
    if (sku.hyperVGenerations.some((g) => g.toUpperCase() === "V2"))
      pass("vmSizeGeneration", `${size} supports generation 2.`);
    else
      fail(
        "vmSizeGeneration",
        "UnsupportedVmSize",
        `${size} is generation 1 only; Pod Sandboxing needs a generation-2 size (for example the "s" variant: Standard_D4s_v3 instead of Standard_D4_v3). ${NESTED_SIZES_HINT}`,
      );
  }
  const family = vmFamilyOf(size, input.familyRules ?? DEFAULT_VM_FAMILY_RULES);
  if (family?.nestedVirtualization)
    pass("vmSizeNestedVirtualization", `${size} (${family.family}) supports nested virtualization.`);
  else if (family)
    fail(
      "vmSizeNestedVirtualization",
      "UnsupportedVmSize",
      `${size} (${family.family}) does not support nested virtualization, which the sandbox VMs need. ${NESTED_SIZES_HINT}`,
    );
  else
    fail(
      "vmSizeNestedVirtualization",
      "UnsupportedVmSize",
      `${size} is not in the nested-virtualization family table, so it cannot be confirmed to host sandbox VMs. ${NESTED_SIZES_HINT}`,
    );

  const osSku = input.osSku;
  if (osSku === undefined || /^AzureLinux3?$/i.test(osSku))
    pass("osSku", `OS SKU ${input.flavor.osSku} (the only one Pod Sandboxing supports; set by the service).`);
  else
    fail(
      "osSku",
      "UnsupportedOsSku",
      `OS SKU ${osSku} cannot run Pod Sandboxing; only AzureLinux can. Omit osSku (the service sets AzureLinux).`,
    );

  const feature = input.flavor.feature;
  if (!feature) {
    pass("featureRegistered", `The ${input.flavor.flavor} flavour needs no feature registration.`);
  } else {
    if (input.featureState === "Registered")
      pass("featureRegistered", `Feature ${feature.namespace}/${feature.name} is Registered.`);
    else
      fail(
        "featureRegistered",
        "FeatureNotRegistered",
        `Feature ${feature.namespace}/${feature.name} is ${input.featureState ?? "NotRegistered"} on this subscription. Register it first: PUT /api/v1/subscriptions/{subscriptionId}/sandbox-feature.`,
      );
    if (input.providerState === "Registered")
      pass("providerRegistered", `Provider ${feature.namespace} is Registered.`);
    else
      fail(
        "providerRegistered",
        "FeatureNotRegistered",
        `Provider ${feature.namespace} is ${input.providerState ?? "NotRegistered"}; it must be registered again after the feature. PUT /api/v1/subscriptions/{subscriptionId}/sandbox-feature does both.`,
      );
  }

  if (input.activeOperation)
    pass(
      "noConflictingOperation",
      `Operation ${input.activeOperation.id} (${input.activeOperation.kind}) runs on this cluster; this one will be queued behind it.`,
    );
  else pass("noConflictingOperation", "No other operation of ours runs on this cluster.");

  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * The error for a failed report: the first failing check's code and message,
 * every failing check in `details`.
 * @throws nothing; returns undefined for a passing report.
 */
export function preflightError(report: PreflightReport): SandboxError | undefined {
  const failures = report.checks.filter((c) => !c.ok);
  const first = failures[0];
  if (!first) return undefined;
  return new SandboxError(first.code ?? "InvalidRequest", first.message, {
    target: first.name,
    details: failures.map((c) => ({ code: c.code ?? "InvalidRequest", message: c.message, target: c.name })),
  });
}
