import type { ClusterKubernetesFactory } from "../../kubernetes/clusterKubernetes.js";
import { SandboxError } from "../../sandboxError.js";
import { clusterView, managedClusterStateOf, poolNameOf, sandboxPoolsOf } from "../../sandbox/clusterView.js";
import type { PoolCapacity } from "../../sandbox/poolCapacity.js";
import type { SandboxArm } from "../../sandbox/sandboxArm.js";
import type { SandboxFlavorNames } from "../../sandbox/sandboxFlavor.js";
import type { ArmLroRequest, ClusterRef } from "../armOperations.js";
import type { OperationKindDefinition } from "../operationKinds.js";
import { actionStep, lroStep, type StepContext, type StepDefinition } from "../steps.js";
import { waitForRuntimeClassStep } from "./sandboxPoolRuntimeClassStep.js";
import type { SandboxPoolInput } from "./sandboxPoolKinds.js";

/** Input of `CreateCluster` (stored in the row; no secrets). */
export interface CreateClusterInput {
  cluster: ClusterRef;
  location: string;
  /** The ManagedCluster as the SDK models it (flattened): see {@link sandboxClusterBody}. */
  body: Record<string, unknown>;
  apiVersion: string;
  /** Capacity per VM size of the new pools (from the preflight's SKU lookup). */
  capacities?: Record<string, PoolCapacity>;
}

/** Input of `DeleteCluster`. */
export interface DeleteClusterInput {
  cluster: ClusterRef;
  apiVersion: string;
}

/** Input of `EnableSandboxing`. */
export interface EnableSandboxingInput {
  cluster: ClusterRef;
  apiVersion: string;
  /** The sandbox pool to add when the cluster has none. */
  addPool?: { name: string; vmSize: string; count: number };
  capacities?: Record<string, PoolCapacity>;
}

/** The default pool of a new cluster: the sandbox runtime on Azure Linux (`az aks create --os-sku AzureLinux --workload-runtime …`). */
export function sandboxPoolProfile(
  flavor: SandboxFlavorNames,
  name: string,
  vmSize: string,
  count: number,
  mode: "System" | "User",
): Record<string, unknown> {
  return { name, count, vmSize, mode, osType: "Linux", osSKU: flavor.osSku, workloadRuntime: flavor.workloadRuntime };
}

/**
 * A DNS prefix AKS accepts for a cluster name: 1–54 characters, letters,
 * digits and hyphens, starting and ending with a letter or digit (cluster
 * names may also hold `_`, and may start or end with one).
 */
export function dnsPrefixFor(clusterName: string): string {
  const trim = (s: string): string => s.replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, "");
  return trim(trim(clusterName.replace(/[^a-zA-Z0-9-]+/g, "-")).slice(0, 54)) || "aks";
}

/**
 * The ManagedCluster PUT body of `CreateCluster` (SDK model, flattened): a
 * system-assigned identity, DNS prefix from the name, the requested
 * Kubernetes version (AKS's default when absent) and one System pool
 * `system` running the flavour's sandbox runtime.
 */
export function sandboxClusterBody(
  flavor: SandboxFlavorNames,
  cluster: ClusterRef,
  options: { location: string; kubernetesVersion?: string; vmSize: string; count: number },
): Record<string, unknown> {
  const dnsPrefix = dnsPrefixFor(cluster.clusterName);
  return {
    location: options.location,
    identity: { type: "SystemAssigned" },
    dnsPrefix,
    ...(options.kubernetesVersion !== undefined ? { kubernetesVersion: options.kubernetesVersion } : {}),
    agentPoolProfiles: [sandboxPoolProfile(flavor, "system", options.vmSize, options.count, "System")],
    // Azure CNI powered by Cilium: the network policy engine that enforces the jobs' NetworkPolicies.
    networkProfile: { ...SANDBOX_NETWORK_PROFILE },
  };
}

/** The network profile of clusters the product creates (AKS swagger `ContainerServiceNetworkProfile`). */
export const SANDBOX_NETWORK_PROFILE = Object.freeze({
  networkPlugin: "azure",
  networkPluginMode: "overlay",
  networkDataplane: "cilium",
  networkPolicy: "cilium",
});

