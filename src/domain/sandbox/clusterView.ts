import type { AgentPoolState, ClusterRef } from "../operations/armOperations.js";
import { sandboxPoolView, type SandboxPoolView } from "../operations/kinds/sandboxPoolKinds.js";
import { canonicalArmState, sameArmState } from "./armState.js";
import type { PoolCapacity } from "./poolCapacity.js";
import type { ManagedClusterState } from "./sandboxArm.js";
import type { SandboxFlavorNames } from "./sandboxFlavor.js";

/** The pool view of the API with its capacity (docs/api-conventions.md, Sandbox pools). */
export interface SandboxPoolWithCapacity extends SandboxPoolView {
  /** Per node, from the Compute SKU API; absent when the size could not be looked up. */
  capacity?: PoolCapacity;
}

/** `sandbox` of the cluster view. */
export interface ClusterSandboxView {
  /** True when the runtime class is confirmed through the cluster's Kubernetes API and a sandbox pool is Succeeded with nodes. */
  ready: boolean;
  /** The flavour's RuntimeClass, the one jobs use. */
  runtimeClassName: string;
  /** Whether the cluster's Kubernetes API shows that RuntimeClass (false when it could not be asked). */
  runtimeClassFound: boolean;
  /** The flavour's AKS workload runtime. */
  workloadRuntime: string;
  /** Pools running the sandbox runtime. */
  pools: SandboxPoolWithCapacity[];
  /** Why it is not ready, and what to do. */
  message?: string;
}

/** `network` of the cluster view: the cluster's network policy engine (ARM `networkProfile`). */
export interface ClusterNetworkView {
  networkPlugin: string | undefined;
  networkPluginMode: string | undefined;
  networkDataplane: string | undefined;
  /** `cilium`, `azure`, `calico`, or `none`: what enforces the jobs' NetworkPolicies. */
  networkPolicy: string;
  /** False when nothing enforces NetworkPolicies (sandboxed jobs answer NetworkPolicyUnsupported then). */
  policyEnforced: boolean;
}

/** The network policy engine of a managed cluster resource, as AKS decides it (`none` when absent). */
export function networkPolicyEngineOf(resource: Record<string, unknown>): ClusterNetworkView {
  const net =
    resource.networkProfile && typeof resource.networkProfile === "object"
      ? (resource.networkProfile as Record<string, unknown>)
      : {};
  const s = (k: string): string | undefined => (typeof net[k] === "string" && net[k] !== "" ? net[k] : undefined);
  const policy = (s("networkPolicy") ?? (s("networkDataplane") === "cilium" ? "cilium" : "none")).toLowerCase();
  return {
    networkPlugin: s("networkPlugin"),
    networkPluginMode: s("networkPluginMode"),
    networkDataplane: s("networkDataplane"),
    networkPolicy: policy,
    policyEnforced: policy !== "none",
  };
}

/** `network` of a preflight report: the engine, and what it means for the jobs' network containment. */
export interface PreflightNetworkView extends ClusterNetworkView {
  /** Whether the jobs' network containment (the team namespaces' NetworkPolicies) will be enforced, and why. */
  message: string;
}

/** The preflight's `network` for a cluster whose network profile is `view`. */
export function preflightNetworkView(view: ClusterNetworkView): PreflightNetworkView {
  const message = view.policyEnforced
    ? `Network policy engine "${view.networkPolicy}" enforces the team namespaces' NetworkPolicies: jobs' network containment (no Instance Metadata Service, wireserver, API server or other namespaces' pods) will be enforced.`
    : "The cluster has no network policy engine (networkProfile.networkPolicy none): jobs' network containment would not be enforced, so sandboxed jobs are refused with 409 NetworkPolicyUnsupported unless the team policy sets allowUnenforcedNetworking. Enable an engine (az aks update --network-dataplane cilium, or --network-policy azure|calico|cilium).";
  return { ...view, message };
}

/** The cluster view of the API (docs/api-conventions.md, Clusters). */
export interface ClusterView {
  /** API path of the cluster. */
  id: string;
  armId: string;
  name: string;
  location: string;
  kubernetesVersion: string;
  provisioningState: string;
  network: ClusterNetworkView;
  sandbox: ClusterSandboxView;
}

/** API path of a cluster (operation target, job view `cluster`). */
export function clusterPath(cluster: ClusterRef): string {
  return `/subscriptions/${cluster.subscriptionId}/resourceGroups/${cluster.resourceGroup}/clusters/${cluster.clusterName}`;
}

