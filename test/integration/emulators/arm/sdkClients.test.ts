import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { FeatureClient } from "@azure/arm-features";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ContainerServiceClient, restorePoller } from "@azure/arm-containerservice";
import {
  PREVIEW,
  SUB,
  startTestArm,
  staticCredential,
  waitUntil,
  armCall,
  type TestArm,
  type SdkError,
} from "../../../support/armTestSupport.js";

// The real Azure SDK clients, over HTTPS, trusting exactly the emulator's certificate.
describe("ARM emulator driven by the real Azure SDK clients", () => {
  let t: TestArm;
  before(async () => {
    t = await startTestArm(
      {
        featureRegistrationSeconds: 60,
        providerRegistrationSeconds: 30,
        clusterCreateSeconds: 300,
        poolCreateSeconds: 240,
        poolDeleteSeconds: 120,
        clusterDeleteSeconds: 120,
        pageSize: 2,
      },
      0.002,
    );
  });
  after(() => t.close());

  test("feature register → Registering → Registered; provider re-register; list/get/unregister", async () => {
    const features = new FeatureClient(staticCredential, SUB, t.clientOptions);
    const resources = new ResourceManagementClient(staticCredential, SUB, t.clientOptions);
    const before = await features.features.get("Microsoft.ContainerService", "KataVMIsolationPreview");
    assert.equal(before.properties?.state, "NotRegistered");
    const reg = await features.features.register("Microsoft.ContainerService", "KataVMIsolationPreview");
    assert.equal(reg.properties?.state, "Registering");
    assert.equal(reg.name, "Microsoft.ContainerService/KataVMIsolationPreview");
    await waitUntil(
      async () =>
        (await features.features.get("Microsoft.ContainerService", "KataVMIsolationPreview")).properties?.state ===
        "Registered",
    );
    const listed = [];
    for await (const f of features.features.list("Microsoft.ContainerService")) listed.push(f);
    assert.ok(
      listed.some(
        (f) => f.name === "Microsoft.ContainerService/KataVMIsolationPreview" && f.properties?.state === "Registered",
      ),
    );
    const all = [];
    for await (const f of features.features.listAll()) all.push(f);
    assert.ok(all.length >= 1);

    const p = await resources.providers.register("Microsoft.ContainerService");
    assert.equal(p.registrationState, "Registering");
    await waitUntil(
      async () => (await resources.providers.get("Microsoft.ContainerService")).registrationState === "Registered",
    );
    assert.deepEqual(t.arm.state.previewFeatureUsable(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview"), {
      usable: true,
    });

    await assert.rejects(
      features.features.get("Microsoft.ContainerService", "NoSuchFeature"),
      (e: SdkError) => e.statusCode === 404 && /The feature 'NoSuchFeature' could not be found\./.test(e.message),
    );
    const un = await features.features.unregister("Microsoft.ContainerService", "KataVMIsolationPreview");
    assert.equal(un.properties?.state, "Unregistered");
  });

  test("resource groups, clusters, pools (preview Kata), credentials, list paging, delete — with a poller restored in a new client", async () => {
    const resources = new ResourceManagementClient(staticCredential, SUB, t.clientOptions);
    await assert.rejects(
      resources.resourceGroups.get("rg-sdk"),
      (e: SdkError) => e.statusCode === 404 && e.code === "ResourceGroupNotFound",
    );
    const rg = await resources.resourceGroups.createOrUpdate("rg-sdk", { location: "eastus" });
    assert.equal(rg.name, "rg-sdk");
    assert.equal((await resources.resourceGroups.get("rg-sdk")).location, "eastus");

    t.arm.state.setFeatureState(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
    t.arm.state.registerProvider(SUB, "Microsoft.ContainerService");
    await waitUntil(() => t.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered");

    const aks = new ContainerServiceClient(staticCredential, SUB, { ...t.clientOptions, apiVersion: PREVIEW });
    const cluster = await aks.managedClusters.createOrUpdate(
      "rg-sdk",
      "sdk-cluster",
      {
        location: "eastus",
        dnsPrefix: "sdk",
        agentPoolProfiles: [{ name: "system", count: 1, vmSize: "Standard_D4s_v3", mode: "System", osType: "Linux" }],
      },
      { updateIntervalInMs: 20 },
    );
    assert.equal(cluster.provisioningState, "Succeeded");
    assert.equal(
      t.cloud.getCluster(cluster.id ? t.arm.state.cluster(SUB, "rg-sdk", "sdk-cluster")!.key : "")?.provisioningState,
      "Succeeded",
    );

    // Start a pool create, serialize the poller half-way, finish it in a new client.
    const poller = aks.agentPools.createOrUpdate(
      "rg-sdk",
      "sdk-cluster",
      "kata",
      {
        count: 2,
        vmSize: "Standard_D4s_v3",
        osType: "Linux",
        osSKU: "AzureLinux",
        mode: "User",
        workloadRuntime: "KataMshvVmIsolation",
      },
      { updateIntervalInMs: 20 },
    );
    await poller.submitted();
    const serialized = await poller.serialize();
    assert.ok(serialized.length < 4000, "serialized poller state is small");
    assert.equal(poller.isDone, false);
    const client2 = new ContainerServiceClient(staticCredential, SUB, { ...t.clientOptions, apiVersion: PREVIEW });
    const restored = restorePoller(client2, serialized, client2.agentPools.createOrUpdate, { updateIntervalInMs: 20 });
    const pool = await restored.pollUntilDone();
    assert.equal(pool.provisioningState, "Succeeded");
    assert.equal(pool.workloadRuntime, "KataMshvVmIsolation");
    await poller.pollUntilDone();
    const cloudPool = t.cloud.getCluster(t.arm.state.cluster(SUB, "rg-sdk", "sdk-cluster")!.key)!.pools.get("kata")!;
    assert.equal(cloudPool.everSucceeded, true);
    assert.equal(cloudPool.vCpuPerNode, 4);
    assert.equal(cloudPool.memoryGiBPerNode, 16);

    // Third pool so that listing pages (pageSize 2) follow nextLink.
    await aks.agentPools.createOrUpdate(
      "rg-sdk",
      "sdk-cluster",
      "extra",
      { count: 1, vmSize: "Standard_D2s_v3", mode: "User" },
      { updateIntervalInMs: 20 },
    );
    const pools = [];
    for await (const p of aks.agentPools.list("rg-sdk", "sdk-cluster")) pools.push(p.name);
    assert.deepEqual(pools.sort(), ["extra", "kata", "system"]);
    assert.ok(
      t.arm.requestLog.entries().some((e) => e.template.endsWith("/agentPools") && e.method === "GET"),
      "list logged",
    );
    assert.ok((await aks.agentPools.get("rg-sdk", "sdk-cluster", "kata")).id?.endsWith("/agentPools/kata"));
    const clusters = [];
    for await (const c of aks.managedClusters.listByResourceGroup("rg-sdk")) clusters.push(c.name);
    assert.deepEqual(clusters, ["sdk-cluster"]);
    const everywhere = [];
    for await (const c of aks.managedClusters.list()) everywhere.push(c.name);
    assert.ok(everywhere.includes("sdk-cluster"));

    const creds = await aks.managedClusters.listClusterUserCredentials("rg-sdk", "sdk-cluster");
    const kubeconfig = Buffer.from(creds.kubeconfigs![0]!.value!).toString("utf8");
    const key = t.arm.state.cluster(SUB, "rg-sdk", "sdk-cluster")!.key;
    assert.match(kubeconfig, new RegExp(`server: "https://127.0.0.1:6443/clusters/${key}"`));
    assert.ok(kubeconfig.includes(`token: "${t.cloud.getCluster(key)!.bearerToken}"`));
    assert.ok(kubeconfig.includes(Buffer.from(t.tls.certPem).toString("base64")));

    // Abort a running pool operation: it ends Canceled.
    const slow = aks.agentPools.createOrUpdate(
      "rg-sdk",
      "sdk-cluster",
      "aborted",
      { count: 1, vmSize: "Standard_D2s_v3", mode: "User" },
      { updateIntervalInMs: 20 },
    );
    await slow.submitted();
    await aks.agentPools.abortLatestOperation("rg-sdk", "sdk-cluster", "aborted");
    await assert.rejects(slow.pollUntilDone(), (e: SdkError) => /cancel/i.test(String(e.message ?? e)));
    assert.equal((await aks.agentPools.get("rg-sdk", "sdk-cluster", "aborted")).provisioningState, "Canceled");

    // Deletes: pool then cluster (Location + Azure-AsyncOperation), then 204 for missing.
    await aks.agentPools.delete("rg-sdk", "sdk-cluster", "kata", { updateIntervalInMs: 20 });
    await assert.rejects(aks.agentPools.get("rg-sdk", "sdk-cluster", "kata"), (e: SdkError) => e.statusCode === 404);
    await aks.managedClusters.delete("rg-sdk", "sdk-cluster", { updateIntervalInMs: 20 });
    assert.equal(t.cloud.getCluster(key), undefined);
    await aks.managedClusters.delete("rg-sdk", "sdk-cluster", { updateIntervalInMs: 20 });
  });

  test("the pinned SDK's default api-version is accepted", async () => {
    await armCall(t, "PUT", `/subscriptions/${SUB}/resourcegroups/rg-default?api-version=2025-04-01`, {
      location: "eastus",
    });
    const aks = new ContainerServiceClient(staticCredential, SUB, t.clientOptions);
    const list = [];
    for await (const c of aks.managedClusters.listByResourceGroup("rg-default")) list.push(c);
    assert.equal(list.length, 0);
    const logged = t.arm.requestLog
      .entries()
      .filter((e) => e.path.endsWith("/rg-default/providers/Microsoft.ContainerService/managedClusters"));
    assert.equal(logged.at(-1)?.apiVersion, "2026-04-01");
  });
});
