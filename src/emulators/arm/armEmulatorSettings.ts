import { vmSkuCatalogue, type VmSku } from "./vmSkuCatalogue.js";

/** How one preview feature behaves on `register`. */
export interface FeatureSetting {
  /** `register` leaves the feature `Pending` (needs approval) until {@link ArmEmulatorState.approveFeature}. */
  approvalRequired?: boolean;
  /** The feature has gone GA and its flag was removed: get/register answer 404 "could not be found". */
  gone?: boolean;
  /** Simulated seconds from `register` to `Registered`; default {@link ArmEmulatorSettings.featureRegistrationSeconds}. */
  registrationSeconds?: number;
}

/**
 * Everything configurable in the ARM emulator. Durations are **simulated
 * seconds** (converted to wall time by the SimulatedCloud's clock); defaults
 * are close to what Azure takes.
 */
export interface ArmEmulatorSettings {
  /** Feature `Registering` → `Registered`. Default 180 (3 min). */
  featureRegistrationSeconds: number;
  /** Provider `Registering` → `Registered`. Default 60. */
  providerRegistrationSeconds: number;
  /** managedCluster create. Default 390 (6.5 min). */
  clusterCreateSeconds: number;
  /** managedCluster update (PUT on an existing cluster). Default 180. */
  clusterUpdateSeconds: number;
  /** managedCluster delete. Default 240. */
  clusterDeleteSeconds: number;
  /** agentPool create. Default 240 (4 min). */
  poolCreateSeconds: number;
  /** agentPool update. Default 120. */
  poolUpdateSeconds: number;
  /** agentPool delete. Default 150. */
  poolDeleteSeconds: number;
  /** `Retry-After` the emulator asks for on LRO answers and status polls, simulated seconds. Default 15. */
  lroRetryAfterSeconds: number;
  /**
   * Send `Retry-After` / `retry-after-ms` on LRO answers. Default true; false
   * gives the "ARM sends no Retry-After" mode (clients must pick their own pace).
   */
  sendRetryAfter: boolean;
  /** Items per page on LIST answers before a `nextLink` is given. Default 100. */
  pageSize: number;
  /**
   * Known features, keyed `Namespace/FeatureName` (case-insensitive). Any other
   * feature answers 404 "The feature 'X' could not be found.". Default: AKS's
   * `Microsoft.ContainerService/KataVMIsolationPreview`.
   */
  features: Record<string, FeatureSetting>;
  /** Known provider namespaces and their initial state (default: the usual ones, `Registered`). */
  providers: Record<string, "Registered" | "NotRegistered">;
  /** Kubernetes versions AKS offers (others → 400 `K8sVersionNotSupported`); `major.minor` resolves to the newest patch here. */
  kubernetesVersions: string[];
  /** Version used when a request leaves `kubernetesVersion` / `orchestratorVersion` empty. Default 1.33.5. */
  defaultKubernetesVersion: string;
  /** Locations listed by `Microsoft.Compute/skus` without a `$filter`. */
  locations: string[];
  /** VM sizes AKS accepts and `Microsoft.Compute/skus` lists. Default {@link vmSkuCatalogue}. */
  vmSkus: readonly VmSku[];
  /**
   * Keep each PUT/PATCH/POST request's JSON body in the request log (`body`).
   * Off by default: bodies may carry secrets; tests turn it on to see exactly
   * what a client sent.
   */
  recordRequestBodies?: boolean;
}

/** The defaults of {@link ArmEmulatorSettings}. */
export function defaultArmEmulatorSettings(): ArmEmulatorSettings {
  return {
    featureRegistrationSeconds: 180,
    providerRegistrationSeconds: 60,
    clusterCreateSeconds: 390,
    clusterUpdateSeconds: 180,
    clusterDeleteSeconds: 240,
    poolCreateSeconds: 240,
    poolUpdateSeconds: 120,
    poolDeleteSeconds: 150,
    lroRetryAfterSeconds: 15,
    sendRetryAfter: true,
    pageSize: 100,
    features: { "Microsoft.ContainerService/KataVMIsolationPreview": {} },
    providers: {
      "Microsoft.ContainerService": "Registered",
      "Microsoft.Compute": "Registered",
      "Microsoft.Network": "Registered",
      "Microsoft.Storage": "Registered",
      "Microsoft.Features": "Registered",
      "Microsoft.Resources": "Registered",
      "Microsoft.ManagedIdentity": "Registered",
      "Microsoft.OperationalInsights": "NotRegistered",
    },
    kubernetesVersions: ["1.31.13", "1.32.9", "1.33.5", "1.34.1"],
    defaultKubernetesVersion: "1.33.5",
    locations: ["eastus", "eastus2", "westus2", "westus3", "northeurope", "westeurope", "uksouth", "swedencentral"],
    vmSkus: vmSkuCatalogue,
  };
}

/** Api-versions each surface accepts (others → 400 `InvalidApiVersionParameter`). */
export const supportedApiVersions = {
  /** Stable AKS versions: the newest, the pinned SDK's default (2026-04-01) and those of the reference examples. */
  containerServiceStable: ["2026-10-01", "2026-08-01", "2026-04-01", "2025-10-01"],
  /** Preview AKS versions (the only ones that accept `KataMshvVmIsolation`). */
  containerServicePreview: ["2026-10-02-preview", "2026-08-02-preview"],
  features: ["2021-07-01", "2025-03-01", "2015-12-01"],
  resources: ["2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2022-09-01", "2021-04-01"],
  computeSkus: ["2021-07-01", "2019-04-01"],
} as const;

/** Whether an AKS api-version is a preview one. */
export function isPreviewApiVersion(apiVersion: string): boolean {
  return apiVersion.endsWith("-preview");
}
