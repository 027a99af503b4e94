import type { ArmCallContext, ClusterRef } from "../operations/armOperations.js";
import type { SandboxPoolPreflight, SandboxPoolPreflightRequest } from "../operations/kinds/sandboxPoolKinds.js";
import type { OperationStore } from "../operations/operationStore.js";
import { SANDBOX_NETWORK_PROFILE } from "../operations/kinds/clusterKinds.js";
import { clusterSerialKey } from "./clusterSerialKey.js";
import { networkPolicyEngineOf, preflightNetworkView } from "./clusterView.js";
import { poolPreflight, type PreflightCheck, type PreflightReport, type VmSkuInfo } from "./poolPreflight.js";
import { FEATURE_GONE, type ManagedClusterState, type SandboxArm } from "./sandboxArm.js";
import type { SandboxFlavorNames } from "./sandboxFlavor.js";
import type { VmFamilyRule } from "./vmFamilies.js";

/** AKS's managed cluster name rule (swagger pattern). */
export const CLUSTER_NAME_PATTERN = /^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$/;

/** Finds the operation of ours currently holding (or queued on) a serial key. */
export interface ActiveOperationLookup {
  activeOn(serialKey: string): Promise<{ id: string; kind: string } | undefined>;
}

/** {@link ActiveOperationLookup} over the operation store's active index (O(active operations)). */
export function activeOperationLookup(store: OperationStore): ActiveOperationLookup {
  return {
    async activeOn(serialKey) {
      const key = serialKey.toLowerCase();
      const entries = (await store.listActive()).filter((e) => e.serialKey === key);
      for (const entry of entries) {
        const op = (await store.get(entry.id))?.record;
        if (op && (op.status === "Running" || op.status === "NotStarted")) return { id: op.id, kind: op.kind };
      }
      return undefined;
    },
  };
}

/** Feature and provider state of a subscription, as the preflight sees it. */
export interface RegistrationState {
  /** `Registered` also when the feature is gone (GA) or the flavour needs none. */
  readonly featureState: string | undefined;
  readonly providerState: string | undefined;
  /** The preview feature no longer exists at ARM (it went GA). */
  readonly featureGone: boolean;
}

/** What a cluster-create preflight checks. */
export interface ClusterPreflightRequest {
  readonly cluster: ClusterRef;
  readonly location: string;
  readonly kubernetesVersion: string | undefined;
  readonly vmSize: string;
  readonly call: ArmCallContext;
}

/** Dependencies of {@link SandboxPreflightService}. */
export interface SandboxPreflightDependencies {
  readonly arm: SandboxArm;
  readonly flavor: SandboxFlavorNames;
  /** Setting SANDBOX_MIN_KUBERNETES_VERSION (default 1.24.0). */
  readonly minKubernetesVersion: string;
  readonly activeOperations: ActiveOperationLookup;
  readonly familyRules?: readonly VmFamilyRule[];
}

/**
 * The real preflight: gathers what {@link poolPreflight} needs (cluster
 * state from ARM, the VM size from the Compute SKU API in the cluster's
 * region, feature and provider registration in the preview flavour, our
 * active operation on the cluster) with reads only, then runs every check.
 * Never writes to ARM.
 */
export class SandboxPreflightService implements SandboxPoolPreflight {
  constructor(private readonly deps: SandboxPreflightDependencies) {}

  /** Feature/provider registration (reads only; nothing in GA). */
  async registration(subscriptionId: string, call: ArmCallContext): Promise<RegistrationState> {
    const feature = this.deps.flavor.feature;
    if (!feature) return { featureState: undefined, providerState: undefined, featureGone: false };
    const featureState = await this.deps.arm.getFeatureState(subscriptionId, feature.namespace, feature.name, call);
    if (featureState === FEATURE_GONE)
      return { featureState: "Registered", providerState: "Registered", featureGone: true };
    const providerState = await this.deps.arm.getProviderState(subscriptionId, feature.namespace, call);
    return { featureState, providerState, featureGone: false };
  }

  /** The VM size in a region, or undefined. */
  vmSku(
    subscriptionId: string,
    location: string,
    vmSize: string,
    call: ArmCallContext,
  ): Promise<VmSkuInfo | undefined> {
    return this.deps.arm.getVmSku(subscriptionId, location, vmSize, call);
  }

