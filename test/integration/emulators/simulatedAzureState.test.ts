// Simulated Azure keeps its state in the data folder across restarts, as Azure would: clusters, pools,
// features, providers, running ARM operations, Kubernetes objects (finished Jobs with their logs), the
// API-server tokens kubeconfigs hold, and its ports (stored poller states hold absolute URLs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulatedAzure, type SimulatedAzure } from "../../../src/emulators/simulatedAzure.js";
import { readSnapshot } from "../../../src/emulators/simulatedAzureState.js";
import type { ArmEmulator } from "../../../src/emulators/arm/armEmulator.js";
import { Agent } from "node:https";
import { armCall as rawCall, clusterBody, clusterPath, testTls, waitUntil } from "../../support/armTestSupport.js";

// No keep-alive: connections must not outlive the emulators they went to.
const armCall: typeof rawCall = (t, method, path, body, opts = {}) =>
  rawCall(t, method, path, body, { agent: new Agent({ ca: t.tls.certPem }), ...opts });

const SUB = "22222222-2222-2222-2222-222222222222";
const SCALE = 0.001;

function arm(azure: SimulatedAzure): {
  arm: ArmEmulator;
  tls: { certPem: string; keyPem: string; caCertPath: string };
} {
  return { arm: azure.arm, tls: { certPem: azure.caCertPem, keyPem: "", caCertPath: azure.caCertPath } };
}

async function kube(azure: SimulatedAzure, clusterKey: string, method: string, path: string, body?: unknown) {
  const token = azure.cloud.getCluster(clusterKey)?.bearerToken ?? "none";
  return armCall(arm(azure), method, `${azure.kubernetesUrl!}/clusters/${clusterKey}${path}`, body, {
    auth: `Bearer ${token}`,
  });
}

async function start(dataDir: string, armSettings: Record<string, number> = {}): Promise<SimulatedAzure> {
  return startSimulatedAzure({ dataDir, tls: await testTls(), persist: true, timeScale: SCALE, armSettings });
}

test(
  "a restart continues where the last run stopped: same ports, clusters, features, Kubernetes objects",
  { timeout: 60_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sim-azure-state-"));
    let azure = await start(dataDir);
    try {
      await armCall(arm(azure), "PUT", `/subscriptions/${SUB}/resourcegroups/rg1?api-version=2025-04-01`, {
        location: "eastus",
      });
      const put = await armCall(
        arm(azure),
        "PUT",
        `${clusterPath("rg1", "c1", SUB)}?api-version=2026-10-01`,
        clusterBody(),
      );
      assert.equal(put.status, 201, put.text);
      await waitUntil(() => azure.arm.state.cluster(SUB, "rg1", "c1")?.provisioningState === "Succeeded");
      const feature = `/subscriptions/${SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/KataVMIsolationPreview`;
      const reg = await armCall(arm(azure), "POST", `${feature}/register?api-version=2021-07-01`);
      assert.equal(reg.status, 200, reg.text);
      await waitUntil(
        async () =>
          (await armCall(arm(azure), "GET", `${feature}?api-version=2021-07-01`)).body?.properties?.state ===
          "Registered",
      );
      const key = azure.arm.state.cluster(SUB, "rg1", "c1")!.key;
      const job = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "hello" },
        spec: {
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "main", image: "busybox:1.36", command: ["sh", "-c", "echo persisted-hello"] }],
            },
          },
        },
      };
      const created = await kube(azure, key, "POST", "/apis/batch/v1/namespaces/default/jobs", job);
      assert.equal(created.status, 201, created.text);
      await waitUntil(
        async () =>
          (await kube(azure, key, "GET", "/apis/batch/v1/namespaces/default/jobs/hello")).body?.status?.succeeded === 1,
        20_000,
      );
      const before = {
        arm: azure.armUrl,
        kubernetes: azure.kubernetesUrl,
        token: azure.cloud.getCluster(key)?.bearerToken,
      };
      await azure.close();

      azure = await start(dataDir);
      assert.equal(azure.armUrl, before.arm, "the ARM emulator listens on the same port");
      assert.equal(azure.kubernetesUrl, before.kubernetes, "the Kubernetes emulator listens on the same port");
      assert.equal(azure.cloud.getCluster(key)?.bearerToken, before.token, "kubeconfigs handed out before stay valid");
      const cluster = await armCall(arm(azure), "GET", `${clusterPath("rg1", "c1", SUB)}?api-version=2026-10-01`);
      assert.equal(cluster.status, 200, cluster.text);
      assert.equal(cluster.body.properties.provisioningState, "Succeeded");
      const state = await armCall(arm(azure), "GET", `${feature}?api-version=2021-07-01`);
      assert.equal(state.body.properties.state, "Registered");
      const restoredJob = await kube(azure, key, "GET", "/apis/batch/v1/namespaces/default/jobs/hello");
      assert.equal(restoredJob.status, 200, restoredJob.text);
      assert.equal(restoredJob.body.status.succeeded, 1);
      const pods = await kube(azure, key, "GET", "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dhello");
      assert.equal(pods.body.items.length, 1, pods.text);
      const log = await kube(
        azure,
        key,
        "GET",
        `/api/v1/namespaces/default/pods/${pods.body.items[0].metadata.name as string}/log`,
      );
      assert.equal(log.text, "persisted-hello\n");
    } finally {
      await azure.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);

test(
  "an ARM operation running at shutdown finishes after the restart at the Azure-AsyncOperation URL it had",
  { timeout: 60_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sim-azure-state-"));
    // 3000 simulated seconds = 3 s of wall time at this scale: still running when the emulators stop.
    let azure = await start(dataDir, { clusterCreateSeconds: 3000 });
    try {
      await armCall(arm(azure), "PUT", `/subscriptions/${SUB}/resourcegroups/rg2?api-version=2025-04-01`, {
        location: "eastus",
      });
      const put = await armCall(
        arm(azure),
        "PUT",
        `${clusterPath("rg2", "slow", SUB)}?api-version=2026-10-01`,
        clusterBody(),
      );
      assert.equal(put.status, 201, put.text);
      const asyncUrl = String(put.headers["azure-asyncoperation"]);
      assert.match(asyncUrl, /^https:\/\/127\.0\.0\.1:\d+\//);
      await azure.close();
      const saved = readSnapshot(dataDir);
      assert.equal(
        saved?.operations.filter((o) => o.status === "InProgress").length,
        1,
        "the running operation is in the snapshot",
      );

      azure = await start(dataDir);
      const first = await armCall(arm(azure), "GET", asyncUrl);
      assert.equal(first.status, 200, `the stored Azure-AsyncOperation URL still answers: ${first.text}`);
      await waitUntil(
        async () => (await armCall(arm(azure), "GET", asyncUrl)).body?.status === "Succeeded",
        30_000,
        50,
      );
      const cluster = await armCall(arm(azure), "GET", `${clusterPath("rg2", "slow", SUB)}?api-version=2026-10-01`);
      assert.equal(cluster.body.properties.provisioningState, "Succeeded");
    } finally {
      await azure.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
