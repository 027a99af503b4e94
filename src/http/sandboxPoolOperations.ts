import { services } from "../composition.js";
import type { AgentPoolRef, AgentPoolSpec, ClusterRef } from "../domain/operations/armOperations.js";
import { poolMatches, type SandboxPoolBody } from "../domain/operations/kinds/sandboxPoolKinds.js";
import { authorizeClusterAccess, clusterNotFound, resourceNotFound } from "../domain/policy/authorization.js";
import { poolNameOf, poolWithCapacity, sandboxPoolsOf, type SandboxPoolWithCapacity } from "../domain/sandbox/clusterView.js";
import { poolCapacity, type PoolCapacity } from "../domain/sandbox/poolCapacity.js";
import { preflightError } from "../domain/sandbox/poolPreflight.js";
import type { ManagedClusterState } from "../domain/sandbox/sandboxArm.js";
import { sandboxFlavor } from "../domain/sandbox/sandboxFlavor.js";
import { SandboxError } from "../domain/sandboxError.js";
import type { OperationHandler } from "./httpOperation.js";
import { submitClusterOperation } from "./operationOperations.js";


function clusterOf(params: Readonly<Record<string, string>>): ClusterRef {
  return { subscriptionId: params.subscriptionId ?? "", resourceGroup: params.resourceGroup ?? "", clusterName: params.clusterName ?? "" };
}

function poolOf(params: Readonly<Record<string, string>>): AgentPoolRef {
  return { ...clusterOf(params), poolName: params.poolName ?? "" };
}

/** API path of a sandbox pool (the operation's `target`). */
export function sandboxPoolTarget(pool: AgentPoolRef): string {
  return `/subscriptions/${pool.subscriptionId}/resourceGroups/${pool.resourceGroup}/clusters/${pool.clusterName}/sandbox-pools/${pool.poolName}`;
}

/**
 * Capacity per VM size in the cluster's region (Compute SKU API, cached by
 * the adapter); sizes the API does not list get none.
 */
export async function capacitiesFor(subscriptionId: string, location: string, vmSizes: readonly (string | undefined)[], correlationId: string): Promise<Map<string, PoolCapacity>> {
  const s = services();
  const out = new Map<string, PoolCapacity>();
  for (const size of new Set(vmSizes.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()))) {
    const sku = await s.sandboxArm.getVmSku(subscriptionId, location, size, { correlationId });
    if (sku) out.set(size, poolCapacity(sku.vCpus, sku.memoryGiB));
  }
  return out;
}

async function sandboxPoolViews(cluster: ClusterRef, state: ManagedClusterState, correlationId: string): Promise<SandboxPoolWithCapacity[]> {
  const flavor = sandboxFlavor(services().configuration.flavor);
  const pools = sandboxPoolsOf(state, flavor);
  const caps = await capacitiesFor(cluster.subscriptionId, state.location, pools.map((p) => p.vmSize), correlationId);
  return pools.map((p) => poolWithCapacity(poolNameOf(p), p, p.vmSize ? caps.get(p.vmSize.toLowerCase()) : undefined));
}

/**
 * `putSandboxPool`: creates (or scales) a sandbox node pool. The preflight
 * runs every check before any ARM write (cluster Succeeded, Kubernetes ≥
 * SANDBOX_MIN_KUBERNETES_VERSION, VM size offered in the region, generation
 * 2, x64, nested virtualization, OS SKU AzureLinux, pool name, feature and
 * provider registered in preview); `?dryRun=true` returns the whole report
 * (200) and changes nothing; a failure answers its check's code (422/409/404/400)
 * with every failing check in `details`. A pool already in the requested
 * state answers 200 with its view (no ARM write). Otherwise 202
 * `CreateSandboxPool` (queued behind other operations of ours on the
 * cluster), which succeeds once the RuntimeClass is visible through
 * Kubernetes; its result is the pool view with capacity.
 */
