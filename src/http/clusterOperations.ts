import { services } from "../composition.js";
import type { ClusterRef } from "../domain/operations/armOperations.js";
import { sandboxClusterBody, type CreateClusterInput, type DeleteClusterInput, type EnableSandboxingInput } from "../domain/operations/kinds/clusterKinds.js";
import { authorizeClusterAccess, clusterNotFound } from "../domain/policy/authorization.js";
import { clusterPath, clusterView, poolNameOf, sandboxPoolsOf, type ClusterView } from "../domain/sandbox/clusterView.js";
import { poolCapacity } from "../domain/sandbox/poolCapacity.js";
import { compareVersions, preflightError } from "../domain/sandbox/poolPreflight.js";
import type { ManagedClusterState } from "../domain/sandbox/sandboxArm.js";
import { sandboxFlavor } from "../domain/sandbox/sandboxFlavor.js";
import { SandboxError } from "../domain/sandboxError.js";
import type { OperationHandler } from "./httpOperation.js";
import { submitClusterOperation } from "./operationOperations.js";
import { capacitiesFor } from "./sandboxPoolOperations.js";

/** Default VM size of a new cluster's sandbox pool (the AKS Pod Sandboxing docs' example). */
export const DEFAULT_NODE_VM_SIZE = "Standard_D4s_v3";
/** Default pool name `enable-sandboxing` adds. */
export const DEFAULT_SANDBOX_POOL_NAME = "sandbox";

/** `PUT …/clusters/{clusterName}` body (API.md, Clusters). */
export interface CreateClusterBody {
  location: string;
  kubernetesVersion?: string;
  nodeVmSize?: string;
  nodeCount?: number;
}

/** `POST …/enable-sandboxing` body (optional): the sandbox pool to add when the cluster has none. */
export interface EnableSandboxingBody {
  poolName?: string;
  vmSize?: string;
  nodeCount?: number;
}

function clusterOf(params: Readonly<Record<string, string>>): ClusterRef {
  return { subscriptionId: params.subscriptionId ?? "", resourceGroup: params.resourceGroup ?? "", clusterName: params.clusterName ?? "" };
}

function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
}

/** Is the runtime class visible through the cluster's Kubernetes API? `undefined` with a reason when it could not be asked. */
async function runtimeClassFound(cluster: ClusterRef, state: ManagedClusterState): Promise<{ found: boolean | undefined; reason?: string }> {
  const s = services();
  if (state.provisioningState === "Creating" || state.provisioningState === "Deleting") return { found: undefined, reason: `The cluster is ${state.provisioningState}.` };
  try {
    const kube = await s.kubernetes.forCluster(cluster);
    return { found: (await kube.getRuntimeClass(sandboxFlavor(s.configuration.flavor).runtimeClassName)) !== undefined };
  } catch (error) {
    // The view still answers: readiness is simply unconfirmed.
    return { found: undefined, reason: `The cluster's Kubernetes API could not be asked: ${error instanceof SandboxError ? error.message : "unexpected error"}` };
  }
}

/** The cluster view: ARM state + the RuntimeClass through Kubernetes + capacity from the SKU API. */
async function viewOf(cluster: ClusterRef, state: ManagedClusterState, requestId: string): Promise<ClusterView> {
  const flavor = sandboxFlavor(services().configuration.flavor);
  const [rc, caps] = await Promise.all([
    runtimeClassFound(cluster, state),
    capacitiesFor(cluster.subscriptionId, state.location, sandboxPoolsOf(state, flavor).map((p) => p.vmSize), requestId),
  ]);
  return clusterView(cluster, state, flavor, rc.found, (size) => (size ? caps.get(size.toLowerCase()) : undefined), rc.reason);
}

