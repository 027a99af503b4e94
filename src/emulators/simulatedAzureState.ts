import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type {
  ArmEmulatorState,
  ClusterRecord,
  FeatureRecord,
  LroRecord,
  PoolRecord,
  ProviderRecord,
  ResourceGroupRecord,
} from "./arm/armEmulatorState.js";
import type { ClusterObjects } from "./kubernetes/kubernetesClusterRuntime.js";
import type { RunningKubernetesEmulator } from "./kubernetes/kubernetesEmulator.js";
import type { SimulatedCloud } from "./simulatedCloud.js";

/**
 * Simulated Azure's state as one JSON document (`<dataDir>/simulated-azure/state.json`):
 * features, providers, resource groups, clusters with their pools, ARM
 * long-running operations, each cluster's API-server token and Kubernetes
 * objects, the simulated clock and the ports (stored poller states hold
 * absolute URLs, so a restart listens where the last run did).
 *
 * Decision: a periodic snapshot (every second, written only when it changed,
 * and at close) with an atomic rename, rather than write-through: every
 * mutation of the emulators would otherwise need a hook, and a lost second
 * on a SIGKILL of the emulators is what a client of real Azure sees as a
 * request that never arrived.
 */
export interface SimulatedAzureSnapshot {
  version: 1;
  savedAt: string;
  simNowMs: number;
  ports: { arm: number; kubernetes: number };
  features: FeatureRecord[];
  providers: ProviderRecord[];
  resourceGroups: ResourceGroupRecord[];
  clusters: Array<
    Omit<ClusterRecord, "pools" | "activeOp"> & { pools: PoolRecord[]; activeOpId?: string; bearerToken?: string }
  >;
  operations: Array<Omit<LroRecord, "timer">>;
  kubernetes: Record<string, ClusterObjects>;
}

export const SNAPSHOT_FILE = join("simulated-azure", "state.json");

/** Reads a saved snapshot; undefined when there is none. A corrupt file is an error naming it. */
export function readSnapshot(dataDir: string): SimulatedAzureSnapshot | undefined {
  const path = join(dataDir, SNAPSHOT_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as SimulatedAzureSnapshot;
  if (parsed.version !== 1) throw new Error(`${path}: unknown snapshot version ${String(parsed.version)}`);
  return parsed;
}

/** Captures the current state (plain data, no timers). */
export function captureSnapshot(
  arm: ArmEmulatorState,
  cloud: SimulatedCloud,
  kubernetes: RunningKubernetesEmulator,
  ports: { arm: number; kubernetes: number },
): SimulatedAzureSnapshot {
  return {
    version: 1,
    savedAt: new Date().toISOString(),
    simNowMs: cloud.clock.nowMs(),
    ports,
    features: [...arm.features.values()].map((f) => ({ ...f })),
    providers: [...arm.providers.values()].map((p) => ({ ...p })),
    resourceGroups: [...arm.resourceGroups.values()].map((g) => ({ ...g })),
    clusters: [...arm.clusters.values()].map(({ pools, activeOp, ...c }) => {
      const bearerToken = cloud.getCluster(c.key)?.bearerToken;
      return {
        ...structuredClone(c),
        pools: [...pools.values()].map((p) => structuredClone(p)),
        ...(activeOp ? { activeOpId: activeOp.id } : {}),
        ...(bearerToken ? { bearerToken } : {}),
      };
    }),
    operations: [...arm.operations.values()].map(({ timer: _timer, ...op }) => structuredClone(op)),
    kubernetes: kubernetes.exportObjects(),
  };
}

/**
 * Restores a snapshot into freshly started emulators (before they serve
 * clients): ARM records, the cloud's clusters (same API-server tokens, so
 * stored kubeconfigs keep working), Kubernetes objects; running operations
 * and registrations finish when their simulated time is over.
 */
export function restoreSnapshot(
  snapshot: SimulatedAzureSnapshot,
  arm: ArmEmulatorState,
  cloud: SimulatedCloud,
  kubernetes: RunningKubernetesEmulator,
): void {
  for (const f of snapshot.features) {
    const rec: FeatureRecord = { ...f };
    arm.features.set(`${f.subscriptionId}/${f.namespace}/${f.name}`.toLowerCase(), rec);
    if (rec.state === "Registering") {
      const seconds = arm.featureSetting(f.namespace, f.name)?.seconds ?? arm.settings.featureRegistrationSeconds;
      const startedMs = Date.parse(rec.registrationDate ?? "") || arm.nowSimMs();
      arm.schedule(Math.max(0, (startedMs + seconds * 1000 - arm.nowSimMs()) / 1000), () => {
        if (rec.state === "Registering") arm.setFeatureState(f.subscriptionId, f.namespace, f.name, "Registered");
      });
    }
  }
  for (const p of snapshot.providers) {
    const rec: ProviderRecord = { ...p };
    arm.providers.set(`${p.subscriptionId}/${p.namespace}`.toLowerCase(), rec);
    const calledAt = rec.registerCalledAtSimMs;
    if (rec.state === "Registering" && calledAt !== undefined) {
      const remaining = (calledAt + arm.settings.providerRegistrationSeconds * 1000 - arm.nowSimMs()) / 1000;
      arm.schedule(Math.max(0, remaining), () => {
        if (rec.registerCalledAtSimMs === calledAt) rec.state = "Registered";
      });
    }
  }
  for (const g of snapshot.resourceGroups)
    arm.resourceGroups.set(`${g.subscriptionId}/${g.name}`.toLowerCase(), { ...g });
  for (const { pools, activeOpId: _active, bearerToken, ...c } of snapshot.clusters) {
    const rec: ClusterRecord = { ...c, pools: new Map(pools.map((p) => [p.name, p])) };
    arm.clusters.set(rec.key, rec);
    cloud.upsertCluster({
      armId: arm.armId(rec),
      subscriptionId: rec.subscriptionId,
      resourceGroup: rec.resourceGroup,
      name: rec.name,
      location: rec.location,
      kubernetesVersion: rec.kubernetesVersion,
      provisioningState: rec.provisioningState,
      ...(bearerToken ? { bearerToken } : {}),
    });
    arm.syncCloud(rec);
  }
  for (const op of snapshot.operations) arm.resumeOperation({ ...op });
  kubernetes.importObjects(snapshot.kubernetes);
}

/** Writes `text` to `path` atomically: a temporary file, fsync, rename. */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Saves `capture()` to `<dataDir>/simulated-azure/state.json` every
 * `intervalMs` when it changed, and once more on {@link stop}.
 */
export class SnapshotWriter {
  readonly #path: string;
  #last = "";
  readonly #timer: NodeJS.Timeout;

  constructor(
    dataDir: string,
    readonly capture: () => SimulatedAzureSnapshot,
    intervalMs = 1000,
  ) {
    this.#path = join(dataDir, SNAPSHOT_FILE);
    this.#timer = setInterval(() => this.save(), intervalMs);
    this.#timer.unref();
  }

  /** Writes the state now if it changed since the last write. */
  save(): void {
    const snapshot = this.capture();
    const { savedAt: _savedAt, simNowMs: _simNowMs, ...comparable } = snapshot;
    const key = JSON.stringify(comparable);
    if (key === this.#last) return;
    this.#last = key;
    writeFileAtomic(this.#path, JSON.stringify(snapshot));
  }

  /** Stops the timer and writes a final snapshot. */
  stop(): void {
    clearInterval(this.#timer);
    this.#last = "";
    this.save();
  }
}