/** An agent pool (SDK model, flattened plain JSON) as the domain sees it. */
export function agentPoolStateOf(pool: Record<string, unknown>): AgentPoolState {
  const s = (k: string): string | undefined => (typeof pool[k] === "string" ? pool[k] : undefined);
  return {
    provisioningState: canonicalArmState(s("provisioningState")) ?? "Succeeded",
    vmSize: s("vmSize"),
    count: typeof pool.count === "number" ? pool.count : undefined,
    workloadRuntime: canonicalArmState(s("workloadRuntime")),
    osSKU: canonicalArmState(s("osSKU")),
    mode: canonicalArmState(s("mode")),
    resource: pool,
  };
}

/** A managed cluster (SDK model, flattened plain JSON) as the domain sees it. */
export function managedClusterStateOf(mc: Record<string, unknown>, fallbackName: string): ManagedClusterState {
  const profiles = Array.isArray(mc.agentPoolProfiles) ? (mc.agentPoolProfiles as Record<string, unknown>[]) : [];
  const str = (k: string): string | undefined => (typeof mc[k] === "string" && mc[k] !== "" ? mc[k] : undefined);
  return {
    id: str("id") ?? "",
    name: str("name") ?? fallbackName,
    location: str("location") ?? "",
    kubernetesVersion: str("currentKubernetesVersion") ?? str("kubernetesVersion") ?? "",
    provisioningState: canonicalArmState(str("provisioningState")) ?? "Succeeded",
    pools: profiles.map(agentPoolStateOf),
    resource: mc,
  };
}

/** Pools of the cluster that run the flavour's sandbox runtime. */
export function sandboxPoolsOf(
  cluster: Pick<ManagedClusterState, "pools">,
  flavor: SandboxFlavorNames,
): AgentPoolState[] {
  return cluster.pools.filter((p) => sameArmState(p.workloadRuntime, flavor.workloadRuntime));
}

/** The name of a pool (from its resource). */
export function poolNameOf(pool: AgentPoolState): string {
  return typeof pool.resource.name === "string" ? pool.resource.name : "";
}

/** A pool view with the capacity of its VM size (when known). */
export function poolWithCapacity(
  name: string,
  pool: AgentPoolState | Record<string, unknown>,
  capacity: PoolCapacity | undefined,
): SandboxPoolWithCapacity {
  return { ...sandboxPoolView(name, pool), ...(capacity ? { capacity } : {}) };
}

/**
 * The cluster view. `runtimeClassFound` comes from the cluster's Kubernetes
 * API (undefined: not asked, e.g. while the cluster is being created);
 * `capacityOf` gives the capacity of a VM size.
 */
export function clusterView(
  ref: ClusterRef,
  cluster: ManagedClusterState,
  flavor: SandboxFlavorNames,
  runtimeClassFound: boolean | undefined,
  capacityOf: (vmSize: string | undefined) => PoolCapacity | undefined,
  reason?: string,
): ClusterView {
  const pools = sandboxPoolsOf(cluster, flavor).map((p) => poolWithCapacity(poolNameOf(p), p, capacityOf(p.vmSize)));
  const usable = pools.some((p) => p.provisioningState === "Succeeded" && (p.nodeCount ?? 0) > 0);
  const found = runtimeClassFound === true;
  let message: string | undefined;
  if (pools.length === 0)
    message = `No node pool runs the ${flavor.workloadRuntime} runtime. Add one (PUT …/sandbox-pools/{poolName}) or POST …/enable-sandboxing.`;
  else if (!usable) message = "No sandbox pool is Succeeded with nodes yet; wait for its operation or scale it up.";
  else if (!found)
    message =
      reason ??
      `RuntimeClass ${flavor.runtimeClassName} is not visible in the cluster yet; POST …/enable-sandboxing confirms it.`;
  return {
    id: clusterPath(ref),
    armId: cluster.id,
    name: cluster.name,
    location: cluster.location,
    kubernetesVersion: cluster.kubernetesVersion,
    provisioningState: cluster.provisioningState,
    network: networkPolicyEngineOf(cluster.resource),
    sandbox: {
      ready: found && usable,
      runtimeClassName: flavor.runtimeClassName,
      runtimeClassFound: found,
      workloadRuntime: flavor.workloadRuntime,
      pools,
      ...(message ? { message } : {}),
    },
  };
}
