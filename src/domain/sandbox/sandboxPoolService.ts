import type { AgentPoolRef, AgentPoolSpec, ArmOperations } from "../operations/armOperations.js";
import { poolMatches, type SandboxPoolBody, type SandboxPoolInput } from "../operations/kinds/sandboxPoolKinds.js";
import {
  submitClusterOperation,
  type Caller,
  type OperationSubmitter,
  type UseCaseOutcome,
} from "../operations/operationSubmission.js";
import { authorizeClusterAccess, clusterNotFound, resourceNotFound } from "../policy/authorization.js";
import type { SandboxPolicy } from "../policy/policy.js";
import { SandboxError } from "../sandboxError.js";
import type { ClusterRef } from "./clusterRef.js";
import { poolNameOf, poolWithCapacity, sandboxPoolsOf, type SandboxPoolWithCapacity } from "./clusterView.js";
import { poolCapacity } from "./poolCapacity.js";
import { preflightError, type PreflightReport } from "./poolPreflight.js";
import type { ManagedClusterState, SandboxArm } from "./sandboxArm.js";
import type { SandboxFlavorNames } from "./sandboxFlavor.js";
import type { SandboxPreflightService } from "./sandboxPreflight.js";
import { capacitiesFor } from "./vmSizeCapacities.js";
import { checkSandboxPoolTaints } from "./poolTaints.js";

export interface SandboxPoolServiceDependencies {
  readonly policy: SandboxPolicy;
  /** Synchronous ARM reads of clusters and VM sizes. */
  readonly sandboxArm: SandboxArm;
  /** Agent pool reads. */
  readonly arm: Pick<ArmOperations, "getAgentPool">;
  readonly flavor: SandboxFlavorNames;
  readonly preflight: SandboxPreflightService;
  readonly operations: OperationSubmitter;
}

/** API path of a sandbox pool (the operation's `target`). */
export function sandboxPoolTarget(pool: AgentPoolRef): string {
  return `/subscriptions/${pool.subscriptionId}/resourceGroups/${pool.resourceGroup}/clusters/${pool.clusterName}/sandbox-pools/${pool.poolName}`;
}

/** The sandbox-pool use cases: put (preflight, then `CreateSandboxPool`), get, list, delete. */
export class SandboxPoolService {
  readonly #deps: SandboxPoolServiceDependencies;

  constructor(deps: SandboxPoolServiceDependencies) {
    this.#deps = deps;
  }