const BUSY = ["Creating", "Updating", "Scaling", "Upgrading", "Deleting", "Starting", "Stopping"];

/** Dependencies of the cluster kinds. */
export interface ClusterKindDependencies {
  readonly arm: SandboxArm;
  readonly kubernetes: ClusterKubernetesFactory;
  readonly flavor: SandboxFlavorNames;
}

function viewResult(
  deps: ClusterKindDependencies,
  data: Readonly<Record<string, unknown>>,
  i: Readonly<{ cluster: ClusterRef; capacities?: Record<string, PoolCapacity> }>,
): unknown {
  const resource = data.cluster as Record<string, unknown> | undefined;
  if (!resource) return undefined;
  const state = managedClusterStateOf(resource, i.cluster.clusterName);
  const caps = i.capacities ?? {};
  return clusterView(i.cluster, state, deps.flavor, data.runtimeClass !== undefined, (size) =>
    size ? caps[size.toLowerCase()] : undefined,
  );
}

/** A cluster resource small enough for the row: only what the view needs. */
function compactCluster(resource: unknown): Record<string, unknown> {
  const r = (resource ?? {}) as Record<string, unknown>;
  const profiles = Array.isArray(r.agentPoolProfiles) ? (r.agentPoolProfiles as Record<string, unknown>[]) : [];
  const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> =>
    Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return {
    ...pick(r, ["id", "name", "location", "kubernetesVersion", "currentKubernetesVersion", "provisioningState"]),
    ...(r.networkProfile && typeof r.networkProfile === "object"
      ? {
          networkProfile: pick(r.networkProfile as Record<string, unknown>, [
            "networkPlugin",
            "networkPluginMode",
            "networkDataplane",
            "networkPolicy",
          ]),
        }
      : {}),
    agentPoolProfiles: profiles.map((p) =>
      pick(p, ["name", "count", "vmSize", "mode", "osSKU", "workloadRuntime", "provisioningState"]),
    ),
  };
}

/**
 * `CreateCluster`: `EnsureResourceGroup` (created in the cluster's location
 * when missing), `CreateManagedCluster` (the managed-cluster PUT as an LRO;
 * its probe adopts a cluster an earlier crashed attempt created) and
 * `WaitForRuntimeClass`. Deadline 2 h. The result is the cluster view.
 */
export function createClusterKind(deps: ClusterKindDependencies): OperationKindDefinition<CreateClusterInput> {
  const inputOf = (c: StepContext<CreateClusterInput>): Readonly<CreateClusterInput> => c.input;
  return {
    kind: "CreateCluster",
    steps: [
      actionStep("EnsureResourceGroup", async (context) => {
        const i = inputOf(context);
        context.countArmCall();
        if (await deps.arm.resourceGroupExists(i.cluster.subscriptionId, i.cluster.resourceGroup, context.call))
          return { data: { resourceGroupCreated: false } };
        context.countArmCall();
        await deps.arm.createResourceGroup(i.cluster.subscriptionId, i.cluster.resourceGroup, i.location, context.call);
        return { data: { resourceGroupCreated: true } };
      }),
      lroStep({
        name: "CreateManagedCluster",
        typicalSeconds: 300,
        request: (context) => {
          const i = inputOf(context);
          return { kind: "managedClusterPut", cluster: i.cluster, body: i.body, apiVersion: i.apiVersion };
        },
        probe: async (context) => {
          const i = inputOf(context);
          context.countArmCall();
          const found = await deps.arm.getCluster(i.cluster, i.apiVersion, context.call);
          if (!found) return { type: "start" };
          if (BUSY.includes(found.provisioningState)) return { type: "inProgress" };
          if (found.provisioningState === "Succeeded") return { type: "done", result: found.resource };
          return { type: "start" };
        },
        onSucceeded: (result) => ({ data: { cluster: compactCluster(result) } }),
      }),
      waitForRuntimeClassStep({ kubernetes: deps.kubernetes, runtimeClassName: deps.flavor.runtimeClassName }),
    ],
    deadlineSeconds: 7200,
    result: (data, input) => viewResult(deps, data, input),
  };
}

