/**
 * The hook through which the local host starts simulated Azure (the ARM and
 * Kubernetes emulators, `src/emulators/simulatedAzure.ts`) in-process.
 */
export interface SimulatedAzureHandle {
  armUrl: string;
  kubernetesUrl: string | undefined;
  caCertPath: string;
  subscriptionId: string | undefined;
  close(): Promise<void>;
}

export async function startSimulatedAzureIfAvailable(_dataDir: string): Promise<SimulatedAzureHandle | undefined> {
  return undefined;
}
