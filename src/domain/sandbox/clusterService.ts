import type { ClusterKubernetesFactory } from "../kubernetes/clusterKubernetes.js";
import {
  sandboxClusterBody,
  type CreateClusterInput,
  type DeleteClusterInput,
  type EnableSandboxingInput,
} from "../operations/kinds/clusterKinds.js";
import {
  submitClusterOperation,
  type Caller,
  type OperationSubmitter,
  type UseCaseOutcome,
} from "../operations/operationSubmission.js";
import { authorizeClusterAccess, clusterNotFound } from "../policy/authorization.js";
import type { SandboxPolicy } from "../policy/policy.js";
import { SandboxError } from "../sandboxError.js";
import type { ClusterRef } from "./clusterRef.js";
import { clusterPath, clusterView, poolNameOf, sandboxPoolsOf, type ClusterView } from "./clusterView.js";
import { poolCapacity } from "./poolCapacity.js";
import { compareVersions, preflightError, type PreflightReport } from "./poolPreflight.js";
import type { ManagedClusterState, SandboxArm } from "./sandboxArm.js";
import type { SandboxFlavorNames } from "./sandboxFlavor.js";
import type { SandboxPreflightService } from "./sandboxPreflight.js";
import { capacitiesFor } from "./vmSizeCapacities.js";

/** Default VM size of a new cluster's sandbox pool (the AKS Pod Sandboxing docs' example). */
export const DEFAULT_NODE_VM_SIZE = "Standard_D4s_v3";
/** Default pool name `enable-sandboxing` adds. */
export const DEFAULT_SANDBOX_POOL_NAME = "sandbox";

/** `PUT …/clusters/{clusterName}` body (docs/api-conventions.md, Clusters). */
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

export interface ClusterServiceDependencies {
  readonly policy: SandboxPolicy;
  /** Synchronous ARM reads of clusters and VM sizes. */
  readonly arm: SandboxArm;
  readonly kubernetes: ClusterKubernetesFactory;
  readonly flavor: SandboxFlavorNames;
  readonly preflight: SandboxPreflightService;
  readonly operations: OperationSubmitter;
  /** SANDBOX_MIN_KUBERNETES_VERSION. */
  readonly minKubernetesVersion: string;
}

function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
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
  return (
    system.vmSize?.toLowerCase() === (body.nodeVmSize ?? DEFAULT_NODE_VM_SIZE).toLowerCase() &&
    system.count === (body.nodeCount ?? 1)
  );
}

/**
 * The cluster use cases: create (preflight, then `CreateCluster`), read
 * (ARM state + RuntimeClass through Kubernetes + capacity), delete, and
 * enable sandboxing on an existing cluster.
 */
export class ClusterService {
  readonly #deps: ClusterServiceDependencies;

  constructor(deps: ClusterServiceDependencies) {
    this.#deps = deps;
  }

