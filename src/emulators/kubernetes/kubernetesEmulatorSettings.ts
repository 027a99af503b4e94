/**
 * Tunables of the Kubernetes emulator. All durations are simulated seconds
 * (see `SimulatedClock`); the defaults approximate a small AKS cluster.
 */
export interface KubernetesEmulatorSettings {
  /** What `uname -r` prints inside a Kata sandbox (the guest kernel). Default `5.15.48.1-8.cm2` (AKS docs). */
  guestKernel: string;
  /** Kernel of sandbox-pool nodes (host kernel). Default `5.15.80.mshv2-hvl1.m2` (AKS docs). */
  sandboxNodeKernel: string;
  /** Kernel of ordinary Azure Linux nodes. Default `5.15.173.1-2.cm2`. */
  azureLinuxNodeKernel: string;
  /** Kernel of ordinary Ubuntu nodes. Default `5.15.0-1079-azure`. */
  ubuntuNodeKernel: string;
  /** Scheduling latency after a pod is created. Default 1. */
  scheduleSeconds: number;
  /** Image pull + container creation for ordinary (runc) pods. Default 2. */
  containerCreateSeconds: number;
  /** Image pull + Kata VM boot for sandboxed pods. Default 6. */
  sandboxCreateSeconds: number;
  /** How long a deleted pod stays `Terminating` (capped by its grace period). Default 1. */
  terminationSeconds: number;
  /** Interval at which unschedulable / failing pods and failed pod creations are retried. Default 10. */
  retrySeconds: number;
  /** First job back-off delay after a failed pod; doubles per failure up to 360 s (as the job controller). Default 10. */
  jobBackoffSeconds: number;
  /** Pod sandbox VM fixed size (vCPU) added to cpu limits of sandboxed pods. Default 1. */
  sandboxVmCpu: number;
  /** Pod sandbox VM fixed memory (GiB) added to memory limits of sandboxed pods. Default 2. */
  sandboxVmMemoryGiB: number;
}

export const DEFAULT_KUBERNETES_EMULATOR_SETTINGS: Readonly<KubernetesEmulatorSettings> = Object.freeze({
  guestKernel: "5.15.48.1-8.cm2",
  sandboxNodeKernel: "5.15.80.mshv2-hvl1.m2",
  azureLinuxNodeKernel: "5.15.173.1-2.cm2",
  ubuntuNodeKernel: "5.15.0-1079-azure",
  scheduleSeconds: 1,
  containerCreateSeconds: 2,
  sandboxCreateSeconds: 6,
  terminationSeconds: 1,
  retrySeconds: 10,
  jobBackoffSeconds: 10,
  sandboxVmCpu: 1,
  sandboxVmMemoryGiB: 2,
});

/** Fills in defaults for omitted settings. */
export function resolveKubernetesEmulatorSettings(
  partial: Partial<KubernetesEmulatorSettings> = {},
): KubernetesEmulatorSettings {
  return { ...DEFAULT_KUBERNETES_EMULATOR_SETTINGS, ...partial };
}
