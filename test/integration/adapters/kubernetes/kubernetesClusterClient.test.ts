import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { ResourceManagementClient } from "@azure/arm-resources";
import { startSimulatedAzure, type SimulatedAzure } from "../../../../src/emulators/simulatedAzure.js";
import { ArmClientFactory } from "../../../../src/adapters/arm/armClients.js";
import { ArmKubeconfigSource } from "../../../../src/adapters/arm/armKubeconfigSource.js";
import { KubernetesClientFactory } from "../../../../src/adapters/kubernetes/kubernetesClusterClient.js";
import { createTrustingHttpClient } from "../../../../src/adapters/arm/emulatorTrust.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import type { ClusterKubernetes, ClusterRef } from "../../../../src/domain/kubernetes/clusterKubernetes.js";
import { testTls, staticCredential } from "../../../support/armTestSupport.js";

const SUB = "22222222-2222-2222-2222-222222222222";
const STABLE = "2026-10-01";
const ref: ClusterRef = { subscriptionId: SUB, resourceGroup: "rg-k8s", clusterName: "kata1" };

describe("KubernetesClientFactory against the emulators (credentials from ARM)", () => {
  let azure: SimulatedAzure;
  let factory: KubernetesClientFactory;
  let k8s: ClusterKubernetes;

  before(async () => {
    azure = await startSimulatedAzure({ tls: await testTls(), timeScale: 0.001 });
    const options = { endpoint: azure.armUrl, httpClient: createTrustingHttpClient(azure.caCertPem) };
    await new ResourceManagementClient(staticCredential, SUB, options).resourceGroups.createOrUpdate("rg-k8s", {
      location: "eastus",
    });
    const aks = new ContainerServiceClient(staticCredential, SUB, { ...options, apiVersion: STABLE });
    await aks.managedClusters.createOrUpdate("rg-k8s", "kata1", {
      location: "eastus",
      dnsPrefix: "kata1",
      agentPoolProfiles: [
        {
          name: "system",
          count: 1,
          vmSize: "Standard_D4s_v3",
          mode: "System",
          osType: "Linux",
          osSKU: "AzureLinux",
          workloadRuntime: "KataVmIsolation",
        },
      ],
    });
    const arm = new ArmClientFactory({
      armEndpoint: azure.armUrl,
      simulate: true,
      simulatedCaCertPath: azure.caCertPath,
      azureAuthorityHost: undefined,
    });
    factory = new KubernetesClientFactory({ kubeconfigs: new ArmKubeconfigSource(arm, STABLE) });
    k8s = await factory.forCluster(ref);
  });
  after(async () => {
    await azure?.close();
  });

  test("credentials are fetched once and cached in memory", async () => {
    azure.arm.requestLog.clear?.();
    const again = await factory.forCluster({ ...ref, clusterName: "KATA1" });
    assert.equal(again, k8s);
    const calls = azure.arm.requestLog.entries().filter((e) => /listClusterUserCredential/i.test(e.path));
    assert.equal(calls.length, 0);
  });

  test("runtime class and sandbox nodes", async () => {
    const rc = await k8s.getRuntimeClass("kata-vm-isolation");
    assert.equal(rc?.handler, "kata-vm-isolation");
    assert.deepEqual(rc?.nodeSelector, { "kubernetes.azure.com/kata-vm-isolation": "true" });
    assert.equal(await k8s.getRuntimeClass("kata-mhsv-vm-isolation"), undefined, "the docs' typo does not exist");
    const nodes = await k8s.listNodes("kubernetes.azure.com/kata-vm-isolation=true");
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]!.kernelVersion, "5.15.80.mshv2-hvl1.m2");
    assert.ok(nodes[0]!.allocatableMilliCpu > 0 && nodes[0]!.allocatableMilliCpu <= 4000);
    assert.ok(nodes[0]!.allocatableMemoryMiB > 0 && nodes[0]!.allocatableMemoryMiB <= 16 * 1024);
  });

  test("namespace, job, pods, logs, events, delete", async () => {
    await k8s.ensureNamespace("team-alpha", { team: "alpha" });
    await k8s.ensureNamespace("team-alpha");
    const job = await k8s.createJob("team-alpha", {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "probe", labels: { app: "probe" } },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: "probe" } },
          spec: {
            runtimeClassName: "kata-vm-isolation",
            restartPolicy: "Never",
            containers: [{ name: "main", image: "busybox", command: ["uname", "-r"] }],
          },
        },
      },
    });
    assert.equal(job.metadata?.name, "probe");
    let done: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && !done; i += 1) {
      const current = await k8s.getJob("team-alpha", "probe");
      if (((current?.status as { succeeded?: number } | undefined)?.succeeded ?? 0) > 0) done = current;
      else await sleep(20);
    }
    assert.ok(done, "job completed");
    assert.equal((await k8s.listJobs("team-alpha", "app=probe")).length, 1);
    const pods = await k8s.listPods("team-alpha", "batch.kubernetes.io/job-name=probe");
    assert.equal(pods.length, 1);
    const log = await k8s.readPodLog("team-alpha", pods[0]!.metadata!.name!, { tailLines: 10 });
    assert.equal(log.trim(), "5.15.48.1-8.cm2");
    const events = await k8s.listEvents("team-alpha", "probe");
    assert.ok(events.length >= 1);
    assert.equal(await k8s.deleteJob("team-alpha", "probe", "Background"), true);
    assert.equal(await k8s.deleteJob("team-alpha", "probe", "Background"), false);
    assert.equal(await k8s.getJob("team-alpha", "probe"), undefined);
  });

  test("API errors become SandboxErrors with the server's causes", async () => {
    await assert.rejects(
      k8s.createJob("team-alpha", {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "Bad_Name" },
        spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
      }),
      (error: unknown) =>
        error instanceof SandboxError &&
        error.code === "UpstreamFailed" &&
        /Invalid/.test(error.message) &&
        error.details.length > 0,
    );
    await assert.rejects(
      k8s.readPodLog("team-alpha", "no-such-pod"),
      (error: unknown) => error instanceof SandboxError && error.code === "NotFound",
    );
  });

  test("a cluster being deleted is a Conflict carrying ARM's code, not an upstream failure", async () => {
    const options = { endpoint: azure.armUrl, httpClient: createTrustingHttpClient(azure.caCertPem) };
    const aks = new ContainerServiceClient(staticCredential, SUB, { ...options, apiVersion: STABLE });
    await aks.managedClusters.createOrUpdate("rg-k8s", "doomed", {
      location: "eastus",
      dnsPrefix: "doomed",
      agentPoolProfiles: [{ name: "system", count: 1, vmSize: "Standard_D4s_v3", mode: "System", osType: "Linux" }],
    });
    await aks.managedClusters.beginDelete("rg-k8s", "doomed");
    await assert.rejects(
      factory.forCluster({ ...ref, clusterName: "doomed" }),
      (error: unknown) =>
        error instanceof SandboxError &&
        error.code === "Conflict" &&
        error.details[0]?.code === "OperationNotAllowed" &&
        /being deleted/.test(error.message),
    );
  });

  test("an unknown cluster is NotFound from ARM", async () => {
    await assert.rejects(
      factory.forCluster({ ...ref, clusterName: "missing" }),
      (error: unknown) => error instanceof SandboxError && error.code === "NotFound",
    );
  });
});
