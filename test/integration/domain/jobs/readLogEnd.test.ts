// The captured log tail and the live-log cap, through the real Kubernetes client against the Kubernetes emulator
// (whose log endpoint applies tailLines, then limitBytes from the start of the tail, as the API server does).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubernetesClientFactory } from "../../../../src/adapters/kubernetes/kubernetesClusterClient.js";
import { buildJobManifest } from "../../../../src/domain/jobs/jobManifest.js";
import type { JobRecord } from "../../../../src/domain/jobs/jobRecord.js";
import { DEFAULT_LIVE_LOG_LIMIT_BYTES, JobService } from "../../../../src/domain/jobs/jobService.js";
import { readLogEnd } from "../../../../src/domain/jobs/readLogEnd.js";
import type { ClusterKubernetes } from "../../../../src/domain/kubernetes/clusterKubernetes.js";
import { InMemoryJobStore } from "../../../support/fakes/inMemoryJobStore.js";
import { eventually, startKubernetesTestEnv, type KubernetesTestEnv } from "../../../support/kubernetesTestCluster.js";
import { ALPHA_CLUSTER, fixturePolicy, principal } from "../../../support/policyFixtures.js";

const NAMESPACE = "logs";
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
/** 25,000 lines of 300 bytes: the emulator keeps the last 20,000 (6,000,000 bytes, more than 4 MiB). */
const line = (i: number) => `line ${String(i).padStart(6, "0")} ${"x".repeat(287)}`;
const LINES = Array.from({ length: 25_000 }, (_, i) => line(i));

describe("log tails through the Kubernetes emulator", () => {
  let env: KubernetesTestEnv;
  let k8s: ClusterKubernetes;
  let kubernetes: KubernetesClientFactory;

  before(async () => {
    env = await startKubernetesTestEnv();
    kubernetes = new KubernetesClientFactory({ kubeconfigs: { userKubeconfig: async () => env.kubeconfig } });
    k8s = await kubernetes.forCluster(ALPHA_CLUSTER);
    await k8s.ensureNamespace(NAMESPACE, {});
  });
  after(async () => {
    await env?.close();
  });

  const startJob = async (name: string, durationSeconds: number): Promise<JobRecord> => {
    env.emulator.scripts.set({ match: { namePrefix: `${name}-` }, logLines: LINES, durationSeconds });
    const uid = `j-${name}`;
    const manifest = { name, namespace: NAMESPACE, image: IMAGE, team: "alpha", jobId: uid, requestId: "r" };
    await k8s.createJob(
      NAMESPACE,
      buildJobManifest({
        ...manifest,
        runtimeClassName: undefined,
        timeoutSeconds: 3600,
        ttlSecondsAfterFinished: 3600,
        backoffLimit: 0,
        runAsNonRoot: true,
      }),
    );
    return {
      team: "alpha",
      cluster: ALPHA_CLUSTER,
      name,
      namespace: NAMESPACE,
      uid,
      isolation: "none",
      runtimeClassName: undefined,
      sandboxVm: undefined,
      image: IMAGE,
      status: "Pending",
      createdAt: new Date().toISOString(),
      createdBy: "test",
      requestId: "r",
      warnings: [],
      refreshedAt: undefined,
      logs: undefined,
    };
  };
  const service = (store: InMemoryJobStore) =>
    new JobService({
      store,
      kubernetes,
      slots: { reserveJobSlot: async () => undefined, releaseJobSlot: async () => true },
      policy: fixturePolicy(),
      runtimeClassName: "kata-vm-isolation",
    });
  const podOf = async (uid: string) =>
    eventually(async () => {
      const pods = await k8s.listPods(NAMESPACE, `aks-pod-sandbox.io/job-id=${uid}`);
      const started = pods.find((p) =>
        (p.status as { containerStatuses?: { state?: object }[] } | undefined)?.containerStatuses?.some(
          (c) => c.state && !("waiting" in c.state),
        ),
      );
      return started?.metadata?.name;
    }, "a started pod");

  test("the emulator cuts limitBytes from the start of the tailLines tail, as the API server does", async () => {
    const record = await startJob("cut", 0);
    const pod = await podOf(record.uid);
    const text = await k8s.readPodLog(NAMESPACE, pod, { tailLines: 20_000, limitBytes: 4 * 1024 * 1024 });
    assert.equal(Buffer.byteLength(text), 4 * 1024 * 1024);
    assert.ok(text.startsWith(`${line(5000)}\n`), "the first of the last 20,000 lines");
    const end = await readLogEnd((o) => k8s.readPodLog(NAMESPACE, pod, o), {
      maxLines: 20_000,
      maxBytes: 4 * 1024 * 1024,
    });
    assert.equal(end.shortened, true);
    assert.ok(end.text.endsWith(`${line(24_999)}\n`), "ends where the log ends");
    assert.ok(Buffer.byteLength(end.text) <= 4 * 1024 * 1024);
  });

  test("the tail captured when a job ends is the end of the log although its last 20,000 lines exceed 4 MiB", async () => {
    const store = new InMemoryJobStore();
    const jobs = service(store);
    const record = await store.insert(await startJob("ended", 1));
    const done = await eventually(async () => {
      const next = await jobs.refresh((await store.get("alpha", ALPHA_CLUSTER, "ended"))!);
      return next.status === "Succeeded" ? next : undefined;
    }, "the job to succeed");
    assert.equal(done.logs?.truncated, true);
    const captured = await store.readLogs(done);
    assert.ok(captured.endsWith(`${line(24_999)}\n`), `captured tail ends with: ${captured.slice(-40)}`);
    assert.ok(Buffer.byteLength(captured) <= 256 * 1024);
    const logs = await jobs.logs({
      principal: principal("alpha", ["Sandbox.Reader"]),
      cluster: ALPHA_CLUSTER,
      name: record.name,
    });
    assert.ok(logs.endsWith(`${line(24_999)}\n`));
  });

  test("a live log read without limitBytes is capped at 1 MiB; an explicit limitBytes is honoured", async () => {
    const store = new InMemoryJobStore();
    const jobs = service(store);
    const record = await store.insert(await startJob("live", 86_400));
    await podOf(record.uid);
    const reader = principal("alpha", ["Sandbox.Reader"]);
    const capped = await jobs.logs({ principal: reader, cluster: ALPHA_CLUSTER, name: "live" });
    assert.equal(Buffer.byteLength(capped), DEFAULT_LIVE_LOG_LIMIT_BYTES);
    assert.equal(DEFAULT_LIVE_LOG_LIMIT_BYTES, 1024 * 1024);
    const asked = await jobs.logs({
      principal: reader,
      cluster: ALPHA_CLUSTER,
      name: "live",
      limitBytes: 2 * 1024 * 1024,
    });
    assert.equal(Buffer.byteLength(asked), 2 * 1024 * 1024);
    const last = await jobs.logs({ principal: reader, cluster: ALPHA_CLUSTER, name: "live", tailLines: 2 });
    assert.equal(last, `${line(24_998)}\n${line(24_999)}\n`);
  });
});