/** True when an existing cluster already is what the create body asks for (so the PUT changes nothing). */
function clusterMatches(state: ManagedClusterState, body: CreateClusterBody): boolean {
  if (normalizeLocation(state.location) !== normalizeLocation(body.location)) return false;
  if (body.kubernetesVersion !== undefined) {
    const want = body.kubernetesVersion.split(".");
    const have = state.kubernetesVersion.split(".");
    if (want.some((part, i) => have[i] !== part)) return false;
  }
  const system = state.pools.find((p) => poolNameOf(p) === "system") ?? state.pools.find((p) => p.mode === "System");
  if (!system) return false;
  return system.vmSize?.toLowerCase() === (body.nodeVmSize ?? DEFAULT_NODE_VM_SIZE).toLowerCase() && system.count === (body.nodeCount ?? 1);
}

/**
 * `createCluster`: an AKS cluster whose default (System) pool `system` runs
 * the flavour's sandbox runtime on Azure Linux (`nodeVmSize` default
 * Standard_D4s_v3, `nodeCount` default 1, `kubernetesVersion` AKS's default
 * when absent). The preflight (VM size in the location via the Compute SKU
 * API, generation 2, x64, nested virtualization, Kubernetes version when
 * given, cluster name, feature + provider in preview) runs before any ARM
 * write; `?dryRun=true` returns its report. An existing cluster that matches
 * the body answers 200 with its view (no ARM write); one that does not → 409.
 * Otherwise 202 `CreateCluster` (the resource group is created when missing).
 */
export const createCluster: OperationHandler<CreateClusterBody> = async ({ params, query, body, principal, requestId }) => {
  const s = services();
  const cluster = clusterOf(params);
  authorizeClusterAccess(principal, s.policy, cluster, "create");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const call = { correlationId: requestId };
  const vmSize = body.nodeVmSize ?? DEFAULT_NODE_VM_SIZE;
  const count = body.nodeCount ?? 1;

  const existing = await s.sandboxArm.getCluster(cluster, flavor.containerServiceApiVersion, call);
  if (existing && query.dryRun !== true) {
    if (clusterMatches(existing, body)) return { status: 200, body: await viewOf(cluster, existing, requestId) };
    throw new SandboxError(
      "Conflict",
      `Cluster "${cluster.clusterName}" already exists (${existing.location}, Kubernetes ${existing.kubernetesVersion}) with other settings. Add sandbox pools with PUT …/sandbox-pools/{poolName} or POST …/enable-sandboxing instead.`,
      { target: "clusterName" },
    );
  }
  const { report, sku } = await s.sandboxPoolPreflight.checkCluster({ cluster, location: body.location, kubernetesVersion: body.kubernetesVersion, vmSize, call });
  if (query.dryRun === true) return { status: 200, body: report };
  const refused = preflightError(report);
  if (refused) throw refused;

  const input: CreateClusterInput = {
    cluster,
    location: body.location,
    body: sandboxClusterBody(flavor, cluster, { location: body.location, ...(body.kubernetesVersion !== undefined ? { kubernetesVersion: body.kubernetesVersion } : {}), vmSize, count }),
    apiVersion: flavor.containerServiceApiVersion,
    ...(sku ? { capacities: { [vmSize.toLowerCase()]: poolCapacity(sku.vCpus, sku.memoryGiB) } } : {}),
  };
  return submitClusterOperation("CreateCluster", cluster, clusterPath(cluster), input, { principal, requestId });
};

/**
 * `getCluster`: the cluster from ARM with its sandbox pools (capacity from
 * the SKU API) and sandbox readiness: `sandbox.ready` is true only when the
 * flavour's RuntimeClass is confirmed through the cluster's Kubernetes API
 * and a sandbox pool is Succeeded with nodes.
 */
export const getCluster: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const cluster = clusterOf(params);
  authorizeClusterAccess(principal, s.policy, cluster, "read");
  const state = await s.sandboxArm.getCluster(cluster, sandboxFlavor(s.configuration.flavor).containerServiceApiVersion, { correlationId: requestId });
  if (!state) throw clusterNotFound(cluster);
  return { status: 200, body: await viewOf(cluster, state, requestId) };
};

