import { startSimulatedAzure, type SimulatedAzure } from "../../src/emulators/simulatedAzure.js";
import { SimulatedCloud } from "../../src/emulators/simulatedCloud.js";
import { DEMO_SUBSCRIPTION_ID } from "../../src/config/simulatedPolicy.js";
import { SANDBOX_NETWORK_PROFILE } from "../../src/domain/operations/kinds/clusterKinds.js";
import { armCall, testTls, waitUntil } from "./armTestSupport.js";
import { startAppHost, type AppHost } from "./appHost.js";
import { startInProcessApp, type InProcessApp } from "./inProcessApp.js";

/**
 * The app against simulated Azure started in the test process: the local stack (npm start) as a child process
 * ({@link startSandboxStack}, `host` an {@link AppHost}) or the app in the test's own process
 * ({@link startInProcessStack}, `host` an {@link InProcessApp}).
 */
export interface SandboxStack<H extends AppHost | InProcessApp = AppHost> {
  azure: SimulatedAzure;
  host: H;
  subscriptionId: string;
  /** `…/api/v1/subscriptions/{sub}/resourceGroups/{rg}/clusters/{name}` relative to the API root. */
  clusterPath(resourceGroup: string, name: string): string;
  /** The emulator's cluster key (for `azure.kubernetes.snapshot`). */
  clusterKey(resourceGroup: string, name: string): string;
  /**
   * An AKS cluster (1 node of `vmSize`, default pool runtime `workloadRuntime`), ready. Its network
   * profile is the one the service gives the clusters it creates (Cilium) unless `networkProfile`
   * says otherwise (`{}`: no network policy engine, as a user's own cluster may be).
   */
  createCluster(
    resourceGroup: string,
    name: string,
    options?: { vmSize?: string; workloadRuntime?: string; networkProfile?: Record<string, unknown> },
  ): Promise<void>;
  /** `fetch` against the API with a bearer token. */
  call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export const MASTER_KEY = "test-master-key";

interface StackOptions {
  scale?: number;
  env?: Record<string, string>;
}

/** Simulated Azure at time scale `scale`, fast cluster creation, the preview feature registered on the demo subscription. */
async function startStackAzure(scale: number) {
  const tls = await testTls();
  const azure = await startSimulatedAzure({
    tls,
    timeScale: scale,
    armSettings: { clusterCreateSeconds: 20, poolCreateSeconds: 20 },
  });
  azure.arm.state.setFeatureState(
    DEMO_SUBSCRIPTION_ID,
    "Microsoft.ContainerService",
    "KataVMIsolationPreview",
    "Registered",
  );
  azure.arm.state.registerProvider(DEMO_SUBSCRIPTION_ID, "Microsoft.ContainerService");
  return { azure, tls };
}

/** The app's settings against `azure` (simulated mode, time scale `scale`) and the test's own. */
function stackEnv(azure: SimulatedAzure, scale: number, env: Record<string, string> = {}): Record<string, string> {
  return {
    SANDBOX_SIMULATE: "true",
    ARM_ENDPOINT: azure.armUrl,
    SANDBOX_SIMULATED_CA_CERT: azure.caCertPath,
    SIM_TIME_SCALE: String(scale),
    LOCALHOST_MASTER_KEY: MASTER_KEY,
    ...env,
  };
}

/**
 * Starts simulated Azure (time scale `scale`, fast cluster creation, the
 * preview feature registered on the demo subscription) and the local stack
 * pointed at it.
 */
export async function startSandboxStack(options: StackOptions = {}): Promise<SandboxStack> {
  const scale = options.scale ?? 0.01;
  const { azure, tls } = await startStackAzure(scale);
  const host = await startAppHost({ env: stackEnv(azure, scale, options.env) });
  return stackOf(azure, tls, host, (method, path, token, body, headers = {}) =>
    fetch(`${host.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    }),
  );
}

/**
 * Starts simulated Azure as {@link startSandboxStack} does and the app in the test's own process against it
 * (real services and adapters, handlers called in-process; its own Azurite). Timers run on their schedules
 * unless `timers` is false (then the test fires them: `stack.host.fireTimer`).
 */
export async function startInProcessStack(
  options: StackOptions & { timers?: boolean } = {},
): Promise<SandboxStack<InProcessApp>> {
  const scale = options.scale ?? 0.01;
  const { azure, tls } = await startStackAzure(scale);
  const host = await startInProcessApp({ env: stackEnv(azure, scale, options.env), timers: options.timers ?? true });
  return stackOf(azure, tls, host, (method, path, token, body, headers) =>
    host.call(method, path, token, body, headers),
  );
}

function stackOf<H extends AppHost | InProcessApp>(
  azure: SimulatedAzure,
  tls: Awaited<ReturnType<typeof testTls>>,
  host: H,
  call: SandboxStack<H>["call"],
): SandboxStack<H> {
  const sub = DEMO_SUBSCRIPTION_ID;
  const t = { arm: azure.arm, tls };
  return {
    azure,
    host,
    subscriptionId: sub,
    clusterPath: (rg, name) => `/subscriptions/${sub}/resourceGroups/${rg}/clusters/${name}`,
    clusterKey: (rg, name) => SimulatedCloud.clusterKey(sub, rg, name),
    async createCluster(rg, name, clusterOptions = {}) {
      await waitUntil(
        () => azure.arm.state.provider(sub, "Microsoft.ContainerService").state === "Registered",
        30_000,
        20,
      );
      await armCall(t, "PUT", `/subscriptions/${sub}/resourcegroups/${rg}?api-version=2025-04-01`, {
        location: "eastus",
      });
      const res = await armCall(
        t,
        "PUT",
        `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}?api-version=2026-10-02-preview`,
        {
          location: "eastus",
          properties: {
            dnsPrefix: name,
            networkProfile: clusterOptions.networkProfile ?? { ...SANDBOX_NETWORK_PROFILE },
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
        },
      );
      if (res.status !== 200 && res.status !== 201) throw new Error(`cluster create: ${res.status} ${res.text}`);
      await waitUntil(() => azure.arm.state.cluster(sub, rg, name)?.provisioningState === "Succeeded", 60_000, 20);
    },
    call,
    async close() {
      await host.stop();
      await azure.close();
    },
  };
}

/** Polls `probe` every `stepMs` until it returns a value (not undefined); throws after `timeoutMs`. */
export async function poll<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  stepMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
