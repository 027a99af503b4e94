import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { SimulatedClock } from "../../src/emulators/simulatedClock.js";
import { SimulatedCloud, type SimulatedCluster, type SimulatedNodePool } from "../../src/emulators/simulatedCloud.js";
import { loadOrCreateTlsMaterial } from "../../src/emulators/tlsMaterial.js";
import { kubeconfigForCluster } from "../../src/emulators/kubernetes/kubeconfigForCluster.js";
import {
  startKubernetesEmulator,
  type RunningKubernetesEmulator,
} from "../../src/emulators/kubernetes/kubernetesEmulator.js";
import type { KubernetesEmulatorSettings } from "../../src/emulators/kubernetes/kubernetesEmulatorSettings.js";

/** A pool as the ARM emulator would record it once provisioned. */
export function testPool(overrides: Partial<SimulatedNodePool> & { name: string }): SimulatedNodePool {
  return {
    vmSize: "Standard_D4s_v3",
    count: 1,
    vCpuPerNode: 4,
    memoryGiBPerNode: 16,
    workloadRuntime: "KataMshvVmIsolation",
    osSku: "AzureLinux",
    mode: "System",
    provisioningState: "Succeeded",
    everSucceeded: true,
    labels: {},
    taints: [],
    ...overrides,
  };
}

/** Adds a cluster (version 1.30) with the given pools to `cloud`. */
export function addTestCluster(cloud: SimulatedCloud, name: string, pools: SimulatedNodePool[]): SimulatedCluster {
  const cluster = cloud.upsertCluster({
    armId: `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-test/providers/Microsoft.ContainerService/managedClusters/${name}`,
    subscriptionId: "00000000-0000-0000-0000-000000000001",
    resourceGroup: "rg-test",
    name,
    location: "westeurope",
    kubernetesVersion: "1.30.6",
    provisioningState: "Succeeded",
  });
  for (const pool of pools) cloud.upsertPool(cluster.key, pool);
  return cluster;
}

export interface KubernetesTestEnv {
  cloud: SimulatedCloud;
  emulator: RunningKubernetesEmulator;
  /** A cluster with one KataMshvVmIsolation pool (`sandbox`, 1 node Standard_D4s_v3). */
  cluster: SimulatedCluster;
  kubeconfig: string;
  kubeconfigPath: string;
  kc: KubeConfig;
  dir: string;
  close(): Promise<void>;
}

/**
 * Starts an emulator on port 0 with a fast clock (default scale 0.002: a
 * simulated second takes 2 ms) and one sandbox cluster. Call `close()`.
 */
export async function startKubernetesTestEnv(
  options: { scale?: number; pools?: SimulatedNodePool[]; settings?: Partial<KubernetesEmulatorSettings> } = {},
): Promise<KubernetesTestEnv> {
  const dir = await mkdtemp(join(tmpdir(), "k8s-emulator-test-"));
  const tls = await loadOrCreateTlsMaterial(dir);
  const cloud = new SimulatedCloud(new SimulatedClock(options.scale ?? 0.002));
  const cluster = addTestCluster(cloud, "aks-test", options.pools ?? [testPool({ name: "sandbox" })]);
  const emulator = await startKubernetesEmulator({ cloud, tls, settings: options.settings });
  const kubeconfig = kubeconfigForCluster(cloud, cluster);
  const kubeconfigPath = join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return {
    cloud,
    emulator,
    cluster,
    kubeconfig,
    kubeconfigPath,
    kc,
    dir,
    async close() {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- test JSON is inspected freely */

/** Polls `probe` (every 5 ms wall time) until it returns a value other than undefined; fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON body (undefined when the body is not JSON). */
  json: any;
}

/**
 * One HTTPS request to the emulator, trusting only its certificate (as the
 * kubeconfig does). `path` is relative to the cluster (`/api/v1/nodes`) unless
 * it starts with `!` (then relative to the server root). `token` null = no
 * Authorization header; default the cluster's token.
 */
export async function rawRequest(
  env: KubernetesTestEnv,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; headers?: Record<string, string>; clusterKey?: string } = {},
): Promise<RawResponse> {
  const url = path.startsWith("!")
    ? `${env.emulator.url}${path.slice(1)}`
    : `${env.emulator.clusterUrl(options.clusterKey ?? env.cluster.key)}${path}`;
  const token = options.token === undefined ? env.cluster.bearerToken : options.token;
  const payload =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: env.cloud.caCertPem,
        headers: {
          Accept: "application/json",
          ...(payload !== undefined
            ? { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(payload)) }
            : {}),
          ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
          ...(options.headers ?? {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** A minimal batch/v1 Job manifest. */
export function jobManifest(
  name: string,
  container: Record<string, unknown>,
  spec: Record<string, unknown> = {},
  podSpec: Record<string, unknown> = {},
): any {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, labels: { app: "emulator-test" } },
    spec: {
      ...spec,
      template: {
        spec: {
          restartPolicy: "Never",
          ...podSpec,
          containers: [{ name: "main", image: "busybox:1.36", ...container }],
        },
      },
    },
  };
}
