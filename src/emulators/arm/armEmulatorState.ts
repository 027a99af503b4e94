// One file on purpose (~590 lines): the ARM emulator's state is one object graph (features, providers,
// resource groups, clusters, pools, LROs) whose simulated-time machinery — scheduling, resuming after a
// restart, finishing and aborting operations, syncing the simulated cloud — mutates all of it together;
// split apart, each part would need the others' private state. Rendering and routes live elsewhere.
import { randomBytes, randomUUID } from "node:crypto";
import { SimulatedCloud, type SimulatedNodePool } from "../simulatedCloud.js";
import type { ArmEmulatorSettings } from "./armEmulatorSettings.js";
import { ArmError, type ArmErrorDetail } from "./armError.js";
import { findVmSku } from "./vmSkuCatalogue.js";

export type JsonObject = Record<string, unknown>;

/** Feature registration states as Azure spells them. */
export type FeatureState =
  "NotRegistered" | "Pending" | "Registering" | "Registered" | "Unregistering" | "Unregistered";

export interface FeatureRecord {
  subscriptionId: string;
  namespace: string;
  name: string;
  state: FeatureState;
  /** Simulated ms when the feature last reached `Registered`. */
  registeredAtSimMs?: number;
  registrationDate?: string;
}

export interface ProviderRecord {
  subscriptionId: string;
  namespace: string;
  state: "NotRegistered" | "Registering" | "Registered";
  /** Simulated ms of the last `register` call. */
  registerCalledAtSimMs?: number;
}

export interface ResourceGroupRecord {
  subscriptionId: string;
  name: string;
  location: string;
  tags?: Record<string, string>;
  managedBy?: string;
}

export type LroKind =
  "clusterCreate" | "clusterUpdate" | "clusterDelete" | "poolCreate" | "poolUpdate" | "poolDelete" | "background";
export type LroStatus = "InProgress" | "Succeeded" | "Failed" | "Canceled";

/** One long-running operation (the thing behind `Azure-AsyncOperation`). */
export interface LroRecord {
  id: string;
  subscriptionId: string;
  location: string;
  kind: LroKind;
  clusterKey: string;
  poolName?: string;
  apiVersion: string;
  startSimMs: number;
  durationSimMs: number;
  endSimMs?: number;
  status: LroStatus;
  error?: ArmErrorDetail;
  /** From a `failLro` fault: the operation ends Failed with this error. */
  failWith?: { code: string; message: string };
  timer?: NodeJS.Timeout;
}

export interface PoolRecord {
  name: string;
  /** The pool's properties as last requested (secrets stripped), without server-computed fields. */
  requested: JsonObject;
  provisioningState: string;
  orchestratorVersion: string;
  eTag: string;
  everSucceeded: boolean;
  /** See SimulatedNodePool.runtimeInstalled. */
  runtimeInstalled?: boolean;
}

export interface ClusterRecord {
  key: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** The resource as last requested (top level and `properties`, secrets stripped). */
  requested: JsonObject;
  kubernetesVersion: string;
  provisioningState: string;
  eTag: string;
  identityIds: { principalId: string; tenantId: string };
  pools: Map<string, PoolRecord>;
  /** The running mutating operation on the cluster or one of its pools. */
  activeOp?: LroRecord;
  fqdnSuffix: string;
}

const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** Normalizes an Azure location the way ARM stores it (`East US` → `eastus`). */
export function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
}

function newETag(): string {
  return randomBytes(6).toString("hex");
}

function lc(...parts: string[]): string {
  return parts.join("/").toLowerCase();
}

/**
 * The ARM emulator's state and its simulated-time machinery: features,
 * providers, resource groups, managed clusters, agent pools and their
 * long-running operations. It writes through to the {@link SimulatedCloud}
 * (the Kubernetes emulator reads clusters and pools from there).
 *
 * Exposed as `arm.state` so tests can set up or inspect situations directly.
 */
export class ArmEmulatorState {
  readonly features = new Map<string, FeatureRecord>();
  readonly providers = new Map<string, ProviderRecord>();
  readonly resourceGroups = new Map<string, ResourceGroupRecord>();
  readonly clusters = new Map<string, ClusterRecord>();
  readonly operations = new Map<string, LroRecord>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(
    readonly cloud: SimulatedCloud,
    readonly settings: ArmEmulatorSettings,
  ) {}

  /** Current simulated time, epoch ms. */
  nowSimMs(): number {
    return this.cloud.clock.nowMs();
  }

