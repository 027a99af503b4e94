import { join } from "node:path";
import { startArmEmulator, type ArmEmulator } from "./arm/armEmulator.js";
import { startKubernetesEmulator, type RunningKubernetesEmulator } from "./kubernetes/kubernetesEmulator.js";
import type { ArmEmulatorSettings } from "./arm/armEmulatorSettings.js";
import { SimulatedClock } from "./simulatedClock.js";
import { SimulatedCloud } from "./simulatedCloud.js";
import { loadOrCreateTlsMaterial, type TlsMaterial } from "./tlsMaterial.js";
import { captureSnapshot, readSnapshot, restoreSnapshot, SnapshotWriter } from "./simulatedAzureState.js";

/** Options of {@link startSimulatedAzure}. */
export interface SimulatedAzureOptions {
  /** Directory for persistent material; TLS goes to `<dataDir>/tls`. Default `.data` (relative to cwd). */
  dataDir?: string;
  /** Use this TLS material instead of loading/creating it under `dataDir`. */
  tls?: TlsMaterial;
  /** ARM emulator port; default 0 (free port). */
  armPort?: number;
  /** Kubernetes emulator port; default 0 (free port). */
  kubernetesPort?: number;
  /** Wall seconds per simulated second, (0, 1]; default 1. Ignored when `cloud` is given. */
  timeScale?: number;
  /** Use an existing simulated cloud (and its clock). */
  cloud?: SimulatedCloud;
  /** ARM emulator settings overrides. */
  armSettings?: Partial<ArmEmulatorSettings>;
  /**
   * Keep state in `<dataDir>/simulated-azure/state.json` (see simulatedAzureState.ts):
   * restore it at start (clock, ports unless given, clusters, features, Kubernetes
   * objects) and save it every second and at close. Default false (tests start empty).
   */
  persist?: boolean;
}

/** A running simulated Azure: ARM emulator (+ Kubernetes emulator once it exists) over one SimulatedCloud. */
export interface SimulatedAzure {
  armUrl: string;
  /** Set when the Kubernetes emulator runs. */
  kubernetesUrl?: string;
  /** PEM file both emulators' certificate is in (trust exactly this). */
  caCertPath: string;
  caCertPem: string;
  cloud: SimulatedCloud;
  arm: ArmEmulator;
  /** The Kubernetes emulator (scripts API for tests: `kubernetes.scripts.set(...)`). */
  kubernetes: RunningKubernetesEmulator;
  /** Stops every emulator. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts simulated Azure in-process: TLS material (reused from
 * `<dataDir>/tls` so a later process can trust it), one SimulatedCloud, the
 * ARM emulator and, once it exists, the Kubernetes emulator, all on
 * 127.0.0.1.
 */
export async function startSimulatedAzure(options: SimulatedAzureOptions = {}): Promise<SimulatedAzure> {
  const dataDir = options.dataDir ?? ".data";
  const tls = options.tls ?? (await loadOrCreateTlsMaterial(join(dataDir, "tls")));
  const saved = options.persist ? readSnapshot(dataDir) : undefined;
  const cloud = options.cloud ?? new SimulatedCloud(new SimulatedClock(options.timeScale ?? 1, saved?.simNowMs));
  cloud.caCertPem = tls.certPem;
  const closers: (() => Promise<void>)[] = [];
  let kubernetesUrl: string | undefined;

  // KUBERNETES EMULATOR HOOK: started before the ARM emulator, so that
  // kubeconfigs from listClusterUserCredential name its URL.
  const kubernetesPort = options.kubernetesPort || saved?.ports.kubernetes || 0;
  const kubernetes = await startKubernetesEmulator({ cloud, tls, port: kubernetesPort });
  cloud.kubernetesBaseUrl = kubernetesUrl = kubernetes.url;
  closers.push(() => kubernetes.close());

  const armPort = options.armPort || saved?.ports.arm || 0;
  const arm = await startArmEmulator({
    cloud,
    tls,
    port: armPort,
    ...(options.armSettings ? { settings: options.armSettings } : {}),
  });
  closers.push(() => arm.close());

  if (options.persist) {
    if (saved) restoreSnapshot(saved, arm.state, cloud, kubernetes);
    const ports = { arm: arm.port, kubernetes: kubernetes.port };
    const writer = new SnapshotWriter(dataDir, () => captureSnapshot(arm.state, cloud, kubernetes, ports));
    writer.save();
    // Saved before the emulators stop (closers run in reverse order of this list's use: all at once).
    closers.unshift(() => Promise.resolve(writer.stop()));
  }

  let closing: Promise<void> | undefined;
  const result: SimulatedAzure = {
    armUrl: arm.url,
    caCertPath: tls.caCertPath,
    caCertPem: tls.certPem,
    cloud,
    arm,
    kubernetes,
    close() {
      closing ??= (async () => {
        // The snapshot writer (first, when persisting) saves before anything stops.
        if (options.persist) await closers[0]!();
        await Promise.all(closers.slice(options.persist ? 1 : 0).map((c) => c()));
      })();
      return closing;
    },
  };
  if (kubernetesUrl !== undefined) result.kubernetesUrl = kubernetesUrl;
  return result;
}
