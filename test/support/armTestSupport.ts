import { request } from "node:https";
import { Agent } from "node:https";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenCredential } from "@azure/core-auth";
import { startArmEmulator, type ArmEmulator } from "../../src/emulators/arm/armEmulator.js";
import type { ArmEmulatorSettings } from "../../src/emulators/arm/armEmulatorSettings.js";
import { SimulatedClock } from "../../src/emulators/simulatedClock.js";
import { SimulatedCloud } from "../../src/emulators/simulatedCloud.js";
import { loadOrCreateTlsMaterial, type TlsMaterial } from "../../src/emulators/tlsMaterial.js";
import { createTrustingHttpClient } from "../../src/adapters/arm/emulatorTrust.js";

let tlsPromise: Promise<TlsMaterial> | undefined;

/** One certificate per test process (generating RSA keys is the slow part). */
export function testTls(): Promise<TlsMaterial> {
  tlsPromise ??= mkdtemp(join(tmpdir(), "arm-emu-tls-")).then((d) => loadOrCreateTlsMaterial(d));
  return tlsPromise;
}

export const SUB = "00000000-0000-0000-0000-000000000000";
export const PREVIEW = "2026-10-02-preview";
export const STABLE = "2026-10-01";

/** What the SDKs reject with (RestError-like). */
export type SdkError = Error & { statusCode?: number; code?: string };

/** A static token credential, as the app uses in simulated mode. */
export const staticCredential: TokenCredential = {
  getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3600e3 }),
};

export interface TestArm {
  arm: ArmEmulator;
  cloud: SimulatedCloud;
  tls: TlsMaterial;
  /** Options for the SDK clients: endpoint + an HTTP client trusting only the emulator's certificate. */
  clientOptions: { endpoint: string; httpClient: ReturnType<typeof createTrustingHttpClient> };
  close(): Promise<void>;
}

/** Starts an ARM emulator on a free port with a fast clock (default scale 0.001). */
export async function startTestArm(settings: Partial<ArmEmulatorSettings> = {}, scale = 0.001): Promise<TestArm> {
  const tls = await testTls();
  const cloud = new SimulatedCloud(new SimulatedClock(scale));
  cloud.caCertPem = tls.certPem;
  cloud.kubernetesBaseUrl = "https://127.0.0.1:6443";
  const arm = await startArmEmulator({ cloud, tls, port: 0, settings });
  return {
    arm,
    cloud,
    tls,
    clientOptions: { endpoint: arm.url, httpClient: createTrustingHttpClient(tls.certPem) },
    close: () => arm.close(),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // Arbitrary JSON probed by assertions.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

const agents = new Map<string, Agent>();

/** A raw HTTPS call to the emulator (trusting only its certificate). `auth: false` omits the bearer token. */
export async function armCall(
  t: { arm: ArmEmulator; tls: TlsMaterial },
  method: string,
  pathAndQuery: string,
  body?: unknown,
  opts: { auth?: boolean | string; headers?: Record<string, string>; agent?: Agent } = {},
): Promise<RawResponse> {
  let agent = opts.agent ?? agents.get(t.tls.certPem);
  if (!agent) {
    agent = new Agent({ ca: t.tls.certPem, keepAlive: true, maxSockets: 64 });
    agents.set(t.tls.certPem, agent);
  }
  const url = pathAndQuery.startsWith("https://") ? new URL(pathAndQuery) : new URL(t.arm.url + pathAndQuery);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== false) headers.Authorization = typeof opts.auth === "string" ? opts.auth : "Bearer test-token";
  if (payload) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Path of a managed cluster. */
export function clusterPath(rg: string, name: string, sub = SUB): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
}

/** A minimal valid cluster body with one system pool. */
export function clusterBody(
  extra: { pool?: Record<string, unknown>; properties?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    location: "eastus",
    properties: {
      dnsPrefix: "dns",
      agentPoolProfiles: [
        { name: "system", count: 1, vmSize: "Standard_D4s_v3", mode: "System", osType: "Linux", ...extra.pool },
      ],
      ...extra.properties,
    },
  };
}

/** Polls `fn` until it returns true (wall-clock timeout, default 10 s). */
export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("waitUntil: timed out");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Creates a resource group and a cluster and waits until the cluster Succeeded. */
export async function createReadyCluster(
  t: TestArm,
  rg: string,
  name: string,
  body = clusterBody(),
  apiVersion = STABLE,
): Promise<void> {
  await armCall(t, "PUT", `/subscriptions/${SUB}/resourcegroups/${rg}?api-version=2025-04-01`, { location: "eastus" });
  const res = await armCall(t, "PUT", `${clusterPath(rg, name)}?api-version=${apiVersion}`, body);
  if (res.status !== 201 && res.status !== 200) throw new Error(`cluster create: ${res.status} ${res.text}`);
  await waitUntil(() => t.arm.state.cluster(SUB, rg, name)?.provisioningState === "Succeeded");
}
