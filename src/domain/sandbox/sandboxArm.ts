/**
 * Port: the synchronous ARM reads and writes the sandbox infrastructure needs
 * besides the long-running ones of `ArmOperations` (feature and provider
 * registration, cluster and pool reads, resource groups, the Compute SKU
 * API). The domain owns it; `src/adapters/arm/azureSandboxArm.ts` implements
 * it with the Azure SDK. Implementations throw only `SandboxError`
 * (`UpstreamThrottled`, `UpstreamUnavailable`, `UpstreamFailed` with ARM's
 * code in `details[0].code`).
 */
import type { AgentPoolState, ArmCallContext, ClusterRef } from "../operations/armOperations.js";
import type { VmSkuInfo } from "./poolPreflight.js";

/**
 * A feature's registration state as Microsoft.Features reports it
 * (`NotRegistered | Pending | Registering | Registered | Unregistering | Unregistered`),
 * or `Gone` when ARM answers 404 "The feature '…' could not be found" — the
 * preview flag was removed after GA, so nothing needs registering any more
 * (reference/arm/aks-errors.md).
 */
export type FeatureRegistrationState = string;

/** The `Gone` pseudo-state (see {@link FeatureRegistrationState}). */
export const FEATURE_GONE = "Gone";

/** What ARM shows of a managed cluster. */
export interface ManagedClusterState {
  /** ARM resource id. */
  readonly id: string;
  readonly name: string;
  readonly location: string;
  /** `currentKubernetesVersion`, else `kubernetesVersion`. */
  readonly kubernetesVersion: string;
  readonly provisioningState: string;
  /** The agent pools (from `agentPoolProfiles`). */
  readonly pools: readonly AgentPoolState[];
  /**
   * The resource as the SDK models it (flattened, plain JSON), with anything
   * secret-looking removed: the base of a re-PUT (`az aks update`).
   */
  readonly resource: Record<string, unknown>;
}

export interface SandboxArm {
  /** Feature state, or {@link FEATURE_GONE}. */
  getFeatureState(
    subscriptionId: string,
    namespace: string,
    name: string,
    call: ArmCallContext,
  ): Promise<FeatureRegistrationState>;
  /** `az feature register` (synchronous at ARM, idempotent): the state after the call, or {@link FEATURE_GONE}. */
  registerFeature(
    subscriptionId: string,
    namespace: string,
    name: string,
    call: ArmCallContext,
  ): Promise<FeatureRegistrationState>;
  /** Provider `registrationState` (`NotRegistered | Registering | Registered | Unregistering`). */
  getProviderState(subscriptionId: string, namespace: string, call: ArmCallContext): Promise<string>;
  /** `az provider register` (idempotent): the state after the call. */
  registerProvider(subscriptionId: string, namespace: string, call: ArmCallContext): Promise<string>;
  /** The cluster, or undefined on 404 (also when the resource group does not exist). */
  getCluster(cluster: ClusterRef, apiVersion: string, call: ArmCallContext): Promise<ManagedClusterState | undefined>;
  /** The cluster's agent pools (empty when the cluster does not exist). */
  listAgentPools(cluster: ClusterRef, apiVersion: string, call: ArmCallContext): Promise<AgentPoolState[]>;
  resourceGroupExists(subscriptionId: string, resourceGroup: string, call: ArmCallContext): Promise<boolean>;
  /** Creates the resource group (idempotent PUT). */
  createResourceGroup(
    subscriptionId: string,
    resourceGroup: string,
    location: string,
    call: ArmCallContext,
  ): Promise<void>;
  /**
   * A VM size as the Compute SKU API (`Microsoft.Compute/skus`) lists it in
   * `location`, or undefined when the region does not offer it. Case-insensitive.
   */
  getVmSku(
    subscriptionId: string,
    location: string,
    vmSize: string,
    call: ArmCallContext,
  ): Promise<VmSkuInfo | undefined>;
}