/** `deleteCluster`: 202 `DeleteCluster` (queued behind other operations of ours on the cluster); 204 when it does not exist. */
export const deleteCluster: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const cluster = clusterOf(params);
  authorizeClusterAccess(principal, s.policy, cluster, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const state = await s.sandboxArm.getCluster(cluster, flavor.containerServiceApiVersion, { correlationId: requestId });
  if (!state) return { status: 204 };
  const input: DeleteClusterInput = { cluster, apiVersion: flavor.containerServiceApiVersion };
  return submitClusterOperation("DeleteCluster", cluster, clusterPath(cluster), input, { principal, requestId });
};

/**
 * `enableSandboxing` — the `az aks update` step (see `enableSandboxingKind`):
 * a managed-cluster PUT of the cluster as it is, plus a User pool with the
 * sandbox runtime (`poolName` default `sandbox`, `vmSize` default
 * Standard_D4s_v3, `nodeCount` default 1) when no pool runs it, then the
 * RuntimeClass confirmed through Kubernetes. The new pool goes through the
 * same preflight as `putSandboxPool` before any ARM write. Already enabled
 * (a Succeeded sandbox pool and the RuntimeClass visible) → 200 with the
 * cluster view, no ARM write. Otherwise 202 `EnableSandboxing`.
 */
export const enableSandboxing: OperationHandler<EnableSandboxingBody | undefined> = async ({ params, body, principal, requestId }) => {
  const s = services();
  const cluster = clusterOf(params);
  authorizeClusterAccess(principal, s.policy, cluster, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const call = { correlationId: requestId };
  const state = await s.sandboxArm.getCluster(cluster, flavor.containerServiceApiVersion, call);
  if (!state) throw clusterNotFound(cluster);
  const sandboxPools = sandboxPoolsOf(state, flavor);
  const view = await viewOf(cluster, state, requestId);
  if (view.sandbox.ready) return { status: 200, body: view };

  let addPool: EnableSandboxingInput["addPool"];
  let capacities: EnableSandboxingInput["capacities"];
  const poolName = body?.poolName ?? DEFAULT_SANDBOX_POOL_NAME;
  if (sandboxPools.length === 0) {
    const vmSize = body?.vmSize ?? DEFAULT_NODE_VM_SIZE;
    const { report, sku } = await s.sandboxPoolPreflight.checkPool({ ...cluster, poolName }, state, vmSize, undefined, call);
    const refused = preflightError(report);
    if (refused) throw refused;
    if (state.pools.some((p) => poolNameOf(p) === poolName)) {
      throw new SandboxError("Conflict", `Pool "${poolName}" exists and does not run ${flavor.workloadRuntime}; AKS cannot change a pool's workload runtime. Pass another poolName.`, { target: "poolName" });
    }
    addPool = { name: poolName, vmSize, count: body?.nodeCount ?? 1 };
    if (sku) capacities = { [vmSize.toLowerCase()]: poolCapacity(sku.vCpus, sku.memoryGiB) };
  } else if (state.provisioningState !== "Succeeded") {
    throw new SandboxError("Conflict", `Cluster "${cluster.clusterName}" is ${state.provisioningState}; enable sandboxing once it is Succeeded.`, { target: "clusterName" });
  } else if (compareVersions(state.kubernetesVersion, s.configuration.minKubernetesVersion) < 0) {
    throw new SandboxError("KubernetesVersionTooOld", `Cluster "${cluster.clusterName}" runs Kubernetes ${state.kubernetesVersion}; Pod Sandboxing needs ${s.configuration.minKubernetesVersion} or later. Upgrade the cluster (az aks upgrade) first.`, { target: "kubernetesVersion" });
  }
  const input: EnableSandboxingInput = { cluster, apiVersion: flavor.containerServiceApiVersion, ...(addPool ? { addPool } : {}), ...(capacities ? { capacities } : {}) };
  return submitClusterOperation("EnableSandboxing", cluster, `${clusterPath(cluster)}/enable-sandboxing`, input, { principal, requestId });
};