  /** Is the runtime class visible through the cluster's Kubernetes API? `undefined` with a reason when it could not be asked. */
  async #runtimeClassFound(
    cluster: ClusterRef,
    state: ManagedClusterState,
  ): Promise<{ found: boolean | undefined; reason?: string }> {
    if (state.provisioningState === "Creating" || state.provisioningState === "Deleting")
      return { found: undefined, reason: `The cluster is ${state.provisioningState}.` };
    try {
      const kube = await this.#deps.kubernetes.forCluster(cluster);
      return { found: (await kube.getRuntimeClass(this.#deps.flavor.runtimeClassName)) !== undefined };
    } catch (error) {
      // The view still answers: readiness is simply unconfirmed.
      return {
        found: undefined,
        reason: `The cluster's Kubernetes API could not be asked: ${error instanceof SandboxError ? error.message : "unexpected error"}`,
      };
    }
  }

  /** The cluster view: ARM state + the RuntimeClass through Kubernetes + capacity from the SKU API. */
  async #viewOf(cluster: ClusterRef, state: ManagedClusterState, requestId: string): Promise<ClusterView> {
    const flavor = this.#deps.flavor;
    const [rc, caps] = await Promise.all([
      this.#runtimeClassFound(cluster, state),
      capacitiesFor(
        this.#deps.arm,
        cluster.subscriptionId,
        state.location,
        sandboxPoolsOf(state, flavor).map((p) => p.vmSize),
        requestId,
      ),
    ]);
    return clusterView(
      cluster,
      state,
      flavor,
      rc.found,
      (size) => (size ? caps.get(size.toLowerCase()) : undefined),
      rc.reason,
    );
  }

  /**
   * `createCluster`: an AKS cluster whose default (System) pool `system` runs
   * the flavour's sandbox runtime on Azure Linux (`nodeVmSize` default
   * Standard_D4s_v3, `nodeCount` default 1, `kubernetesVersion` AKS's default
   * when absent). The preflight (VM size in the location via the Compute SKU
   * API, generation 2, x64, nested virtualization, Kubernetes version when
   * given, cluster name, feature + provider in preview) runs before any ARM
   * write; `dryRun` returns its report. An existing cluster that matches
   * the body answers its view (no ARM write); one that does not → 409.
   * Otherwise `CreateCluster` is accepted (the resource group is created when missing).
   */
  async create(
    cluster: ClusterRef,
    body: CreateClusterBody,
    dryRun: boolean,
    caller: Caller,
  ): Promise<UseCaseOutcome<ClusterView | PreflightReport>> {
    const { policy, flavor } = this.#deps;
    authorizeClusterAccess(caller.principal, policy, cluster, "create");
    const call = { correlationId: caller.requestId };
    const vmSize = body.nodeVmSize ?? DEFAULT_NODE_VM_SIZE;
    const count = body.nodeCount ?? 1;

    const existing = await this.#deps.arm.getCluster(cluster, flavor.containerServiceApiVersion, call);
    if (existing && !dryRun) {
      if (clusterMatches(existing, body))
        return { type: "done", body: await this.#viewOf(cluster, existing, caller.requestId) };
      throw new SandboxError(
        "Conflict",
        `Cluster "${cluster.clusterName}" already exists (${existing.location}, Kubernetes ${existing.kubernetesVersion}) with other settings. Add sandbox pools with PUT …/sandbox-pools/{poolName} or POST …/enable-sandboxing instead.`,
        { target: "clusterName" },
      );
    }
    const { report, sku } = await this.#deps.preflight.checkCluster({
      cluster,
      location: body.location,
      kubernetesVersion: body.kubernetesVersion,
      vmSize,
      call,
    });
    if (dryRun) return { type: "done", body: report };
    const refused = preflightError(report);
    if (refused) throw refused;

    const input: CreateClusterInput = {
      cluster,
      location: body.location,
      body: sandboxClusterBody(flavor, cluster, {
        location: body.location,
        ...(body.kubernetesVersion !== undefined ? { kubernetesVersion: body.kubernetesVersion } : {}),
        vmSize,
        count,
      }),
      apiVersion: flavor.containerServiceApiVersion,
      ...(sku ? { capacities: { [vmSize.toLowerCase()]: poolCapacity(sku.vCpus, sku.memoryGiB) } } : {}),
    };
    return submitClusterOperation(this.#deps.operations, "CreateCluster", cluster, clusterPath(cluster), input, caller);
  }

  /**
   * `getCluster`: the cluster from ARM with its sandbox pools (capacity from
   * the SKU API) and sandbox readiness: `sandbox.ready` is true only when the
   * flavour's RuntimeClass is confirmed through the cluster's Kubernetes API
   * and a sandbox pool is Succeeded with nodes.
   */
  async get(cluster: ClusterRef, caller: Caller): Promise<ClusterView> {
    authorizeClusterAccess(caller.principal, this.#deps.policy, cluster, "read");
    const state = await this.#deps.arm.getCluster(cluster, this.#deps.flavor.containerServiceApiVersion, {
      correlationId: caller.requestId,
    });
    if (!state) throw clusterNotFound(cluster);
    return this.#viewOf(cluster, state, caller.requestId);
  }

  /** `deleteCluster`: `DeleteCluster` (queued behind other operations of ours on the cluster); absent when it does not exist. */
  async delete(cluster: ClusterRef, caller: Caller): Promise<UseCaseOutcome<never>> {
    authorizeClusterAccess(caller.principal, this.#deps.policy, cluster, "change");
    const flavor = this.#deps.flavor;
    const state = await this.#deps.arm.getCluster(cluster, flavor.containerServiceApiVersion, {
      correlationId: caller.requestId,
    });
    if (!state) return { type: "absent" };
    const input: DeleteClusterInput = { cluster, apiVersion: flavor.containerServiceApiVersion };
    return submitClusterOperation(this.#deps.operations, "DeleteCluster", cluster, clusterPath(cluster), input, caller);
  }

  /**
   * `enableSandboxing` — the `az aks update` step (see `enableSandboxingKind`):
   * a managed-cluster PUT of the cluster as it is, plus a User pool with the
   * sandbox runtime (`poolName` default `sandbox`, `vmSize` default
   * Standard_D4s_v3, `nodeCount` default 1) when no pool runs it, then the
   * RuntimeClass confirmed through Kubernetes. The new pool goes through the
   * same preflight as `putSandboxPool` before any ARM write. Already enabled
   * (a Succeeded sandbox pool and the RuntimeClass visible) → the cluster
   * view, no ARM write. Otherwise `EnableSandboxing` is accepted.
   */
  async enableSandboxing(
    cluster: ClusterRef,
    body: EnableSandboxingBody | undefined,
    caller: Caller,
  ): Promise<UseCaseOutcome<ClusterView>> {
    const { policy, flavor, minKubernetesVersion } = this.#deps;
    authorizeClusterAccess(caller.principal, policy, cluster, "change");
    const call = { correlationId: caller.requestId };
    const state = await this.#deps.arm.getCluster(cluster, flavor.containerServiceApiVersion, call);
    if (!state) throw clusterNotFound(cluster);
    const sandboxPools = sandboxPoolsOf(state, flavor);
    const view = await this.#viewOf(cluster, state, caller.requestId);
    if (view.sandbox.ready) return { type: "done", body: view };

    let addPool: EnableSandboxingInput["addPool"];
    let capacities: EnableSandboxingInput["capacities"];
    const poolName = body?.poolName ?? DEFAULT_SANDBOX_POOL_NAME;
    if (sandboxPools.length === 0) {
      const vmSize = body?.vmSize ?? DEFAULT_NODE_VM_SIZE;
      const { report, sku } = await this.#deps.preflight.checkPool(
        { ...cluster, poolName },
        state,
        vmSize,
        undefined,
        call,
      );
      const refused = preflightError(report);
      if (refused) throw refused;
      if (state.pools.some((p) => poolNameOf(p) === poolName)) {
        throw new SandboxError(
          "Conflict",
          `Pool "${poolName}" exists and does not run ${flavor.workloadRuntime}; AKS cannot change a pool's workload runtime. Pass another poolName.`,
          { target: "poolName" },
        );
      }
      addPool = { name: poolName, vmSize, count: body?.nodeCount ?? 1 };
      if (sku) capacities = { [vmSize.toLowerCase()]: poolCapacity(sku.vCpus, sku.memoryGiB) };
    } else if (state.provisioningState !== "Succeeded") {
      throw new SandboxError(
        "Conflict",
        `Cluster "${cluster.clusterName}" is ${state.provisioningState}; enable sandboxing once it is Succeeded.`,
        { target: "clusterName" },
      );
    } else if (compareVersions(state.kubernetesVersion, minKubernetesVersion) < 0) {
      throw new SandboxError(
        "KubernetesVersionTooOld",
        `Cluster "${cluster.clusterName}" runs Kubernetes ${state.kubernetesVersion}; Pod Sandboxing needs ${minKubernetesVersion} or later. Upgrade the cluster (az aks upgrade) first.`,
        { target: "kubernetesVersion" },
      );
    }
    const input: EnableSandboxingInput = {
      cluster,
      apiVersion: flavor.containerServiceApiVersion,
      ...(addPool ? { addPool } : {}),
      ...(capacities ? { capacities } : {}),
    };
    return submitClusterOperation(
      this.#deps.operations,
      "EnableSandboxing",
      cluster,
      `${clusterPath(cluster)}/enable-sandboxing`,
      input,
      caller,
    );
  }
}