  async #views(
    cluster: ClusterRef,
    state: ManagedClusterState,
    correlationId: string,
  ): Promise<SandboxPoolWithCapacity[]> {
    const pools = sandboxPoolsOf(state, this.#deps.flavor);
    const caps = await capacitiesFor(
      this.#deps.sandboxArm,
      cluster.subscriptionId,
      state.location,
      pools.map((p) => p.vmSize),
      correlationId,
    );
    return pools.map((p) =>
      poolWithCapacity(poolNameOf(p), p, p.vmSize ? caps.get(p.vmSize.toLowerCase()) : undefined),
    );
  }

  /**
   * `putSandboxPool`: creates (or scales) a sandbox node pool. The preflight
   * runs every check before any ARM write (cluster Succeeded, Kubernetes ≥
   * SANDBOX_MIN_KUBERNETES_VERSION, VM size offered in the region, generation
   * 2, x64, nested virtualization, OS SKU AzureLinux, pool name, feature and
   * provider registered in preview); `dryRun` returns the whole report and
   * changes nothing; a failure throws its check's code (422/409/404/400)
   * with every failing check in `details`. A pool already in the requested
   * state answers its view (no ARM write). Otherwise `CreateSandboxPool`
   * (queued behind other operations of ours on the cluster), which succeeds
   * once the RuntimeClass is visible through Kubernetes; its result is the
   * pool view with capacity.
   */
  async put(
    pool: AgentPoolRef,
    body: SandboxPoolBody,
    dryRun: boolean,
    caller: Caller,
  ): Promise<UseCaseOutcome<SandboxPoolWithCapacity | PreflightReport>> {
    const { policy, flavor } = this.#deps;
    authorizeClusterAccess(caller.principal, policy, pool, "change");
    const call = { correlationId: caller.requestId };
    checkSandboxPoolTaints(body.taints);
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

    const cluster = await this.#deps.sandboxArm.getCluster(pool, flavor.containerServiceApiVersion, call);
    const { report, sku } = await this.#deps.preflight.checkPool(pool, cluster, spec.vmSize, body.osSku, call);
    if (dryRun) return { type: "done", body: report };
    const refused = preflightError(report);
    if (refused) throw refused;
    const capacity = sku ? poolCapacity(sku.vCpus, sku.memoryGiB) : undefined;

    const current = await this.#deps.arm.getAgentPool(pool, flavor.containerServiceApiVersion, call);
    if (current && current.workloadRuntime !== flavor.workloadRuntime) {
      throw new SandboxError(
        "Conflict",
        `Pool "${pool.poolName}" exists and runs ${current.workloadRuntime ?? "OCIContainer"}, not ${flavor.workloadRuntime}; AKS cannot change a pool's workload runtime. Pick another pool name.`,
        { target: "poolName" },
      );
    }
    if (current && current.provisioningState === "Succeeded" && poolMatches(current, spec)) {
      return { type: "done", body: poolWithCapacity(pool.poolName, current, capacity) };
    }
    const input: SandboxPoolInput = {
      pool,
      spec,
      apiVersion: flavor.containerServiceApiVersion,
      ...(capacity ? { capacity } : {}),
    };
    return submitClusterOperation(
      this.#deps.operations,
      "CreateSandboxPool",
      pool,
      sandboxPoolTarget(pool),
      input,
      caller,
    );
  }

  /** `getSandboxPool`: the pool view with capacity. 404 when the cluster or the pool is missing, or the pool does not run the sandbox runtime. */
  async get(pool: AgentPoolRef, caller: Caller): Promise<SandboxPoolWithCapacity> {
    authorizeClusterAccess(caller.principal, this.#deps.policy, pool, "read");
    const cluster = await this.#deps.sandboxArm.getCluster(pool, this.#deps.flavor.containerServiceApiVersion, {
      correlationId: caller.requestId,
    });
    if (!cluster) throw clusterNotFound(pool);
    const views = await this.#views(
      pool,
      { ...cluster, pools: cluster.pools.filter((p) => poolNameOf(p) === pool.poolName) },
      caller.requestId,
    );
    const view = views[0];
    if (!view) throw resourceNotFound("sandbox pool", pool.poolName);
    return view;
  }

  /** `listSandboxPools`: the cluster's pools that run the sandbox runtime, with capacity (AKS allows at most 100 pools, so no paging). */
  async list(cluster: ClusterRef, caller: Caller): Promise<SandboxPoolWithCapacity[]> {
    authorizeClusterAccess(caller.principal, this.#deps.policy, cluster, "read");
    const state = await this.#deps.sandboxArm.getCluster(cluster, this.#deps.flavor.containerServiceApiVersion, {
      correlationId: caller.requestId,
    });
    if (!state) throw clusterNotFound(cluster);
    return this.#views(cluster, state, caller.requestId);
  }

  /**
   * `deleteSandboxPool`: `DeleteSandboxPool` (queued like other operations on
   * the cluster); absent when the pool does not exist. Pools that do not run
   * the sandbox runtime (e.g. the system pool) are not sandbox pools: 404,
   * nothing is deleted.
   */
  async delete(pool: AgentPoolRef, caller: Caller): Promise<UseCaseOutcome<never>> {
    authorizeClusterAccess(caller.principal, this.#deps.policy, pool, "change");
    const flavor = this.#deps.flavor;
    const current = await this.#deps.arm.getAgentPool(pool, flavor.containerServiceApiVersion, {
      correlationId: caller.requestId,
    });
    if (!current) return { type: "absent" };
    if (current.workloadRuntime !== flavor.workloadRuntime) throw resourceNotFound("sandbox pool", pool.poolName);
    const input: SandboxPoolInput = { pool, apiVersion: flavor.containerServiceApiVersion };
    return submitClusterOperation(
      this.#deps.operations,
      "DeleteSandboxPool",
      pool,
      sandboxPoolTarget(pool),
      input,
      caller,
    );
  }
}
