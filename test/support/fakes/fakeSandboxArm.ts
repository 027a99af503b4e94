import type { AgentPoolState, ArmCallContext, ClusterRef } from "../../../src/domain/operations/armOperations.js";
import type { VmSkuInfo } from "../../../src/domain/sandbox/poolPreflight.js";
import {
  FEATURE_GONE,
  type FeatureRegistrationState,
  type ManagedClusterState,
  type SandboxArm,
} from "../../../src/domain/sandbox/sandboxArm.js";

const key = (...parts: string[]): string => parts.map((part) => part.toLowerCase()).join("/");

/**
 * Typed in-memory {@link SandboxArm} for domain unit tests. Feature and provider registrations move one state per
 * read (`Registering` → `Registered`) as ARM's do; clusters, resource groups and VM SKUs are what the test puts in.
 */
export class FakeSandboxArm implements SandboxArm {
  readonly features = new Map<string, FeatureRegistrationState>();
  readonly providers = new Map<string, string>();
  readonly clusters = new Map<string, ManagedClusterState>();
  readonly resourceGroups = new Set<string>();
  readonly vmSkus = new Map<string, VmSkuInfo>();
  /** Every call: method name and the correlation id it carried. */
  readonly calls: Array<{ method: string; correlationId: string }> = [];

  #note(method: string, call: ArmCallContext): void {
    this.calls.push({ method, correlationId: call.correlationId });
  }

  /** Makes a feature 404 (removed after GA). */
  featureGone(subscriptionId: string, namespace: string, name: string): void {
    this.features.set(key(subscriptionId, namespace, name), FEATURE_GONE);
  }

  async getFeatureState(subscriptionId: string, namespace: string, name: string, call: ArmCallContext) {
    this.#note("getFeatureState", call);
    const k = key(subscriptionId, namespace, name);
    const state = this.features.get(k) ?? "NotRegistered";
    if (state === "Registering") this.features.set(k, "Registered");
    return state;
  }

  async registerFeature(subscriptionId: string, namespace: string, name: string, call: ArmCallContext) {
    this.#note("registerFeature", call);
    const k = key(subscriptionId, namespace, name);
    const state = this.features.get(k);
    if (state === FEATURE_GONE || state === "Registered") return state;
    this.features.set(k, "Registering");
    return "Registering";
  }

  async getProviderState(subscriptionId: string, namespace: string, call: ArmCallContext): Promise<string> {
    this.#note("getProviderState", call);
    const k = key(subscriptionId, namespace);
    const state = this.providers.get(k) ?? "NotRegistered";
    if (state === "Registering") this.providers.set(k, "Registered");
    return state;
  }

  async registerProvider(subscriptionId: string, namespace: string, call: ArmCallContext): Promise<string> {
    this.#note("registerProvider", call);
    const k = key(subscriptionId, namespace);
    if (this.providers.get(k) === "Registered") return "Registered";
    this.providers.set(k, "Registering");
    return "Registering";
  }

  /** Adds (or replaces) a cluster as ARM would show it. */
  putCluster(cluster: ClusterRef, state: ManagedClusterState): void {
    this.resourceGroups.add(key(cluster.subscriptionId, cluster.resourceGroup));
    this.clusters.set(key(cluster.subscriptionId, cluster.resourceGroup, cluster.clusterName), state);
  }

  async getCluster(cluster: ClusterRef, _apiVersion: string, call: ArmCallContext) {
    this.#note("getCluster", call);
    return this.clusters.get(key(cluster.subscriptionId, cluster.resourceGroup, cluster.clusterName));
  }

  async listAgentPools(cluster: ClusterRef, apiVersion: string, call: ArmCallContext): Promise<AgentPoolState[]> {
    this.#note("listAgentPools", call);
    return [...((await this.getCluster(cluster, apiVersion, call))?.pools ?? [])];
  }

  async resourceGroupExists(subscriptionId: string, resourceGroup: string, call: ArmCallContext): Promise<boolean> {
    this.#note("resourceGroupExists", call);
    return this.resourceGroups.has(key(subscriptionId, resourceGroup));
  }

  async createResourceGroup(subscriptionId: string, resourceGroup: string, _location: string, call: ArmCallContext) {
    this.#note("createResourceGroup", call);
    this.resourceGroups.add(key(subscriptionId, resourceGroup));
  }

  async getVmSku(_subscriptionId: string, location: string, vmSize: string, call: ArmCallContext) {
    this.#note("getVmSku", call);
    return this.vmSkus.get(key(location, vmSize));
  }
}
