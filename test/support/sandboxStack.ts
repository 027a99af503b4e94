import { startSimulatedAzure, type SimulatedAzure } from "../../src/emulators/simulatedAzure.js";
import { SimulatedCloud } from "../../src/emulators/simulatedCloud.js";
import { DEMO_SUBSCRIPTION_ID } from "../../src/config/simulatedPolicy.js";
import { armCall, testTls, waitUntil } from "./armTestSupport.js";
import { startAppHost, type AppHost } from "./appHost.js";

/** The local stack (npm start) against simulated Azure started in the test process. */
export interface SandboxStack {
  azure: SimulatedAzure;
  host: AppHost;
  subscriptionId: string;
  /** `…/api/v1/subscriptions/{sub}/resourceGroups/{rg}/clusters/{name}` relative to the API root. */
  clusterPath(resourceGroup: string, name: string): string;
  /** The emulator's cluster key (for `azure.kubernetes.snapshot`). */
  clusterKey(resourceGroup: string, name: string): string;
  /** An AKS cluster (1 node of `vmSize`, default pool runtime `workloadRuntime`), ready. */
  createCluster(resourceGroup: string, name: string, options?: { vmSize?: string; workloadRuntime?: string }): Promise<void>;
  /** `fetch` against the API with a bearer token. */
  call(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export const MASTER_KEY = "test-master-key";

/**
 * Starts simulated Azure (time scale `scale`, fast cluster creation, the
 * preview feature registered on the demo subscription) and the local stack
 * pointed at it.
 */
export async function startSandboxStack(options: { scale?: number; env?: Record<string, string> } = {}): Promise<SandboxStack> {
  const scale = options.scale ?? 0.01;
  const tls = await testTls();
  const azure = await startSimulatedAzure({ tls, timeScale: scale, armSettings: { clusterCreateSeconds: 20, poolCreateSeconds: 20 } });
  const sub = DEMO_SUBSCRIPTION_ID;
  azure.arm.state.setFeatureState(sub, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
  azure.arm.state.registerProvider(sub, "Microsoft.ContainerService");
  const host = await startAppHost({
    env: {
      SANDBOX_SIMULATE: "true",
      ARM_ENDPOINT: azure.armUrl,
      SANDBOX_SIMULATED_CA_CERT: azure.caCertPath,
      SIM_TIME_SCALE: String(scale),
      LOCALHOST_MASTER_KEY: MASTER_KEY,
      ...options.env,
    },
  });
  const t = { arm: azure.arm, tls };
  return {
    azure,
    host,
    subscriptionId: sub,
    clusterPath: (rg, name) => `/subscriptions/${sub}/resourceGroups/${rg}/clusters/${name}`,
    clusterKey: (rg, name) => SimulatedCloud.clusterKey(sub, rg, name),
    async createCluster(rg, name, clusterOptions = {}) {
      await waitUntil(() => azure.arm.state.provider(sub, "Microsoft.ContainerService").state === "Registered", 30_000, 20);
      await armCall(t, "PUT", `/subscriptions/${sub}/resourcegroups/${rg}?api-version=2025-04-01`, { location: "eastus" });
      const res = await armCall(t, "PUT", `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}?api-version=2026-10-02-preview`, {
        location: "eastus",
        properties: {
          dnsPrefix: name,
          agentPoolProfiles: [
            {
              name: "system",
              count: 1,
              vmSize: clusterOptions.vmSize ?? "Standard_D4s_v3",
              mode: "System",
              osType: "Linux",
              osSKU: "AzureLinux",
              workloadRuntime: clusterOptions.workloadRuntime ?? "KataMshvVmIsolation",
            },
          ],
        },
      });
      if (res.status !== 200 && res.status !== 201) throw new Error(`cluster create: ${res.status} ${res.text}`);
      await waitUntil(() => azure.arm.state.cluster(sub, rg, name)?.provisioningState === "Succeeded", 60_000, 20);
    },
    call(method, path, token, body, headers = {}) {
      return fetch(`${host.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
    },
    async close() {
      await host.stop();
      await azure.close();
    },
  };
}

/** Polls `probe` every `stepMs` until it returns a value (not undefined); throws after `timeoutMs`. */
export async function poll<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