  nowIso(): string {
    return new Date(this.nowSimMs()).toISOString();
  }

  /** Runs `fn` after `simSeconds` of simulated time (cancelled by {@link close}). */
  schedule(simSeconds: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer);
        if (!this.#closed) fn();
      },
      Math.max(0, this.cloud.clock.toWallMs(simSeconds * 1000)),
    );
    this.#timers.add(timer);
    return timer;
  }

  /** Stops every pending timer; the state stays readable. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  // ---------------------------------------------------------------- features

  /** The configured feature setting for `namespace/name` (case-insensitive), or undefined when unknown. */
  featureSetting(
    namespace: string,
    name: string,
  ): { key: string; gone: boolean; approvalRequired: boolean; seconds: number } | undefined {
    const wanted = `${namespace}/${name}`.toLowerCase();
    for (const [key, s] of Object.entries(this.settings.features)) {
      if (key.toLowerCase() === wanted) {
        return {
          key,
          gone: s.gone ?? false,
          approvalRequired: s.approvalRequired ?? false,
          seconds: s.registrationSeconds ?? this.settings.featureRegistrationSeconds,
        };
      }
    }
    return undefined;
  }

  /** The feature record (created `NotRegistered` on first sight); 404 for unknown or gone features. */
  feature(subscriptionId: string, namespace: string, name: string): FeatureRecord {
    const setting = this.featureSetting(namespace, name);
    if (!setting || setting.gone) {
      throw new ArmError(404, "FeatureNotFound", `The feature '${name}' could not be found.`);
    }
    const [canonicalNs = namespace, canonicalName = name] = setting.key.split("/");
    const key = lc(subscriptionId, canonicalNs, canonicalName);
    let rec = this.features.get(key);
    if (!rec) {
      rec = { subscriptionId, namespace: canonicalNs, name: canonicalName, state: "NotRegistered" };
      this.features.set(key, rec);
    }
    return rec;
  }

  /** `register`: `Registering` then `Registered` after the configured delay, or `Pending` when approval is needed. Idempotent. */
  registerFeature(subscriptionId: string, namespace: string, name: string): FeatureRecord {
    const rec = this.feature(subscriptionId, namespace, name);
    const setting = this.featureSetting(namespace, name);
    if (rec.state === "Registered" || rec.state === "Registering" || rec.state === "Pending") return rec;
    rec.registrationDate = this.nowIso();
    if (setting?.approvalRequired) {
      rec.state = "Pending";
      return rec;
    }
    rec.state = "Registering";
    this.schedule(setting?.seconds ?? this.settings.featureRegistrationSeconds, () => {
      if (rec.state === "Registering") this.#markRegistered(rec);
    });
    return rec;
  }

  #markRegistered(rec: FeatureRecord): void {
    rec.state = "Registered";
    rec.registeredAtSimMs = this.nowSimMs();
    rec.registrationDate ??= this.nowIso();
  }

  /** Approves a `Pending` feature: it proceeds to `Registering` → `Registered`. */
  approveFeature(subscriptionId: string, namespace: string, name: string): FeatureRecord {
    const rec = this.feature(subscriptionId, namespace, name);
    if (rec.state !== "Pending") return rec;
    rec.state = "NotRegistered";
    const setting = this.featureSetting(namespace, name);
    rec.state = "Registering";
    this.schedule(setting?.seconds ?? this.settings.featureRegistrationSeconds, () => {
      if (rec.state === "Registering") this.#markRegistered(rec);
    });
    return rec;
  }

  /** Sets a feature's state directly (test set-up); `Registered` counts as registered now. */
  setFeatureState(subscriptionId: string, namespace: string, name: string, state: FeatureState): FeatureRecord {
    const rec = this.feature(subscriptionId, namespace, name);
    if (state === "Registered") this.#markRegistered(rec);
    else rec.state = state;
    return rec;
  }

  /** `unregister`: answers `Unregistered` at once (the example shows no intermediate state). */
  unregisterFeature(subscriptionId: string, namespace: string, name: string): FeatureRecord {
    const rec = this.feature(subscriptionId, namespace, name);
    rec.state = "Unregistered";
    delete rec.registeredAtSimMs;
    return rec;
  }

  /** Every known (not gone) feature, optionally of one namespace, for a subscription. */
  listFeatures(subscriptionId: string, namespace?: string): FeatureRecord[] {
    const out: FeatureRecord[] = [];
    for (const [key, s] of Object.entries(this.settings.features)) {
      if (s.gone) continue;
      const [ns = "", name = ""] = key.split("/");
      if (namespace && ns.toLowerCase() !== namespace.toLowerCase()) continue;
      out.push(this.feature(subscriptionId, ns, name));
    }
    return out;
  }

  // --------------------------------------------------------------- providers

  /** The provider record; 404 `InvalidResourceNamespace` for namespaces the emulator does not know. */
  provider(subscriptionId: string, namespace: string): ProviderRecord {
    const known = Object.entries(this.settings.providers).find(([ns]) => ns.toLowerCase() === namespace.toLowerCase());
    if (!known)
      throw new ArmError(404, "InvalidResourceNamespace", `The resource namespace '${namespace}' is invalid.`);
    const key = lc(subscriptionId, known[0]);
    let rec = this.providers.get(key);
    if (!rec) {
      rec = { subscriptionId, namespace: known[0], state: known[1] };
      this.providers.set(key, rec);
    }
    return rec;
  }

  /** `register`: `Registering` → `Registered` after the configured delay; records when it was called. Idempotent. */
  registerProvider(subscriptionId: string, namespace: string): ProviderRecord {
    const rec = this.provider(subscriptionId, namespace);
    rec.registerCalledAtSimMs = this.nowSimMs();
    rec.state = "Registering";
    const calledAt = rec.registerCalledAtSimMs;
    this.schedule(this.settings.providerRegistrationSeconds, () => {
      if (rec.registerCalledAtSimMs === calledAt) rec.state = "Registered";
    });
    return rec;
  }

  unregisterProvider(subscriptionId: string, namespace: string): ProviderRecord {
    const rec = this.provider(subscriptionId, namespace);
    rec.state = "NotRegistered";
    delete rec.registerCalledAtSimMs;
    return rec;
  }

  listProviders(subscriptionId: string): ProviderRecord[] {
    return Object.keys(this.settings.providers).map((ns) => this.provider(subscriptionId, ns));
  }

  /**
   * Whether a preview feature is usable: `Registered`, and the provider of its
   * namespace was registered (and finished) after the feature became Registered.
   */
  previewFeatureUsable(
    subscriptionId: string,
    namespace: string,
    name: string,
  ): { usable: true } | { usable: false; reason: "notRegistered" | "providerNotReregistered"; state: FeatureState } {
    const setting = this.featureSetting(namespace, name);
    if (setting?.gone) return { usable: true };
    const f = this.feature(subscriptionId, namespace, name);
    if (f.state !== "Registered" || f.registeredAtSimMs === undefined)
      return { usable: false, reason: "notRegistered", state: f.state };
    const p = this.provider(subscriptionId, namespace);
    if (
      p.state !== "Registered" ||
      p.registerCalledAtSimMs === undefined ||
      p.registerCalledAtSimMs < f.registeredAtSimMs
    ) {
      return { usable: false, reason: "providerNotReregistered", state: f.state };
    }
    return { usable: true };
  }

  // ---------------------------------------------------------- resource groups

  resourceGroup(subscriptionId: string, name: string): ResourceGroupRecord | undefined {
    return this.resourceGroups.get(lc(subscriptionId, name));
  }

  /** Creates or updates a resource group; returns whether it was created. Idempotent. */
  putResourceGroup(
    subscriptionId: string,
    name: string,
    location: string,
    tags?: Record<string, string>,
    managedBy?: string,
  ): { rg: ResourceGroupRecord; created: boolean } {
    const key = lc(subscriptionId, name);
    const existing = this.resourceGroups.get(key);
    if (existing) {
      if (tags) existing.tags = tags;
      return { rg: existing, created: false };
    }
    const rg: ResourceGroupRecord = { subscriptionId, name, location: normalizeLocation(location) };
    if (tags) rg.tags = tags;
    if (managedBy) rg.managedBy = managedBy;
    this.resourceGroups.set(key, rg);
    return { rg, created: true };
  }

  // ---------------------------------------------------------------- clusters

  cluster(subscriptionId: string, resourceGroup: string, name: string): ClusterRecord | undefined {
    return this.clusters.get(SimulatedCloud.clusterKey(subscriptionId, resourceGroup, name));
  }

  newCluster(subscriptionId: string, resourceGroup: string, name: string, location: string): ClusterRecord {
    const key = SimulatedCloud.clusterKey(subscriptionId, resourceGroup, name);
    const rec: ClusterRecord = {
      key,
      subscriptionId,
      resourceGroup,
      name,
      location: normalizeLocation(location),
      requested: {},
      kubernetesVersion: this.settings.defaultKubernetesVersion,
      provisioningState: "Creating",
      eTag: newETag(),
      identityIds: { principalId: randomUUID(), tenantId: TENANT_ID },
      pools: new Map(),
      fqdnSuffix: randomBytes(4).toString("hex"),
    };
    this.clusters.set(key, rec);
    return rec;
  }

  armId(c: ClusterRecord): string {
    return `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
  }

  /** Writes the cluster (and optionally all its pools) through to the SimulatedCloud. */
  syncCloud(c: ClusterRecord, pools: "all" | PoolRecord[] = "all"): void {
    if (!this.clusters.has(c.key)) return;
    this.cloud.upsertCluster({
      armId: this.armId(c),
      subscriptionId: c.subscriptionId,
      resourceGroup: c.resourceGroup,
      name: c.name,
      location: c.location,
      kubernetesVersion: c.kubernetesVersion,
      provisioningState: c.provisioningState,
      networkPolicy: clusterNetworkPolicy(c.requested),
    });
    for (const p of pools === "all" ? c.pools.values() : pools) this.cloud.upsertPool(c.key, this.toCloudPool(p));
  }

  toCloudPool(p: PoolRecord): SimulatedNodePool {
    const r = p.requested;
    const vmSize = typeof r.vmSize === "string" ? r.vmSize : "Standard_DS2_v2";
    const sku = findVmSku(vmSize, this.settings.vmSkus);
    const labels = (r.nodeLabels && typeof r.nodeLabels === "object" ? r.nodeLabels : {}) as Record<string, string>;
    const taints = Array.isArray(r.nodeTaints) ? (r.nodeTaints as string[]) : [];
    return {
      name: p.name,
      vmSize: sku?.name ?? vmSize,
      count: typeof r.count === "number" ? r.count : 1,
      vCpuPerNode: sku?.vCpus ?? 2,
      memoryGiBPerNode: sku?.memoryGiB ?? 8,
      workloadRuntime: typeof r.workloadRuntime === "string" ? r.workloadRuntime : "OCIContainer",
      osSku: typeof r.osSKU === "string" ? r.osSKU : "Ubuntu",
      mode: r.mode === "System" ? "System" : "User",
      provisioningState: p.provisioningState,
      everSucceeded: p.everSucceeded,
      ...(p.runtimeInstalled === false ? { runtimeInstalled: false } : {}),
      labels: { ...labels },
      taints: [...taints],
    };
  }

  // -------------------------------------------------------------- operations

  /**
   * Starts a long-running operation on a cluster (or one of its pools) that
   * completes after `seconds` of simulated time, unless aborted or failed.
   */
  startOperation(
    c: ClusterRecord,
    kind: LroKind,
    seconds: number,
    apiVersion: string,
    poolName?: string,
    failWith?: { code: string; message: string },
  ): LroRecord {
    const op: LroRecord = {
      id: randomUUID(),
      subscriptionId: c.subscriptionId,
      location: c.location,
      kind,
      clusterKey: c.key,
      apiVersion,
      startSimMs: this.nowSimMs(),
      durationSimMs: seconds * 1000,
      status: "InProgress",
    };
    if (poolName !== undefined) op.poolName = poolName;
    if (failWith) op.failWith = failWith;
    this.operations.set(op.id, op);
    c.activeOp = op;
    op.timer = this.schedule(seconds, () => this.#finish(op));
    return op;
  }

  /**
   * Re-arms an operation restored from a saved state: it finishes when its
   * simulated duration is over (at once if that passed while the emulator was down).
   */
  resumeOperation(op: LroRecord): void {
    this.operations.set(op.id, op);
    if (op.status !== "InProgress") return;
    const c = this.clusters.get(op.clusterKey);
    if (c) c.activeOp = op;
    op.timer = this.schedule(Math.max(0, (op.startSimMs + op.durationSimMs - this.nowSimMs()) / 1000), () =>
      this.#finish(op),
    );
  }

  /** A simulated AKS background operation (add-on handlers): makes mutating calls answer 409 meanwhile. */
  startBackgroundOperation(c: ClusterRecord, seconds: number): LroRecord {
    return this.startOperation(c, "background", seconds, "internal");
  }

  #finish(op: LroRecord): void {
    if (op.status !== "InProgress") return;
    const c = this.clusters.get(op.clusterKey);
    op.endSimMs = this.nowSimMs();
    if (c?.activeOp === op) delete c.activeOp;
    if (!c) {
      op.status = "Succeeded";
      return;
    }
    if (op.failWith) {
      op.status = "Failed";
      op.error = { code: op.failWith.code, message: op.failWith.message };
      this.#setTargetState(c, op, "Failed");
      return;
    }
    op.status = "Succeeded";
    switch (op.kind) {
      case "clusterCreate":
      case "clusterUpdate":
        c.provisioningState = "Succeeded";
        for (const p of c.pools.values()) {
          if (p.provisioningState === "Creating" || p.provisioningState === "Updating") {
            p.provisioningState = "Succeeded";
            p.everSucceeded = true;
          }
          // A cluster update reconciles every pool's runtime.
          p.runtimeInstalled = true;
        }
        c.eTag = newETag();
        this.syncCloud(c);
        break;
      case "clusterDelete":
        this.clusters.delete(c.key);
        this.cloud.deleteCluster(c.key);
        break;
      case "poolCreate":
      case "poolUpdate": {
        const p = op.poolName !== undefined ? c.pools.get(op.poolName) : undefined;
        if (p) {
          p.provisioningState = "Succeeded";
          if (op.kind === "poolCreate" && this.cloud.runtimeClassNeedsClusterUpdate) p.runtimeInstalled = false;
          p.everSucceeded = true;
          p.eTag = newETag();
          this.syncCloud(c, [p]);
        }
        break;
      }
      case "poolDelete":
        if (op.poolName !== undefined) {
          c.pools.delete(op.poolName);
          this.cloud.deletePool(c.key, op.poolName);
        }
        break;
      case "background":
        break;
    }
  }

  #setTargetState(c: ClusterRecord, op: LroRecord, state: string): void {
    if (op.kind.startsWith("pool") && op.poolName !== undefined) {
      const p = c.pools.get(op.poolName);
      if (p) {
        p.provisioningState = state;
        this.syncCloud(c, [p]);
      }
    } else if (op.kind !== "background") {
      c.provisioningState = state;
      for (const p of c.pools.values()) if (p.provisioningState !== "Succeeded") p.provisioningState = state;
      this.syncCloud(c);
    }
  }

  /**
   * Aborts the running operation of a cluster, or of one pool when
   * `poolName` is given: it ends `Canceled` and its target shows `Canceled`.
   * Returns the aborted operation, or undefined when nothing was running.
   */
  abort(c: ClusterRecord, poolName?: string): LroRecord | undefined {
    const op = c.activeOp;
    if (!op || op.status !== "InProgress") return undefined;
    if (poolName !== undefined && op.poolName !== poolName) return undefined;
    if (op.timer) clearTimeout(op.timer);
    this.#timers.delete(op.timer as NodeJS.Timeout);
    op.status = "Canceled";
    op.endSimMs = this.nowSimMs();
    op.error = {
      code: "OperationCanceled",
      message: "The operation was canceled by an abort request (operation-abort).",
    };
    delete c.activeOp;
    this.#setTargetState(c, op, "Canceled");
    return op;
  }

  /** Percent complete of an operation, from simulated elapsed time. */
  percentComplete(op: LroRecord): number {
    if (op.status === "Succeeded") return 100;
    if (op.durationSimMs <= 0) return 99;
    const pct = (((op.endSimMs ?? this.nowSimMs()) - op.startSimMs) / op.durationSimMs) * 100;
    return Math.max(0, Math.min(99, Math.floor(pct)));
  }
}

/**
 * The cluster's network policy engine from its `networkProfile`, as AKS
 * decides it: `networkPolicy` when given; Azure CNI powered by Cilium
 * (`networkDataplane: cilium`) enforces with Cilium; otherwise none.
 */
export function clusterNetworkPolicy(requested: JsonObject): string {
  const props = requested.properties;
  const net =
    props && typeof props === "object" && !Array.isArray(props) ? (props as JsonObject).networkProfile : undefined;
  if (!net || typeof net !== "object" || Array.isArray(net)) return "none";
  const profile = net as JsonObject;
  if (typeof profile.networkPolicy === "string") return profile.networkPolicy.toLowerCase();
  return profile.networkDataplane === "cilium" ? "cilium" : "none";
}
