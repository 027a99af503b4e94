import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { SimulatedClock } from "./simulatedClock.js";

/**
 * State shared by the ARM emulator (which owns it: clusters and agent pools
 * are created, scaled and deleted through ARM) and the Kubernetes emulator
 * (which derives nodes and RuntimeClasses from it). Nothing here is
 * persisted; emulators start empty.
 */

/** An agent pool as the Kubernetes side needs to see it. */
export interface SimulatedNodePool {
  name: string;
  vmSize: string;
  /** Node count (agent pool `count`). */
  count: number;
  vCpuPerNode: number;
  memoryGiBPerNode: number;
  /** ARM `workloadRuntime`: `OCIContainer` | `KataMshvVmIsolation` | `KataVmIsolation` | … */
  workloadRuntime: string;
  osSku: string;
  mode: "System" | "User";
  /** ARM `provisioningState`; nodes exist only once a pool first reached `Succeeded`. */
  provisioningState: string;
  /** True once the pool has reached `Succeeded` at least once (nodes are up). */
  everSucceeded: boolean;
  /**
   * False when AKS has not (yet) installed the pool's sandbox RuntimeClass:
   * see {@link SimulatedCloud.runtimeClassNeedsClusterUpdate}. Absent = true.
   */
  runtimeInstalled?: boolean;
  labels: Record<string, string>;
  taints: string[];
}

/** A managed cluster as both emulators see it. */
export interface SimulatedCluster {
  /** URL-safe key: the Kubernetes emulator serves the cluster at `/clusters/<key>`. */
  key: string;
  /** ARM resource id of the managedCluster (as ARM spells it). */
  armId: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  kubernetesVersion: string;
  provisioningState: string;
  /**
   * The network policy engine (`networkProfile.networkPolicy` of the ARM
   * cluster: `none`, `azure`, `calico`, `cilium`); absent = `none`.
   */
  networkPolicy?: string;
  /** Bearer token the cluster's API server accepts. A secret: never log it. */
  bearerToken: string;
  pools: Map<string, SimulatedNodePool>;
}

export type SimulatedCloudEvent =
  | { type: "clusterUpserted"; clusterKey: string }
  | { type: "clusterDeleted"; clusterKey: string }
  | { type: "poolUpserted"; clusterKey: string; poolName: string }
  | { type: "poolDeleted"; clusterKey: string; poolName: string };

/** The simulated cloud: one clock, the clusters, and where each emulator listens. */
export class SimulatedCloud extends EventEmitter<{ change: [SimulatedCloudEvent] }> {
  readonly clusters = new Map<string, SimulatedCluster>();
  /** Base URL of the Kubernetes emulator (`https://127.0.0.1:<port>`), once it listens. */
  kubernetesBaseUrl: string | undefined;
  /** PEM of the certificate both emulators serve (self-signed; also the CA). */
  caCertPem: string | undefined;
  /**
   * Scenario knob (tests): when true, a sandbox agent pool created on its own
   * comes up without its RuntimeClass until the next managed-cluster update
   * (`az aks update`) — the case the product's enable-sandboxing step fixes.
   * Default false: AKS installs the class with the pool.
   */
  runtimeClassNeedsClusterUpdate = false;

  constructor(readonly clock: SimulatedClock = new SimulatedClock(1)) {
    super();
  }

  /** Derives the URL-safe cluster key from the ARM coordinates (case-insensitive, as ARM is). */
  static clusterKey(subscriptionId: string, resourceGroup: string, name: string): string {
    return `${subscriptionId}-${resourceGroup}-${name}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  }

  /** Creates or replaces a cluster record and emits `clusterUpserted`. */
  upsertCluster(
    cluster: Omit<SimulatedCluster, "key" | "bearerToken" | "pools"> &
      Partial<Pick<SimulatedCluster, "bearerToken" | "pools">>,
  ): SimulatedCluster {
    const key = SimulatedCloud.clusterKey(cluster.subscriptionId, cluster.resourceGroup, cluster.name);
    const existing = this.clusters.get(key);
    const record: SimulatedCluster = {
      ...cluster,
      key,
      bearerToken: cluster.bearerToken ?? existing?.bearerToken ?? randomBytes(32).toString("base64url"),
      pools: cluster.pools ?? existing?.pools ?? new Map<string, SimulatedNodePool>(),
    };
    this.clusters.set(key, record);
    this.emit("change", { type: "clusterUpserted", clusterKey: key });
    return record;
  }

  getCluster(key: string): SimulatedCluster | undefined {
    return this.clusters.get(key);
  }

  deleteCluster(key: string): void {
    if (this.clusters.delete(key)) this.emit("change", { type: "clusterDeleted", clusterKey: key });
  }

  /** Creates or replaces a pool of an existing cluster and emits `poolUpserted`. */
  upsertPool(clusterKey: string, pool: SimulatedNodePool): void {
    const cluster = this.clusters.get(clusterKey);
    if (!cluster) throw new Error(`no simulated cluster ${clusterKey}`);
    cluster.pools.set(pool.name, pool);
    this.emit("change", { type: "poolUpserted", clusterKey, poolName: pool.name });
  }

  deletePool(clusterKey: string, poolName: string): void {
    const cluster = this.clusters.get(clusterKey);
    if (cluster?.pools.delete(poolName)) this.emit("change", { type: "poolDeleted", clusterKey, poolName });
  }
}