export const putSandboxPool: OperationHandler<SandboxPoolBody> = async ({ params, query, body, principal, requestId }) => {
  const s = services();
  const pool = poolOf(params);
  authorizeClusterAccess(principal, s.policy, pool, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const call = { correlationId: requestId };
  const spec: AgentPoolSpec = {
    vmSize: body.vmSize,
    count: body.nodeCount,
    mode: "User",
    osType: "Linux",
    osSKU: flavor.osSku,
    workloadRuntime: flavor.workloadRuntime,
    ...(body.maxPods !== undefined ? { maxPods: body.maxPods } : {}),
    ...(body.labels !== undefined ? { nodeLabels: body.labels } : {}),
    ...(body.taints !== undefined ? { nodeTaints: body.taints } : {}),
  };

  const cluster = await s.sandboxArm.getCluster(pool, flavor.containerServiceApiVersion, call);
  const { report, sku } = await s.sandboxPoolPreflight.checkPool(pool, cluster, spec.vmSize, body.osSku, call);
  if (query.dryRun === true) return { status: 200, body: report };
  const refused = preflightError(report);
  if (refused) throw refused;
  const capacity = sku ? poolCapacity(sku.vCpus, sku.memoryGiB) : undefined;

  const current = await s.arm.getAgentPool(pool, flavor.containerServiceApiVersion, call);
  if (current && current.workloadRuntime !== flavor.workloadRuntime) {
    throw new SandboxError("Conflict", `Pool "${pool.poolName}" exists and runs ${current.workloadRuntime ?? "OCIContainer"}, not ${flavor.workloadRuntime}; AKS cannot change a pool's workload runtime. Pick another pool name.`, { target: "poolName" });
  }
  if (current && current.provisioningState === "Succeeded" && poolMatches(current, spec)) {
    return { status: 200, body: poolWithCapacity(pool.poolName, current, capacity) };
  }
  return submitClusterOperation("CreateSandboxPool", pool, sandboxPoolTarget(pool), { pool, spec, apiVersion: flavor.containerServiceApiVersion, ...(capacity ? { capacity } : {}) }, { principal, requestId });
};

/** `getSandboxPool`: the pool view with capacity. 404 when the cluster or the pool is missing, or the pool does not run the sandbox runtime. */
export const getSandboxPool: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const pool = poolOf(params);
  authorizeClusterAccess(principal, s.policy, pool, "read");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const cluster = await s.sandboxArm.getCluster(pool, flavor.containerServiceApiVersion, { correlationId: requestId });
  if (!cluster) throw clusterNotFound(pool);
  const views = await sandboxPoolViews(pool, { ...cluster, pools: cluster.pools.filter((p) => poolNameOf(p) === pool.poolName) }, requestId);
  const view = views[0];
  if (!view) throw resourceNotFound("sandbox pool", pool.poolName);
  return { status: 200, body: view };
};

/** `listSandboxPools`: the cluster's pools that run the sandbox runtime, with capacity (`{value}`; AKS allows at most 100 pools, so no paging). */
export const listSandboxPools: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const cluster = clusterOf(params);
  authorizeClusterAccess(principal, s.policy, cluster, "read");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const state = await s.sandboxArm.getCluster(cluster, flavor.containerServiceApiVersion, { correlationId: requestId });
  if (!state) throw clusterNotFound(cluster);
  return { status: 200, body: { value: await sandboxPoolViews(cluster, state, requestId) } };
};

/**
 * `deleteSandboxPool`: 202 `DeleteSandboxPool` (queued like other
 * operations on the cluster); 204 when the pool does not exist. Pools that
 * do not run the sandbox runtime (e.g. the system pool) are not sandbox
 * pools: 404, nothing is deleted.
 */
export const deleteSandboxPool: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const pool = poolOf(params);
  authorizeClusterAccess(principal, s.policy, pool, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const current = await s.arm.getAgentPool(pool, flavor.containerServiceApiVersion, { correlationId: requestId });
  if (!current) return { status: 204 };
  if (current.workloadRuntime !== flavor.workloadRuntime) throw resourceNotFound("sandbox pool", pool.poolName);
  return submitClusterOperation("DeleteSandboxPool", pool, sandboxPoolTarget(pool), { pool, apiVersion: flavor.containerServiceApiVersion }, { principal, requestId });
};
