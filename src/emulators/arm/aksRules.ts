import { ArmError, invalidParameter } from "./armError.js";
import { isPreviewApiVersion, supportedApiVersions, type ArmEmulatorSettings } from "./armEmulatorSettings.js";
import type { ArmEmulatorState, ClusterRecord } from "./armEmulatorState.js";
import { findVmSku, supportsNestedVirtualization } from "./vmSkuCatalogue.js";

/** The preview feature that gates `KataMshvVmIsolation`. */
export const KATA_PREVIEW_FEATURE = {
  namespace: "Microsoft.ContainerService",
  name: "KataVMIsolationPreview",
} as const;

/** Workload runtimes that run pods in Kata VM sandboxes. */
export const SANDBOX_RUNTIMES = ["KataMshvVmIsolation", "KataVmIsolation"] as const;

const POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;
const CLUSTER_NAME = /^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$/;
const VERSION = /^(\d+)\.(\d+)(?:\.(\d+))?$/;

/** Agent pool name as AKS requires (swagger pattern `^[a-z][a-z0-9]{0,11}$`). */
export function checkPoolName(name: string, target: string): void {
  if (!POOL_NAME.test(name)) {
    throw invalidParameter(
      target,
      `The agent pool name '${name}' is invalid: it must start with a lowercase letter and contain only lowercase letters and numbers, 1 to 12 characters (pattern ^[a-z][a-z0-9]{0,11}$).`,
    );
  }
}

/** Managed cluster name as the swagger requires. */
export function checkClusterName(name: string): void {
  if (!CLUSTER_NAME.test(name)) {
    throw invalidParameter(
      "resourceName",
      `The managed cluster name '${name}' is invalid: 1 to 63 letters, digits, '-' or '_', starting and ending with a letter or digit (pattern ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$).`,
    );
  }
}

/**
 * Resolves a requested Kubernetes version: `""`/absent → the default,
 * `major.minor` → the newest offered patch, `major.minor.patch` → itself; a
 * version AKS does not offer → 400 `K8sVersionNotSupported`.
 */
export function resolveKubernetesVersion(
  requested: unknown,
  settings: ArmEmulatorSettings,
  target: string,
  fallback?: string,
): string {
  if (requested === undefined || requested === null || requested === "")
    return fallback ?? settings.defaultKubernetesVersion;
  const text = typeof requested === "string" ? requested : JSON.stringify(requested);
  const m = VERSION.exec(text);
  if (!m)
    throw invalidParameter(
      target,
      `The Kubernetes version '${text}' is invalid; use <major.minor> or <major.minor.patch>.`,
    );
  const offered = settings.kubernetesVersions.filter((v) =>
    m[3] === undefined ? v.startsWith(`${m[1]}.${m[2]}.`) : v === text,
  );
  const newest = offered.sort(compareVersions).at(-1);
  if (!newest) {
    throw new ArmError(
      400,
      "K8sVersionNotSupported",
      `Version ${text} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. Supported: ${settings.kubernetesVersions.join(", ")}.`,
      target,
    );
  }
  return newest;
}

/** Numeric comparison of dotted versions. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The properties of an agent pool that the rules look at. */
export interface PoolRuleInput {
  properties: Record<string, unknown>;
  /** Resolved Kubernetes version the pool will run. */
  kubernetesVersion: string;
  /** JSON path prefix of the pool's properties in the request (`properties` or `properties.agentPoolProfiles[0]`). */
  targetPrefix: string;
}

/**
 * AKS's agent-pool rules, in the order AKS reports them: VM size exists,
 * workload runtime allowed at this api-version (and, for the preview runtime,
 * the subscription's feature registered and the provider re-registered
 * since), and for sandbox runtimes osSKU AzureLinux, a generation-2, x64,
 * nested-virtualization size and Kubernetes ≥ 1.24. Throws {@link ArmError}.
 */