/**
 * `DeleteCluster`: the managed-cluster DELETE as an LRO (a missing cluster
 * counts as deleted); the cached Kubernetes credentials of the cluster are
 * dropped. Deadline 2 h. Result `{name, deleted: true}`.
 */
export function deleteClusterKind(deps: ClusterKindDependencies): OperationKindDefinition<DeleteClusterInput> {
  const inputOf = (c: StepContext<DeleteClusterInput>): Readonly<DeleteClusterInput> => c.input;
  return {
    kind: "DeleteCluster",
    steps: [
      lroStep({
        name: "DeleteManagedCluster",
        typicalSeconds: 300,
        request: (context) => {
          const i = inputOf(context);
          return { kind: "managedClusterDelete", cluster: i.cluster, apiVersion: i.apiVersion };
        },
        probe: async (context) => {
          const i = inputOf(context);
          context.countArmCall();
          const found = await deps.arm.getCluster(i.cluster, i.apiVersion, context.call);
          if (!found) return { type: "done" };
          if (found.provisioningState === "Deleting") return { type: "inProgress" };
          return { type: "start" };
        },
        onSucceeded: (_result, context) => {
          const i = inputOf(context);
          deps.kubernetes.forget(i.cluster);
          return { data: { deleted: i.cluster.clusterName }, result: { name: i.cluster.clusterName, deleted: true } };
        },
      }),
    ],
    deadlineSeconds: 7200,
  };
}

/**
 * What the `az aks update` re-PUT must change: nothing, or one User pool
 * with the flavour's workload runtime when no pool runs it and `addPool` is
 * given. Reads the cluster (one ARM GET) to decide. The re-PUT itself
 * (`managedClusterUpdate`) reads the cluster again as raw JSON when it
 * starts and sends that document back unchanged but for this pool, so the
 * row never holds the cluster document (nor any secret in it).
 * @returns step data `{addAgentPool?, addedPool?}`
 */
async function sandboxingUpdateBody(
  deps: ClusterKindDependencies,
  cluster: ClusterRef,
  apiVersion: string,
  context: StepContext,
  addPool?: { name: string; vmSize: string; count: number },
): Promise<Record<string, unknown>> {
  context.countArmCall();
  const found = await deps.arm.getCluster(cluster, apiVersion, context.call);
  if (!found) throw new SandboxError("NotFound", `Cluster "${cluster.clusterName}" no longer exists.`);
  const hasSandboxPool = sandboxPoolsOf(found, deps.flavor).length > 0;
  if (hasSandboxPool || !addPool) return { addAgentPool: null };
  if (found.pools.some((p) => poolNameOf(p) === addPool.name)) {
    throw new SandboxError(
      "Conflict",
      `Pool "${addPool.name}" exists and does not run ${deps.flavor.workloadRuntime}; pick another poolName.`,
      { target: "poolName" },
    );
  }
  return {
    addAgentPool: sandboxPoolProfile(deps.flavor, addPool.name, addPool.vmSize, addPool.count, "User"),
    addedPool: addPool.name,
  };
}

/** The lossless re-PUT request of the update steps. */
function updateRequest(
  cluster: ClusterRef,
  apiVersion: string,
  data: Readonly<Record<string, unknown>>,
): ArmLroRequest {
  const addAgentPool = data.addAgentPool as Record<string, unknown> | null | undefined;
  return { kind: "managedClusterUpdate", cluster, apiVersion, ...(addAgentPool ? { addAgentPool } : {}) };
}

/** Runs `step` only when `needed`; otherwise the step is done at once (no ARM call). */
function onlyWhen<TInput extends object>(
  step: StepDefinition<TInput>,
  needed: (context: StepContext<TInput>) => boolean,
): StepDefinition<TInput> {
  return {
    ...step,
    async advance(context) {
      return needed(context) ? step.advance(context) : { type: "done" };
    },
  };
}

