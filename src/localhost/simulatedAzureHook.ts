import { join } from "node:path";

/**
 * How the local host starts simulated Azure (the ARM and Kubernetes emulators
 * of `src/emulators/`) in-process for `npm start`.
 */
export interface SimulatedAzureHandle {
  armUrl: string;
  kubernetesUrl: string | undefined;
  caCertPath: string;
  close(): Promise<void>;
}

/**
 * Starts the emulators with TLS material under `<dataDir>/tls`, ports from
 * `ARM_EMULATOR_PORT` / `K8S_EMULATOR_PORT` (default free ones) and
 * `SIM_TIME_SCALE` (default 1 = real time).
 */
export async function startSimulatedAzureForHost(
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<SimulatedAzureHandle> {
  // Imported lazily: the emulators are dev tooling, never loaded in Azure.
  const { startSimulatedAzure } = await import("../emulators/simulatedAzure.js");
  const scale = env.SIM_TIME_SCALE === undefined || env.SIM_TIME_SCALE === "" ? 1 : Number(env.SIM_TIME_SCALE);
  const azure = await startSimulatedAzure({
    dataDir,
    // State (clusters, pools, features, Kubernetes objects) and ports survive restarts of `npm start`.
    persist: true,
    timeScale: scale,
    armPort: env.ARM_EMULATOR_PORT ? Number(env.ARM_EMULATOR_PORT) : 0,
    kubernetesPort: env.K8S_EMULATOR_PORT ? Number(env.K8S_EMULATOR_PORT) : 0,
  });
  return {
    armUrl: azure.armUrl,
    kubernetesUrl: azure.kubernetesUrl,
    caCertPath: azure.caCertPath ?? join(dataDir, "tls"),
    close: () => azure.close(),
  };
}
