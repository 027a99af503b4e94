import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchV1Api, CoreV1Api, KubeConfig, NodeV1Api } from "@kubernetes/client-node";
import { startSimulatedAzure, type SimulatedAzure } from "../../../../src/emulators/simulatedAzure.js";
import { loadOrCreateTlsMaterial } from "../../../../src/emulators/tlsMaterial.js";
import {
  armCall,
  clusterBody,
  clusterPath,
  createReadyCluster,
  STABLE,
  type TestArm,
} from "../../../support/armTestSupport.js";
import { eventually, jobManifest } from "../../../support/kubernetesTestCluster.js";

/*
 * End to end through simulated Azure: a cluster created through the ARM
 * emulator appears in the Kubernetes emulator, and the kubeconfig from
 * listClusterUserCredential reaches it (HTTPS trust via the kubeconfig CA only).
 */
describe("ARM emulator cluster → Kubernetes emulator", () => {
  let azure: SimulatedAzure;
  let dir: string;
  let t: TestArm;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "arm-k8s-"));
    const tls = await loadOrCreateTlsMaterial(dir);
    azure = await startSimulatedAzure({ tls, timeScale: 0.001 });
    t = { arm: azure.arm, cloud: azure.cloud, tls, clientOptions: undefined as never, close: () => azure.close() };
  });
  after(async () => {
    await azure.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a KataVmIsolation cluster: kubeconfig from listClusterUserCredential, runtime class, sandboxed job with the guest kernel", async () => {
    await createReadyCluster(
      t,
      "rg-k8s",
      "kata-ga",
      clusterBody({ pool: { workloadRuntime: "KataVmIsolation", osSKU: "AzureLinux" } }),
      STABLE,
    );
    const creds = await armCall(
      t,
      "POST",
      `${clusterPath("rg-k8s", "kata-ga")}/listClusterUserCredential?api-version=${STABLE}`,
    );
    assert.equal(creds.status, 200, creds.text);
    const kubeconfig = Buffer.from(creds.body.kubeconfigs[0].value, "base64").toString("utf8");
    assert.ok(kubeconfig.includes(`${azure.kubernetes.url}/clusters/`), "the kubeconfig names the Kubernetes emulator");

    const kc = new KubeConfig();
    kc.loadFromString(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const batch = kc.makeApiClient(BatchV1Api);
    const nodeApi = kc.makeApiClient(NodeV1Api);

    const nodes = await eventually(async () => {
      const list = await core.listNode();
      return list.items.length > 0 ? list.items : undefined;
    }, "nodes of the new cluster");
    assert.equal(nodes[0]?.metadata?.labels?.["kubernetes.azure.com/kata-vm-isolation"], "true");
    assert.equal(nodes[0]?.metadata?.labels?.["kubernetes.azure.com/agentpool"], "system");
    const rc = await nodeApi.readRuntimeClass({ name: "kata-vm-isolation" });
    assert.equal(rc.handler, "kata-vm-isolation");

    await batch.createNamespacedJob({
      namespace: "default",
      body: jobManifest("isolation-check", { command: ["uname", "-r"] }, {}, { runtimeClassName: "kata-vm-isolation" }),
    });
    const pod = await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace: "default", labelSelector: "job-name=isolation-check" });
      return pods.items[0]?.status?.phase === "Succeeded" ? pods.items[0] : undefined;
    }, "isolation-check pod to succeed");
    assert.equal(
      await core.readNamespacedPodLog({ name: pod.metadata?.name ?? "", namespace: "default" }),
      "5.15.48.1-8.cm2\n",
    );

    // Deleting the cluster through ARM takes its API away.
    await armCall(t, "DELETE", `${clusterPath("rg-k8s", "kata-ga")}?api-version=${STABLE}`);
    await eventually(async () => {
      try {
        await core.listNode();
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    }, "cluster API gone after ARM delete");
  });
});
