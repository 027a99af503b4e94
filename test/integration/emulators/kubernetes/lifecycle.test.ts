import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { BatchV1Api, CoreV1Api, type V1Job, type V1Pod } from "@kubernetes/client-node";
import {
  eventually,
  jobManifest,
  rawRequest,
  startKubernetesTestEnv,
  testPool,
  type KubernetesTestEnv,
} from "../../../support/kubernetesTestCluster.js";

/*
 * The simulated lifecycle on the shared clock (scale 0.002: one simulated
 * second = 2 ms): jobs, pods, sandbox rules. Each test uses its own namespace.
 */

const SANDBOX = "kata-mshv-vm-isolation";

describe("Kubernetes emulator lifecycle", () => {
  let env: KubernetesTestEnv;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  let nsCounter = 0;

  before(async () => {
    env = await startKubernetesTestEnv({
      scale: 0.002,
      pools: [
        testPool({ name: "sandbox", count: 2, vmSize: "Standard_D16s_v3", vCpuPerNode: 16, memoryGiBPerNode: 64 }),
      ],
    });
    batch = env.kc.makeApiClient(BatchV1Api);
    core = env.kc.makeApiClient(CoreV1Api);
  });
  after(async () => env.close());

  async function namespace(): Promise<string> {
    const name = `t${++nsCounter}`;
    await core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  async function waitForJob(ns: string, name: string, condition: string, timeoutMs = 10_000): Promise<V1Job> {
    return eventually(
      async () => {
        const job = await batch.readNamespacedJob({ name, namespace: ns });
        return job.status?.conditions?.some((c) => c.type === condition && c.status === "True") ? job : undefined;
      },
      `job ${name} condition ${condition}`,
      timeoutMs,
    );
  }

  async function podsOf(ns: string, job: string): Promise<V1Pod[]> {
    return (await core.listNamespacedPod({ namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${job}` }))
      .items;
  }

  async function eventsFor(ns: string, name: string) {
    return (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items;
  }

  test("a successful job: SuccessCriteriaMet then Complete, counts and times; its pod ran on a node with a terminated Completed container", async () => {
    const ns = await namespace();
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("ok", { command: ["sh", "-c", "echo working; sleep 2500; echo done"] }),
    });
    const running = await eventually(async () => {
      const pods = await podsOf(ns, "ok");
      return pods[0]?.status?.phase === "Running" ? pods[0] : undefined;
    }, "pod running");
    assert.equal(running.status?.containerStatuses?.[0]?.state?.running !== undefined, true);
    assert.equal(running.status?.containerStatuses?.[0]?.ready, true);
    const activeJob = await batch.readNamespacedJob({ name: "ok", namespace: ns });
    assert.equal(activeJob.status?.active, 1);
    assert.equal(activeJob.status?.ready, 1);

    const job = await waitForJob(ns, "ok", "Complete");
    assert.deepEqual(
      job.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["SuccessCriteriaMet", "True", "CompletionsReached"],
        ["Complete", "True", "CompletionsReached"],
      ],
    );
    assert.equal(job.status?.succeeded, 1);
    assert.equal(job.status?.failed, undefined);
    assert.equal(job.status?.active, undefined);
    assert.equal(job.status?.ready, 0);
    assert.equal(job.status?.terminating, 0);
    assert.deepEqual({ ...job.status?.uncountedTerminatedPods }, {});
    assert.ok(job.status?.startTime && job.status.completionTime);
    const seconds = (job.status.completionTime.getTime() - job.status.startTime.getTime()) / 1000;
    assert.ok(seconds >= 2500, `the job took ${seconds} simulated seconds, at least the 2500 s sleep`);

    const [pod] = await podsOf(ns, "ok");
    assert.equal(pod?.status?.phase, "Succeeded");
    assert.match(pod?.spec?.nodeName ?? "", /^aks-sandbox-\d{8}-vmss/);
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 0);
    assert.equal(terminated?.reason, "Completed");
    assert.ok(terminated?.startedAt && terminated.finishedAt);
    assert.deepEqual(await eventsFor(ns, "ok").then((e) => e.map((x) => x.reason)), ["SuccessfulCreate", "Completed"]);
    assert.equal(
      await core.readNamespacedPodLog({ name: pod?.metadata?.name ?? "", namespace: ns }),
      "working\ndone\n",
    );
  });

  test("a failing job is retried until backoffLimit is exceeded: FailureTarget then Failed (BackoffLimitExceeded)", async () => {
    const ns = await namespace();
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("bad", { command: ["sh", "-c", "echo oops; exit 3"] }, { backoffLimit: 2 }),
    });
    const job = await waitForJob(ns, "bad", "Failed");
    assert.deepEqual(
      job.status?.conditions?.map((c) => [c.type, c.reason]),
      [
        ["FailureTarget", "BackoffLimitExceeded"],
        ["Failed", "BackoffLimitExceeded"],
      ],
    );
    assert.equal(job.status?.conditions?.[1]?.message, "Job has reached the specified backoff limit");
    assert.equal(job.status?.failed, 3, "backoffLimit 2 = 3 attempts");
    assert.equal(job.status?.completionTime, undefined);
    const pods = await podsOf(ns, "bad");
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.equal(pod.status?.phase, "Failed");
      assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
      assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.reason, "Error");
    }
    const reasons = (await eventsFor(ns, "bad")).map((e) => e.reason);
    assert.equal(reasons.filter((r) => r === "SuccessfulCreate").length, 3);
    assert.ok(reasons.includes("BackoffLimitExceeded"));
  });

  test("scripted outcomes: a failure then a success completes the job with failed 1, succeeded 1", async () => {
    const ns = await namespace();
    env.emulator.scripts.set({
      match: { namespace: ns, namePrefix: "flaky-" },
      exitCode: 0,
      logLines: ["second try"],
      durationSeconds: 5,
    });
    env.emulator.scripts.set({
      match: { namespace: ns, namePrefix: "flaky-" },
      exitCode: 1,
      logLines: ["first try"],
      times: 1,
    });
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("flaky", { command: ["python3", "job.py"] }, { backoffLimit: 1 }),
    });
    const job = await waitForJob(ns, "flaky", "Complete");
    assert.equal(job.status?.failed, 1);
    assert.equal(job.status?.succeeded, 1);
    const pods = await podsOf(ns, "flaky");
    const logs = await Promise.all(
      pods.map((p) => core.readNamespacedPodLog({ name: p.metadata?.name ?? "", namespace: ns })),
    );
    assert.deepEqual(logs.sort(), ["first try\n", "second try\n"]);
  });

  test("scripted OOMKilled and image pull failures", async () => {
    const ns = await namespace();
    env.emulator.scripts.set({ match: { namespace: ns, image: "oom:1" }, reason: "OOMKilled", durationSeconds: 2 });
    env.emulator.scripts.set({
      match: { namespace: ns, image: /^private\.example\/.*/ },
      reason: "ErrImagePull",
      message: "unauthorized: authentication required",
    });
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("oom", { image: "oom:1" }, { backoffLimit: 0 }),
    });
    await batch.createNamespacedJob({ namespace: ns, body: jobManifest("pull", { image: "private.example/app:1" }) });
    await waitForJob(ns, "oom", "Failed");
    const [oomPod] = await podsOf(ns, "oom");
    assert.equal(oomPod?.status?.containerStatuses?.[0]?.state?.terminated?.reason, "OOMKilled");
    assert.equal(oomPod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
    const pullPod = await eventually(async () => {
      const [p] = await podsOf(ns, "pull");
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff" ? p : undefined;
    }, "ImagePullBackOff");
    assert.equal(pullPod.status?.phase, "Pending");
    const events = await eventsFor(ns, pullPod.metadata?.name ?? "");
    assert.ok(
      events.some((e) => e.reason === "Failed" && /unauthorized: authentication required/.test(e.message ?? "")),
    );
    const logs = await rawRequest(env, "GET", `/api/v1/namespaces/${ns}/pods/${pullPod.metadata?.name ?? ""}/log`);
    assert.equal(logs.status, 400);
    assert.match(logs.json.message, /is waiting to start: trying and failing to pull image/);
  });

  test("activeDeadlineSeconds: the running pod is killed and the job fails with DeadlineExceeded", async () => {
    const ns = await namespace();
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest(
        "slow",
        { command: ["/bin/sh", "-ec", "while :; do echo '.'; sleep 5 ; done"] },
        { activeDeadlineSeconds: 60 },
      ),
    });
    const job = await waitForJob(ns, "slow", "Failed");
    assert.deepEqual(
      job.status?.conditions?.map((c) => [c.type, c.reason]),
      [
        ["FailureTarget", "DeadlineExceeded"],
        ["Failed", "DeadlineExceeded"],
      ],
    );
    assert.equal(job.status?.conditions?.[1]?.message, "Job was active longer than specified deadline");
    assert.equal(job.status?.active, undefined);
    await eventually(async () => ((await podsOf(ns, "slow")).length === 0 ? true : undefined), "deadline pods deleted");
    assert.ok((await eventsFor(ns, "slow")).some((e) => e.reason === "DeadlineExceeded" && e.type === "Warning"));
  });

  test("ttlSecondsAfterFinished deletes the finished job and its pods", async () => {
    const ns = await namespace();
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("short", { command: ["echo", "hi"] }, { ttlSecondsAfterFinished: 30 }),
    });
    await waitForJob(ns, "short", "Complete");
    await eventually(async () => {
      const jobs = await batch.listNamespacedJob({ namespace: ns });
      const pods = await core.listNamespacedPod({ namespace: ns });
      return jobs.items.length === 0 && pods.items.length === 0 ? true : undefined;
    }, "ttl deletion");
  });

  test("delete cascades: Foreground keeps the job until its pods are gone, Background removes it at once, Orphan keeps the pods", async () => {
    const ns = await namespace();
    const loop = { command: ["/bin/sh", "-ec", "while :; do echo '.'; sleep 5 ; done"] };
    for (const name of ["fg", "bg", "orphan", "default"])
      await batch.createNamespacedJob({ namespace: ns, body: jobManifest(name, loop) });
    for (const name of ["fg", "bg", "orphan", "default"]) {
      await eventually(
        async () => ((await podsOf(ns, name))[0]?.status?.phase === "Running" ? true : undefined),
        `${name} running`,
      );
    }

    const fg = await rawRequest(env, "DELETE", `/apis/batch/v1/namespaces/${ns}/jobs/fg`, {
      body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Foreground" },
    });
    assert.equal(fg.status, 200, fg.text);
    assert.equal(fg.json.kind, "Job", "foreground deletion returns the job, still present");
    assert.ok(fg.json.metadata.deletionTimestamp);
    assert.deepEqual(fg.json.metadata.finalizers, ["foregroundDeletion"]);
    await eventually(
      async () =>
        (await rawRequest(env, "GET", `/apis/batch/v1/namespaces/${ns}/jobs/fg`)).status === 404 ? true : undefined,
      "fg job gone",
    );
    assert.equal((await podsOf(ns, "fg")).length, 0, "the job went only after its pods");

    const bg = await rawRequest(env, "DELETE", `/apis/batch/v1/namespaces/${ns}/jobs/bg?propagationPolicy=Background`);
    assert.equal(bg.status, 200);
    assert.equal(bg.json.kind, "Status");
    assert.equal(bg.json.status, "Success");
    assert.equal((await rawRequest(env, "GET", `/apis/batch/v1/namespaces/${ns}/jobs/bg`)).status, 404);
    await eventually(async () => ((await podsOf(ns, "bg")).length === 0 ? true : undefined), "bg pods gone");

    await batch.deleteNamespacedJob({ name: "orphan", namespace: ns, propagationPolicy: "Orphan" });
    const deflt = await rawRequest(env, "DELETE", `/apis/batch/v1/namespaces/${ns}/jobs/default`);
    assert.match(String(deflt.headers.warning), /child pods are preserved by default/);
    await env.cloud.clock.sleep(60_000);
    for (const name of ["orphan", "default"]) {
      const pods = await podsOf(ns, name);
      assert.equal(pods.length, 1, `${name}: batch/v1 orphans pods`);
      assert.equal(pods[0]?.status?.phase, "Running");
      assert.equal(pods[0]?.metadata?.ownerReferences, undefined);
      await core.deleteNamespacedPod({ name: pods[0]?.metadata?.name ?? "", namespace: ns });
    }
  });

  test("a Job naming a missing RuntimeClass gets FailedCreate events and no pod; a Pod naming it is Forbidden", async () => {
    const ns = await namespace();
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("typo", { command: ["uname", "-r"] }, {}, { runtimeClassName: "kata-mhsv-vm-isolation" }),
    });
    const event = await eventually(async () => {
      const e = (await eventsFor(ns, "typo")).find((x) => x.reason === "FailedCreate");
      return e && (e.count ?? 0) >= 2 ? e : undefined;
    }, "repeated FailedCreate");
    assert.equal(event.type, "Warning");
    assert.equal(
      event.message,
      'Error creating: pods "typo-" is forbidden: pod rejected: RuntimeClass "kata-mhsv-vm-isolation" not found',
    );
    assert.equal((await podsOf(ns, "typo")).length, 0);
    const job = await batch.readNamespacedJob({ name: "typo", namespace: ns });
    assert.equal(job.status?.active, undefined);
    assert.equal(job.status?.conditions, undefined);

    const pod = await rawRequest(env, "POST", `/api/v1/namespaces/${ns}/pods`, {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "direct" },
        spec: { runtimeClassName: "nope", containers: [{ name: "c", image: "busybox" }] },
      },
    });
    assert.equal(pod.status, 403);
    assert.deepEqual(pod.json, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "direct" is forbidden: pod rejected: RuntimeClass "nope" not found',
      reason: "Forbidden",
      details: { name: "direct", kind: "pods" },
      code: 403,
    });
  });

  test("a sandboxed pod with hostNetwork never starts (FailedCreatePodSandBox); a trusted one does", async () => {
    const ns = await namespace();
    const pod = (name: string, runtimeClassName?: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        hostNetwork: true,
        restartPolicy: "Never",
        ...(runtimeClassName ? { runtimeClassName } : {}),
        containers: [{ name: "c", image: "busybox:1.36", command: ["sleep", "5"] }],
      },
    });
    await core.createNamespacedPod({ namespace: ns, body: pod("sandboxed", SANDBOX) });
    await core.createNamespacedPod({ namespace: ns, body: pod("trusted") });
    await eventually(
      async () =>
        (await core.readNamespacedPod({ name: "trusted", namespace: ns })).status?.phase === "Succeeded"
          ? true
          : undefined,
      "trusted hostNetwork pod to finish",
    );
    const event = await eventually(
      async () => (await eventsFor(ns, "sandboxed")).find((e) => e.reason === "FailedCreatePodSandBox"),
      "FailedCreatePodSandBox",
    );
    assert.equal(event.type, "Warning");
    await env.cloud.clock.sleep(120_000);
    const sandboxed = await core.readNamespacedPod({ name: "sandboxed", namespace: ns });
    assert.equal(sandboxed.status?.phase, "Pending");
    assert.equal(sandboxed.status?.containerStatuses?.[0]?.state?.waiting?.reason, "ContainerCreating");
    assert.ok(sandboxed.spec?.nodeName, "it was scheduled; the sandbox creation failed");
    assert.ok(
      ((await eventsFor(ns, "sandboxed")).find((e) => e.reason === "FailedCreatePodSandBox")?.count ?? 0) > 1,
      "the kubelet keeps retrying",
    );
    await core.deleteNamespacedPod({ name: "sandboxed", namespace: ns });
  });

  test("a pod that cannot fit any node (sandbox VM overhead included) stays Pending with FailedScheduling; it schedules once a bigger pool appears", async () => {
    const ns = await namespace();
    // 15 vCPU limit: fits a 16-vCPU node as a plain pod, but the sandbox VM needs 1 + 15 = 16 > 15.74 allocatable.
    const big = (name: string, runtimeClassName?: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        restartPolicy: "Never",
        ...(runtimeClassName ? { runtimeClassName } : {}),
        containers: [
          {
            name: "c",
            image: "busybox:1.36",
            command: ["sleep", "10"],
            resources: { limits: { cpu: "15", memory: "1Gi" } },
          },
        ],
      },
    });
    await core.createNamespacedPod({ namespace: ns, body: big("plain-big") });
    await core.createNamespacedPod({ namespace: ns, body: big("sandbox-big", SANDBOX) });
    await eventually(
      async () =>
        (await core.readNamespacedPod({ name: "plain-big", namespace: ns })).spec?.nodeName ? true : undefined,
      "plain pod scheduled",
    );
    const event = await eventually(
      async () => (await eventsFor(ns, "sandbox-big")).find((e) => e.reason === "FailedScheduling"),
      "FailedScheduling",
    );
    assert.equal(event.type, "Warning");
    assert.match(
      event.message ?? "",
      /^0\/2 nodes are available: 2 Insufficient cpu\. preemption: 0\/2 nodes are available: 2 No preemption victims found for incoming pod\.$/,
    );
    const pending = await core.readNamespacedPod({ name: "sandbox-big", namespace: ns });
    assert.equal(pending.status?.phase, "Pending");
    assert.equal(pending.spec?.nodeName, undefined);
    const scheduled = pending.status?.conditions?.find((c) => c.type === "PodScheduled");
    assert.equal(scheduled?.status, "False");
    assert.equal(scheduled?.reason, "Unschedulable");

    env.cloud.upsertPool(
      env.cluster.key,
      testPool({
        name: "sandboxbig",
        vmSize: "Standard_D32s_v3",
        vCpuPerNode: 32,
        memoryGiBPerNode: 128,
        mode: "User",
      }),
    );
    const placed = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: "sandbox-big", namespace: ns });
      return p.spec?.nodeName ? p : undefined;
    }, "sandboxed pod scheduled on the new pool");
    assert.match(placed.spec?.nodeName ?? "", /^aks-sandboxbig-/);
    env.cloud.deletePool(env.cluster.key, "sandboxbig");
  });

  test("uname -r: the sandboxed pod reports the guest kernel, the trusted pod the node kernel", async () => {
    const ns = await namespace();
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("untrusted", { command: ["uname", "-r"] }, {}, { runtimeClassName: SANDBOX }),
    });
    await batch.createNamespacedJob({
      namespace: ns,
      body: jobManifest("trusted", { command: ["/bin/sh", "-c", "uname -r"] }),
    });
    await waitForJob(ns, "untrusted", "Complete");
    await waitForJob(ns, "trusted", "Complete");
    const log = async (job: string) =>
      core.readNamespacedPodLog({ name: (await podsOf(ns, job))[0]?.metadata?.name ?? "", namespace: ns });
    assert.equal(await log("untrusted"), "5.15.48.1-8.cm2\n");
    assert.equal(await log("trusted"), "5.15.80.mshv2-hvl1.m2\n");
    const [untrustedPod] = await podsOf(ns, "untrusted");
    assert.equal(
      untrustedPod?.spec?.nodeSelector?.["kubernetes.azure.com/kata-mshv-vm-isolation"],
      "true",
      "RuntimeClass admission merged the node selector",
    );
  });

  test("the docs' dot loop prints a dot every 5 simulated seconds until the pod is deleted", async () => {
    const ns = await namespace();
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "untrusted" },
        spec: {
          runtimeClassName: SANDBOX,
          containers: [
            {
              name: "untrusted",
              image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11",
              command: ["/bin/sh", "-ec", "while :; do echo '.'; sleep 5 ; done"],
            },
          ],
        },
      },
    });
    await eventually(
      async () =>
        (await core.readNamespacedPod({ name: "untrusted", namespace: ns })).status?.phase === "Running"
          ? true
          : undefined,
      "running",
    );
    const startMs = env.cloud.clock.nowMs();
    await env.cloud.clock.sleep(100_000);
    const text = await core.readNamespacedPodLog({ name: "untrusted", namespace: ns });
    const dots = text.split("\n").filter((l) => l !== "");
    assert.ok(
      dots.every((l) => l === "."),
      "only dots",
    );
    const elapsed = (env.cloud.clock.nowMs() - startMs) / 1000;
    // One dot at start plus one per 5 s; allow for timer slack.
    assert.ok(
      dots.length >= 10 && dots.length <= Math.ceil(elapsed / 5) + 2,
      `${dots.length} dots in ${elapsed} simulated seconds`,
    );
    const timed = await rawRequest(
      env,
      "GET",
      `/api/v1/namespaces/${ns}/pods/untrusted/log?timestamps=true&tailLines=2`,
    );
    const [a, b] = timed.text
      .trim()
      .split("\n")
      .map((l) => Date.parse(l.split(" ")[0] ?? ""));
    assert.ok(a !== undefined && b !== undefined && b - a >= 5000, "dots are 5 simulated seconds apart");
    const pod = await core.readNamespacedPod({ name: "untrusted", namespace: ns });
    assert.equal(pod.status?.phase, "Running", "still running");

    const deleted = await core.deleteNamespacedPod({ name: "untrusted", namespace: ns });
    assert.ok(deleted.metadata?.deletionTimestamp, "the pod turns Terminating");
    await eventually(
      async () =>
        (await rawRequest(env, "GET", `/api/v1/namespaces/${ns}/pods/untrusted`)).status === 404 ? true : undefined,
      "pod gone",
    );
  });

  test("log follow streams new lines until the container ends", async () => {
    const ns = await namespace();
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "counter" },
        spec: {
          restartPolicy: "Never",
          containers: [
            { name: "c", image: "busybox", command: ["sh", "-c", "echo 1; sleep 20; echo 2; sleep 20; echo 3"] },
          ],
        },
      },
    });
    await eventually(
      async () =>
        (await core.readNamespacedPod({ name: "counter", namespace: ns })).status?.phase === "Running"
          ? true
          : undefined,
      "running",
    );
    const followed = await rawRequest(env, "GET", `/api/v1/namespaces/${ns}/pods/counter/log?follow=true`);
    assert.equal(followed.text, "1\n2\n3\n");
  });
});
