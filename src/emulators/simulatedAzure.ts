import { join } from "node:path";
import { startArmEmulator, type ArmEmulator } from "./arm/armEmulator.js";
import { startKubernetesEmulator, type RunningKubernetesEmulator } from "./kubernetes/kubernetesEmulator.js";
import type { ArmEmulatorSettings } from "./arm/armEmulatorSettings.js";
import { SimulatedClock } from "./simulatedClock.js";
import { SimulatedCloud } from "./simulatedCloud.js";
import { loadOrCreateTlsMaterial, type TlsMaterial } from "./tlsMaterial.js";

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
  const tls = options.tls ?? (await loadOrCreateTlsMaterial(join(options.dataDir ?? ".data", "tls")));
  const cloud = options.cloud ?? new SimulatedCloud(new SimulatedClock(options.timeScale ?? 1));
  cloud.caCertPem = tls.certPem;
  const closers: (() => Promise<void>)[] = [];
  let kubernetesUrl: string | undefined;

  // KUBERNETES EMULATOR HOOK: started before the ARM emulator, so that
  // kubeconfigs from listClusterUserCredential name its URL.
  const kubernetes = await startKubernetesEmulator({ cloud, tls, port: options.kubernetesPort ?? 0 });
  cloud.kubernetesBaseUrl = kubernetesUrl = kubernetes.url;
  closers.push(() => kubernetes.close());

  const arm = await startArmEmulator({ cloud, tls, port: options.armPort ?? 0, ...(options.armSettings ? { settings: options.armSettings } : {}) });
  closers.push(() => arm.close());

  let closing: Promise<void> | undefined;
  const result: SimulatedAzure = {
    armUrl: arm.url,
    caCertPath: tls.caCertPath,
    caCertPem: tls.certPem,
    cloud,
    arm,
    kubernetes,
    close() {
      closing ??= Promise.all(closers.map((c) => c())).then(() => undefined);
      return closing;
    },
  };
  if (kubernetesUrl !== undefined) result.kubernetesUrl = kubernetesUrl;
  return result;
}