export function checkPoolRules(
  state: ArmEmulatorState,
  subscriptionId: string,
  apiVersion: string,
  input: PoolRuleInput,
): void {
  const { properties: p, targetPrefix } = input;
  const t = (field: string): string => `${targetPrefix}.${field}`;
  const vmSize = typeof p.vmSize === "string" ? p.vmSize : "Standard_DS2_v2";
  const sku = findVmSku(vmSize, state.settings.vmSkus);
  if (!sku) {
    throw invalidParameter(
      t("vmSize"),
      `The VM size '${vmSize}' is not available for AKS in this subscription and location. Use a size listed by Microsoft.Compute/skus.`,
    );
  }
  const runtime = typeof p.workloadRuntime === "string" ? p.workloadRuntime : "OCIContainer";
  if (runtime === "KataMshvVmIsolation") {
    if (!isPreviewApiVersion(apiVersion)) {
      throw invalidParameter(
        t("workloadRuntime"),
        `WorkloadRuntime 'KataMshvVmIsolation' is only available at a preview api-version (for example ${supportedApiVersions.containerServicePreview[0]}); api-version '${apiVersion}' accepts OCIContainer, WasmWasi and KataVmIsolation.`,
      );
    }
    const usable = state.previewFeatureUsable(
      subscriptionId,
      KATA_PREVIEW_FEATURE.namespace,
      KATA_PREVIEW_FEATURE.name,
    );
    if (!usable.usable) {
      const feature = `${KATA_PREVIEW_FEATURE.namespace}/${KATA_PREVIEW_FEATURE.name}`;
      throw new ArmError(
        400,
        "BadRequest",
        usable.reason === "notRegistered"
          ? `WorkloadRuntime 'KataMshvVmIsolation' requires the preview feature '${feature}' to be registered on subscription '${subscriptionId}' (current state: ${usable.state}). Register it with 'az feature register --namespace ${KATA_PREVIEW_FEATURE.namespace} --name ${KATA_PREVIEW_FEATURE.name}', wait for 'Registered', then run 'az provider register -n ${KATA_PREVIEW_FEATURE.namespace}'.`
          : `WorkloadRuntime 'KataMshvVmIsolation' requires the resource provider '${KATA_PREVIEW_FEATURE.namespace}' to be registered again after the feature '${feature}' reached 'Registered'. Run 'az provider register -n ${KATA_PREVIEW_FEATURE.namespace}' and wait for it to finish.`,
        t("workloadRuntime"),
      );
    }
  }
  if (!(SANDBOX_RUNTIMES as readonly string[]).includes(runtime)) return;
  const osType = typeof p.osType === "string" ? p.osType : "Linux";
  const osSku = typeof p.osSKU === "string" ? p.osSKU : osType === "Windows" ? "Windows2022" : "Ubuntu";
  if (osSku !== "AzureLinux" && osSku !== "AzureLinux3") {
    throw invalidParameter(
      t("osSKU"),
      `WorkloadRuntime '${runtime}' requires osSKU 'AzureLinux' (got '${osSku}'${p.osSKU === undefined ? ", the default" : ""}).`,
    );
  }
  if (osType !== "Linux") {
    throw invalidParameter(t("osType"), `WorkloadRuntime '${runtime}' requires osType 'Linux' (got '${osType}').`);
  }
  if (sku.cpuArchitecture !== "x64") {
    throw invalidParameter(
      t("vmSize"),
      `WorkloadRuntime '${runtime}' requires an x64 VM size; '${sku.name}' is ${sku.cpuArchitecture}.`,
    );
  }
  if (!sku.hyperVGenerations.split(",").includes("V2")) {
    throw invalidParameter(
      t("vmSize"),
      `WorkloadRuntime '${runtime}' requires a generation 2 VM size; '${sku.name}' supports only HyperVGenerations ${sku.hyperVGenerations}.`,
    );
  }
  if (!supportsNestedVirtualization(sku)) {
    throw invalidParameter(
      t("vmSize"),
      `WorkloadRuntime '${runtime}' requires a VM size that supports nested virtualization (for example the Dsv3 series); '${sku.name}' does not.`,
    );
  }
  if (compareVersions(input.kubernetesVersion, "1.24.0") < 0) {
    throw invalidParameter(
      t("orchestratorVersion"),
      `WorkloadRuntime '${runtime}' requires Kubernetes 1.24.0 or later; the pool would run ${input.kubernetesVersion}.`,
    );
  }
}

/** 409 `OperationNotAllowed` when the cluster has a running operation, worded as AKS does. */
export function checkNoActiveOperation(c: ClusterRecord): void {
  const op = c.activeOp;
  if (!op || op.status !== "InProgress") return;
  if (op.poolName !== undefined) {
    const pool = c.pools.get(op.poolName);
    throw new ArmError(
      409,
      "OperationNotAllowed",
      `Operation is not allowed: Another agentpool operation (${op.poolName} - ${pool?.provisioningState ?? "Updating"}) is in progress, please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details`,
    );
  }
  const state = op.kind === "background" ? "Updating" : c.provisioningState;
  throw new ArmError(
    409,
    "OperationNotAllowed",
    `Operation is not allowed: Another operation (${state}) is in progress, please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details`,
  );
}