  /** The pool preflight given an already-read cluster (undefined: it does not exist). */
  async checkPool(
    ref: ClusterRef & { poolName: string },
    cluster: ManagedClusterState | undefined,
    vmSize: string,
    osSku: string | undefined,
    call: ArmCallContext,
  ): Promise<{ report: PreflightReport; sku: VmSkuInfo | undefined }> {
    const [sku, registration, active] = await Promise.all([
      cluster ? this.vmSku(ref.subscriptionId, cluster.location, vmSize, call) : Promise.resolve(undefined),
      this.registration(ref.subscriptionId, call),
      this.deps.activeOperations.activeOn(clusterSerialKey(ref)),
    ]);
    const report = poolPreflight({
      flavor: this.deps.flavor,
      clusterName: ref.clusterName,
      cluster: cluster && {
        provisioningState: cluster.provisioningState,
        kubernetesVersion: cluster.kubernetesVersion,
        location: cluster.location,
      },
      poolName: ref.poolName,
      vmSize,
      osSku,
      sku,
      minKubernetesVersion: this.deps.minKubernetesVersion,
      featureState: registration.featureState,
      providerState: registration.providerState,
      activeOperation: active,
      ...(this.deps.familyRules ? { familyRules: this.deps.familyRules } : {}),
    });
    if (!cluster) return { report, sku };
    return { report: { ...report, network: preflightNetworkView(networkPolicyEngineOf(cluster.resource)) }, sku };
  }

  /** PREFLIGHT HOOK of `putSandboxPool`. */
  async check(request: SandboxPoolPreflightRequest): Promise<PreflightReport> {
    const call = { correlationId: request.correlationId };
    const cluster = await this.deps.arm.getCluster(request.pool, request.flavor.containerServiceApiVersion, call);
    return (await this.checkPool(request.pool, cluster, request.spec.vmSize, request.body.osSku, call)).report;
  }

  /**
   * The cluster-create preflight: the pool checks for the default (system)
   * pool in the requested region, without `clusterExists`, plus the cluster
   * name; the Kubernetes version is checked only when one is requested (AKS's
   * default is always new enough).
   */
  async checkCluster(
    request: ClusterPreflightRequest,
  ): Promise<{ report: PreflightReport; sku: VmSkuInfo | undefined }> {
    const { cluster, call } = request;
    const [sku, registration, active] = await Promise.all([
      this.vmSku(cluster.subscriptionId, request.location, request.vmSize, call),
      this.registration(cluster.subscriptionId, call),
      this.deps.activeOperations.activeOn(clusterSerialKey(cluster)),
    ]);
    const base = poolPreflight({
      flavor: this.deps.flavor,
      clusterName: cluster.clusterName,
      cluster: {
        provisioningState: "Succeeded",
        kubernetesVersion: request.kubernetesVersion ?? this.deps.minKubernetesVersion,
        location: request.location,
      },
      poolName: "system",
      vmSize: request.vmSize,
      osSku: undefined,
      sku,
      minKubernetesVersion: this.deps.minKubernetesVersion,
      featureState: registration.featureState,
      providerState: registration.providerState,
      activeOperation: active,
      ...(this.deps.familyRules ? { familyRules: this.deps.familyRules } : {}),
    });
    const checks: PreflightCheck[] = [];
    if (CLUSTER_NAME_PATTERN.test(cluster.clusterName))
      checks.push({ name: "clusterName", ok: true, message: `"${cluster.clusterName}" is a valid AKS cluster name.` });
    else
      checks.push({
        name: "clusterName",
        ok: false,
        code: "InvalidRequest",
        message: `Cluster name "${cluster.clusterName}" is invalid: AKS needs 1–63 letters, digits, '-' or '_', starting and ending with a letter or digit.`,
      });
    for (const c of base.checks) {
      if (c.name === "clusterExists" || c.name === "poolName") continue;
      if (c.name === "kubernetesVersion" && request.kubernetesVersion === undefined) {
        checks.push({
          name: "kubernetesVersion",
          ok: true,
          message: `AKS's default Kubernetes version (always ≥ ${this.deps.minKubernetesVersion}).`,
        });
        continue;
      }
      checks.push(c);
    }
    // The cluster this creates has Azure CNI powered by Cilium (see sandboxClusterBody).
    const network = preflightNetworkView(networkPolicyEngineOf({ networkProfile: { ...SANDBOX_NETWORK_PROFILE } }));
    return { report: { ok: checks.every((c) => c.ok), checks, network }, sku };
  }
}
