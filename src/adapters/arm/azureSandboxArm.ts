import type { AgentPoolState, ArmCallContext, ClusterRef } from "../../domain/operations/armOperations.js";
import type { VmSkuInfo } from "../../domain/sandbox/poolPreflight.js";
import { canonicalArmState } from "../../domain/sandbox/armState.js";
import { agentPoolStateOf, managedClusterStateOf } from "../../domain/sandbox/clusterView.js";
import {
  FEATURE_GONE,
  type FeatureRegistrationState,
  type ManagedClusterState,
  type SandboxArm,
} from "../../domain/sandbox/sandboxArm.js";
import { withArmCallCapturing, type ArmClientFactory } from "./armClients.js";
import { translateArmError } from "./armErrors.js";
import type { ComputeSkus } from "./computeSkus.js";

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

/** Plain JSON with secret-looking fields dropped (passwords, secrets, keys): ARM never needs them back on a re-PUT of ours. */
export function scrubbed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubbed);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || /secret|password|privatekey|token/i.test(k)) continue;
    out[k] = scrubbed(v);
  }
  return out;
}

/**
 * {@link SandboxArm} with the Azure SDK: `@azure/arm-features` (register /
 * get), `@azure/arm-resources` (providers, resource groups),
 * `@azure/arm-containerservice` (cluster and pool reads) and the Compute SKU
 * API through {@link ComputeSkus}. SDK errors become `SandboxError` here.
 */
export class AzureSandboxArm implements SandboxArm {
  constructor(
    private readonly clients: ArmClientFactory,
    private readonly skus: ComputeSkus,
  ) {}

  async #call<T>(call: ArmCallContext, what: string, fn: () => Promise<T>, on404?: () => T): Promise<T> {
    const outcome = await withArmCallCapturing(call.correlationId, fn);
    if (outcome.error === undefined) return outcome.value as T;
    if (on404 && statusOf(outcome.error) === 404) return on404();
    throw translateArmError(outcome.error, what);
  }

  getFeatureState(
    subscriptionId: string,
    namespace: string,
    name: string,
    call: ArmCallContext,
  ): Promise<FeatureRegistrationState> {
    return this.#call(
      call,
      `reading the feature ${namespace}/${name}`,
      async () =>
        canonicalArmState(
          (await this.clients.features(subscriptionId).features.get(namespace, name)).properties?.state ??
            "NotRegistered",
        ),
      () => FEATURE_GONE,
    );
  }

  registerFeature(
    subscriptionId: string,
    namespace: string,
    name: string,
    call: ArmCallContext,
  ): Promise<FeatureRegistrationState> {
    return this.#call(
      call,
      `registering the feature ${namespace}/${name}`,
      async () =>
        canonicalArmState(
          (await this.clients.features(subscriptionId).features.register(namespace, name)).properties?.state ??
            "Registering",
        ),
      () => FEATURE_GONE,
    );
  }

  getProviderState(subscriptionId: string, namespace: string, call: ArmCallContext): Promise<string> {
    return this.#call(call, `reading the provider ${namespace}`, async () =>
      canonicalArmState(
        (await this.clients.resources(subscriptionId).providers.get(namespace)).registrationState ?? "NotRegistered",
      ),
    );
  }

  registerProvider(subscriptionId: string, namespace: string, call: ArmCallContext): Promise<string> {
    return this.#call(call, `registering the provider ${namespace}`, async () =>
      canonicalArmState(
        (await this.clients.resources(subscriptionId).providers.register(namespace)).registrationState ?? "Registering",
      ),
    );
  }

  getCluster(cluster: ClusterRef, apiVersion: string, call: ArmCallContext): Promise<ManagedClusterState | undefined> {
    return this.#call(
      call,
      `reading the managed cluster ${cluster.clusterName}`,
      async () => {
        const mc = scrubbed(
          await this.clients
            .containerService(cluster.subscriptionId, apiVersion)
            .managedClusters.get(cluster.resourceGroup, cluster.clusterName),
        ) as Record<string, unknown>;
        return managedClusterStateOf(mc, cluster.clusterName);
      },
      () => undefined,
    );
  }

  listAgentPools(cluster: ClusterRef, apiVersion: string, call: ArmCallContext): Promise<AgentPoolState[]> {
    return this.#call(
      call,
      `listing the agent pools of ${cluster.clusterName}`,
      async () => {
        const out: AgentPoolState[] = [];
        for await (const p of this.clients
          .containerService(cluster.subscriptionId, apiVersion)
          .agentPools.list(cluster.resourceGroup, cluster.clusterName)) {
          out.push(agentPoolStateOf(scrubbed(p) as Record<string, unknown>));
        }
        return out;
      },
      () => [],
    );
  }

  resourceGroupExists(subscriptionId: string, resourceGroup: string, call: ArmCallContext): Promise<boolean> {
    return this.#call(
      call,
      `reading the resource group ${resourceGroup}`,
      async () => (await this.clients.resources(subscriptionId).resourceGroups.checkExistence(resourceGroup)).body,
    );
  }

  async createResourceGroup(
    subscriptionId: string,
    resourceGroup: string,
    location: string,
    call: ArmCallContext,
  ): Promise<void> {
    await this.#call(call, `creating the resource group ${resourceGroup}`, () =>
      this.clients.resources(subscriptionId).resourceGroups.createOrUpdate(resourceGroup, { location }),
    );
  }

  getVmSku(
    subscriptionId: string,
    location: string,
    vmSize: string,
    call: ArmCallContext,
  ): Promise<VmSkuInfo | undefined> {
    return this.skus.getVmSku(subscriptionId, location, vmSize, call);
  }
}