/**
 * The steps `CreateSandboxPool` appends after the agent pool PUT: wait for
 * the RuntimeClass; if it has not appeared after `giveUpAfterChecks` looks
 * (about 8 minutes of service time by default), run the enable-sandboxing
 * update (`az aks update`: the managed cluster re-PUT unchanged, which makes
 * AKS reconcile the sandbox runtime) and wait again. When the class shows up
 * in time, the update steps are done at once without an ARM call.
 */
export function runtimeClassOrEnableSandboxingSteps(
  deps: ClusterKindDependencies,
  giveUpAfterChecks = 12,
): StepDefinition<SandboxPoolInput>[] {
  const needed = (context: StepContext<SandboxPoolInput>): boolean => context.data.runtimeClassMissing === true;
  const cluster = (context: StepContext<SandboxPoolInput>): { cluster: ClusterRef; apiVersion: string } => {
    const i = context.input;
    return {
      cluster: {
        subscriptionId: i.pool.subscriptionId,
        resourceGroup: i.pool.resourceGroup,
        clusterName: i.pool.clusterName,
      },
      apiVersion: i.apiVersion,
    };
  };
  return [
    waitForRuntimeClassStep(
      { kubernetes: deps.kubernetes, runtimeClassName: deps.flavor.runtimeClassName },
      "WaitForRuntimeClass",
      { giveUpAfterChecks },
    ),
    onlyWhen(
      actionStep<SandboxPoolInput>("PrepareEnableSandboxing", async (context) => {
        const c = cluster(context);
        return { data: await sandboxingUpdateBody(deps, c.cluster, c.apiVersion, context) };
      }),
      needed,
    ),
    onlyWhen(
      lroStep<SandboxPoolInput>({
        name: "EnableSandboxing",
        typicalSeconds: 240,
        request: (context) => {
          const c = cluster(context);
          return updateRequest(c.cluster, c.apiVersion, context.data);
        },
      }),
      needed,
    ),
    onlyWhen(
      waitForRuntimeClassStep(
        { kubernetes: deps.kubernetes, runtimeClassName: deps.flavor.runtimeClassName },
        "ConfirmRuntimeClass",
      ),
      needed,
    ),
  ];
}

/**
 * `EnableSandboxing` — the `az aks update` step. At the ARM level:
 * 1. `PrepareUpdate` reads the managed cluster and builds the PUT body from
 *    it unchanged (as `az aks update` does: GET, then PUT of the same model),
 *    adding one User pool with the flavour's workload runtime (Azure Linux)
 *    when no pool runs it;
 * 2. `UpdateManagedCluster` PUTs that body (an LRO; AKS reconciles the
 *    cluster and installs the sandbox RuntimeClass for sandbox pools);
 * 3. `WaitForRuntimeClass` confirms the RuntimeClass through the cluster's
 *    Kubernetes API.
 * Existing pools are never converted (AKS cannot change a pool's workload
 * runtime in place). Deadline 2 h. The result is the cluster view.
 */
export function enableSandboxingKind(deps: ClusterKindDependencies): OperationKindDefinition<EnableSandboxingInput> {
  const inputOf = (c: StepContext<EnableSandboxingInput>): Readonly<EnableSandboxingInput> => c.input;
  return {
    kind: "EnableSandboxing",
    steps: [
      actionStep("PrepareUpdate", async (context) => {
        const i = inputOf(context);
        return { data: await sandboxingUpdateBody(deps, i.cluster, i.apiVersion, context, i.addPool) };
      }),
      lroStep({
        name: "UpdateManagedCluster",
        typicalSeconds: 240,
        request: (context) => {
          const i = inputOf(context);
          return updateRequest(i.cluster, i.apiVersion, context.data);
        },
        onSucceeded: (result) => ({ data: { cluster: compactCluster(result) } }),
      }),
      waitForRuntimeClassStep({ kubernetes: deps.kubernetes, runtimeClassName: deps.flavor.runtimeClassName }),
    ],
    deadlineSeconds: 7200,
    result: (data, input) => viewResult(deps, data, input),
  };
}
