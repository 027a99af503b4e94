// The Jobs routes end to end: the local stack (npm start) against the ARM and
// Kubernetes emulators, Azurite for the job rows. Every "nothing created"
// claim is checked in the Kubernetes emulator's state.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { REPEATABILITY_TABLE } from "../../../src/adapters/tables/repeatabilityTable.js";
import { poll, startInProcessStack, type SandboxStack } from "../../support/sandboxStack.js";
import type { InProcessApp } from "../../support/inProcessApp.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

const SEED_IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const DOT_LOOP = { command: ["/bin/sh", "-ec"], args: ["while :; do echo '.'; sleep 5 ; done"] };

describe("Jobs through the REST API (simulated Azure)", () => {
  let stack: SandboxStack<InProcessApp>;
  let submitter: string;
  let operator: string;
  let betaReader: string;
  let admin: string;
  let jobs: string;
  let key: string;

  before(async () => {
    stack = await startInProcessStack({ scale: 0.01 });
    // Standard_D2s_v3: 2 vCPU / 8 GiB, so a 1.5-vCPU limit (a 2.5-vCPU sandbox VM) fits no node.
    await stack.createCluster("rg-jobs", "kata1", { vmSize: "Standard_D2s_v3" });
    submitter = await stack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    operator = await stack.host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
    betaReader = await stack.host.token({ team: "beta", roles: ["Sandbox.Reader"] });
    admin = await stack.host.token({ roles: ["Sandbox.Admin"] });
    jobs = `${stack.clusterPath("rg-jobs", "kata1")}/jobs`;
    key = stack.clusterKey("rg-jobs", "kata1");
  });
  after(async () => {
    await stack?.close();
  });

  const json = async (res: Response): Promise<any> => (await res.json()) as any;
  const snapshot = () => stack.azure.kubernetes.snapshot(key);
  const waitFor = (name: string, token: string, status: string) =>
    poll(async () => {
      const body = await json(await stack.call("GET", `${jobs}/${name}`, token));
      return body.status === status ? body : undefined;
    }, `${name} ${status}`);

  test("bad input answers the specific 4xx and creates nothing in the cluster", async () => {
    const before = snapshot();
    const cases: { body: Record<string, unknown>; status: number; code: string; target?: RegExp }[] = [
      {
        body: { image: SEED_IMAGE, hostNetwork: true },
        status: 422,
        code: "HostNetworkNotSupported",
        target: /hostNetwork/,
      },
      {
        body: { image: SEED_IMAGE, hostPID: true, isolation: "sandbox" },
        status: 422,
        code: "HostNetworkNotSupported",
      },
      {
        body: { image: SEED_IMAGE, resources: { limits: { cpu: "3" } } },
        status: 422,
        code: "JobLimitExceeded",
        target: /limits\.cpu/,
      },
      {
        body: { image: SEED_IMAGE, resources: { limits: { memory: "64Gi" } } },
        status: 422,
        code: "JobLimitExceeded",
        target: /limits\.memory/,
      },
      {
        body: { image: SEED_IMAGE, timeoutSeconds: 7200 },
        status: 422,
        code: "JobLimitExceeded",
        target: /timeoutSeconds/,
      },
      { body: { image: SEED_IMAGE, resources: { limits: { cpu: "1500m" } } }, status: 422, code: "SandboxTooLarge" },
      { body: { image: "MCR.microsoft.com/Aks/Base:1" }, status: 400, code: "InvalidRequest", target: /image/ },
      { body: { image: "mcr.microsoft.com/aks base:1" }, status: 400, code: "InvalidRequest", target: /image/ },
      { body: { image: "https://mcr.microsoft.com/x:1" }, status: 400, code: "InvalidRequest", target: /image/ },
      { body: { image: "docker.io/library/ubuntu:22.04" }, status: 403, code: "Forbidden", target: /image/ },
      {
        body: { image: SEED_IMAGE, resources: { limits: { cpu: "500mm" } } },
        status: 400,
        code: "InvalidRequest",
        target: /limits\.cpu/,
      },
      {
        body: { image: SEED_IMAGE, resources: { limits: { memory: "12 GB" } } },
        status: 400,
        code: "InvalidRequest",
        target: /limits\.memory/,
      },
      {
        body: { image: SEED_IMAGE, resources: { limits: { cpu: "1" }, requests: { cpu: "2" } } },
        status: 400,
        code: "InvalidRequest",
        target: /requests\.cpu/,
      },
      { body: { image: SEED_IMAGE, privileged: true }, status: 400, code: "InvalidRequest", target: /privileged/ },
      {
        body: { image: SEED_IMAGE, runtimeClassName: "kata-mhsv-vm-isolation" },
        status: 400,
        code: "InvalidRequest",
        target: /runtimeClassName/,
      },
      {
        body: { image: SEED_IMAGE, resources: { limits: { cpu: "1", gpu: "1" } } },
        status: 400,
        code: "InvalidRequest",
      },
      { body: { image: SEED_IMAGE, name: "Not_A_Name" }, status: 400, code: "InvalidRequest", target: /name/ },
      { body: { image: SEED_IMAGE, timeoutSeconds: 0 }, status: 400, code: "InvalidRequest", target: /timeoutSeconds/ },
      {
        body: { image: SEED_IMAGE, ttlSecondsAfterFinished: 5 },
        status: 400,
        code: "InvalidRequest",
        target: /ttlSecondsAfterFinished/,
      },
      { body: { image: SEED_IMAGE, backoffLimit: 4 }, status: 400, code: "InvalidRequest", target: /backoffLimit/ },
      { body: { image: SEED_IMAGE, env: { "BAD=NAME": "x" } }, status: 400, code: "InvalidRequest" },
      {
        body: {
          image: SEED_IMAGE,
          args: ["x".repeat(32_000), "y".repeat(32_000), "z".repeat(32_000), "w".repeat(32_000), "v".repeat(32_000)],
        },
        status: 400,
        code: "InvalidRequest",
      },
      { body: { image: SEED_IMAGE, isolation: "none" }, status: 403, code: "Forbidden", target: /isolation/ },
    ];
    const failures: string[] = [];
    for (const c of cases) {
      const res = await stack.call("POST", jobs, submitter, c.body);
      const body = await json(res);
      if (
        res.status !== c.status ||
        body.error?.code !== c.code ||
        (c.target && !c.target.test(String(body.error?.target)))
      ) {
        failures.push(`${JSON.stringify(c.body).slice(0, 120)} → ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      }
      assert.equal(res.headers.get("x-ms-error-code"), body.error?.code);
    }
    assert.deepEqual(failures, []);
    const notJson = await stack.call("POST", jobs, submitter, "image=x", { "content-type": "text/plain" });
    assert.equal(notJson.status, 415);
    const after = snapshot();
    assert.equal(after.jobs.length, before.jobs.length, "no Job was created");
    assert.equal(after.pods.length, before.pods.length, "no Pod was created");
    assert.ok(!after.namespaces.some((n) => n.metadata?.name === "sandbox-alpha"), "not even the namespace");
    const listed = await json(await stack.call("GET", "/jobs", submitter));
    assert.deepEqual(listed.value, [], "no job row was left behind");
  });

  test("the seed's trusted and untrusted pods run as jobs, log dots, and cancel ends them Canceled", async () => {
    const untrusted = await stack.call("POST", jobs, submitter, {
      name: "untrusted",
      image: SEED_IMAGE,
      ...DOT_LOOP,
      resources: { requests: { cpu: "250m" } },
    });
    assert.equal(untrusted.status, 201, await untrusted.clone().text());
    const u = await json(untrusted);
    assert.equal(u.id, `${stack.clusterPath("rg-jobs", "kata1")}/jobs/untrusted`);
    assert.equal(untrusted.headers.get("location"), `/api/v1${u.id}`);
    assert.equal(u.isolation, "sandbox");
    assert.equal(u.runtimeClassName, "kata-mshv-vm-isolation");
    // No limits named: the contained namespace's default (250m, 512Mi) is set explicitly, so the VM is 1.25 vCPU, 2.5 GiB.
    assert.deepEqual(u.sandboxVm, { vCpu: 1.25, memoryMiB: 2560 });
    assert.equal(u.namespace, "sandbox-alpha");
    assert.equal(u.team, "alpha");
    assert.deepEqual(u.warnings, ["resources.requests are ignored by the preview sandbox runtime"]);
    assert.deepEqual(u.links, { self: `/api/v1${u.id}`, logs: `/api/v1${u.id}/logs` });

    const trusted = await stack.call("POST", jobs, operator, {
      name: "trusted",
      image: SEED_IMAGE,
      ...DOT_LOOP,
      isolation: "none",
    });
    assert.equal(trusted.status, 201, await trusted.clone().text());
    const t = await json(trusted);
    assert.equal(t.isolation, "none");
    assert.equal(t.runtimeClassName, undefined);

    const job = snapshot().jobs.find((j) => j.metadata.name === "untrusted")!;
    assert.equal((job.spec.template.spec as any).runtimeClassName, "kata-mshv-vm-isolation");
    assert.equal(
      (snapshot().jobs.find((j) => j.metadata.name === "trusted")!.spec.template.spec as any).runtimeClassName,
      undefined,
    );

    const duplicate = await stack.call("POST", jobs, submitter, { name: "untrusted", image: SEED_IMAGE });
    assert.equal(duplicate.status, 409);
    assert.equal((await json(duplicate)).error.code, "Conflict");

    for (const name of ["untrusted", "trusted"]) {
      const running = await waitFor(name, submitter, "Running");
      assert.ok(running.startedAt);
      const logs = await poll(async () => {
        const res = await stack.call("GET", `${jobs}/${name}/logs?tailLines=3`, submitter);
        const text = await res.text();
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
        return text.includes(".") ? text : undefined;
      }, `${name} dots`);
      assert.ok(
        logs
          .split("\n")
          .filter(Boolean)
          .every((l) => l === "."),
        logs,
      );
      assert.ok(logs.split("\n").filter(Boolean).length <= 3);
    }

    // Other teams see neither job; Admin sees both.
    assert.equal((await stack.call("GET", `${jobs}/untrusted`, betaReader)).status, 404);
    assert.deepEqual((await json(await stack.call("GET", "/jobs", betaReader))).value, []);
    const all = await json(
      await stack.call(
        "GET",
        `/jobs?status=Running&cluster=${encodeURIComponent(stack.clusterPath("rg-jobs", "kata1"))}`,
        admin,
      ),
    );
    assert.deepEqual(all.value.map((j: any) => j.name).sort(), ["trusted", "untrusted"]);
    const page1 = await json(await stack.call("GET", "/jobs?top=1&cluster=KATA1", submitter));
    assert.equal(page1.value.length, 1);
    assert.ok(page1.nextLink);
    const next = new URL(page1.nextLink);
    const page2 = await json(await stack.call("GET", `/jobs${next.search}`, submitter));
    assert.equal(page2.value.length, 1);
    assert.notEqual(page2.value[0].name, page1.value[0].name);

    for (const name of ["untrusted", "trusted"]) {
      const canceled = await stack.call("DELETE", `${jobs}/${name}`, submitter);
      assert.equal(canceled.status, 200);
      const c = await json(canceled);
      assert.equal(c.status, "Canceled");
      assert.ok(c.finishedAt);
      assert.equal(
        snapshot().jobs.some((j) => j.metadata.name === name),
        false,
        "the Job is deleted",
      );
      const again = await json(await stack.call("DELETE", `${jobs}/${name}`, submitter));
      assert.equal(again.status, "Canceled", "cancel is idempotent");
      assert.equal((await json(await stack.call("GET", `${jobs}/${name}`, submitter))).status, "Canceled");
      const logs = await (await stack.call("GET", `${jobs}/${name}/logs`, submitter)).text();
      assert.match(logs, /^\.$/m, "the captured tail is readable after the cancel");
    }
    await poll(
      async () =>
        snapshot().pods.filter((p) => ["untrusted", "trusted"].some((n) => (p.metadata.name ?? "").startsWith(`${n}-`)))
          .length === 0
          ? true
          : undefined,
      "pods gone",
    );
    const canceledList = await json(await stack.call("GET", "/jobs?status=Canceled", submitter));
    assert.deepEqual(canceledList.value.map((j: any) => j.name).sort(), ["trusted", "untrusted"]);
  });

  test("logs stay readable after Kubernetes deleted the finished Job (TTL); the timer captures them", async () => {
    const res = await stack.call("POST", jobs, submitter, {
      name: "short",
      image: SEED_IMAGE,
      command: ["/bin/sh", "-c"],
      args: ["echo hello; echo world; uname -r"],
      ttlSecondsAfterFinished: 300,
    });
    assert.equal(res.status, 201, await res.clone().text());
    // The job timer (fired by hand) notices the end, captures the tail, releases the slot.
    const done = await poll(async () => {
      await stack.host.fireTimer("reconcileJobs");
      const body = await json(await stack.call("GET", `${jobs}/short`, submitter));
      return body.status === "Succeeded" ? body : undefined;
    }, "short Succeeded");
    assert.equal(done.exitCode, 0);
    assert.ok(done.finishedAt);
    await poll(
      async () => (snapshot().jobs.some((j) => j.metadata.name === "short") ? undefined : true),
      "TTL deletion",
      60_000,
    );
    const logs = await stack.call("GET", `${jobs}/short/logs`, submitter);
    assert.equal(logs.status, 200);
    assert.equal(await logs.text(), "hello\nworld\n5.15.48.1-8.cm2\n");
    assert.equal(
      await (await stack.call("GET", `${jobs}/short/logs?tailLines=1`, submitter)).text(),
      "5.15.48.1-8.cm2\n",
    );
    assert.equal(await (await stack.call("GET", `${jobs}/short/logs?limitBytes=5`, submitter)).text(), "hello");
    assert.equal((await json(await stack.call("GET", `${jobs}/short`, submitter))).status, "Succeeded");
    // The name is free again once the Job is gone.
    const reuse = await stack.call("POST", jobs, submitter, { name: "short", image: SEED_IMAGE, command: ["true"] });
    assert.equal(reuse.status, 201);
    await stack.call("DELETE", `${jobs}/short`, submitter);
  });

  test("a failing container reports Failed with its exit code; OOMKilled and image pull errors surface", async () => {
    stack.azure.kubernetes.scripts.set({ match: { namePrefix: "oom-" }, reason: "OOMKilled" });
    stack.azure.kubernetes.scripts.set({
      match: { namePrefix: "pull-" },
      reason: "ErrImagePull",
      message: 'failed to pull image "mcr.microsoft.com/nope:1": not found',
    });
    for (const body of [
      { name: "exit3", image: SEED_IMAGE, command: ["/bin/sh", "-c"], args: ["echo bye; exit 3"] },
      { name: "oom", image: SEED_IMAGE, resources: { limits: { memory: "256Mi" } } },
    ]) {
      const res = await stack.call("POST", jobs, submitter, body);
      assert.equal(res.status, 201, await res.clone().text());
    }
    const failed = await waitFor("exit3", submitter, "Failed");
    assert.equal(failed.exitCode, 3);
    const oom = await waitFor("oom", submitter, "Failed");
    assert.equal(oom.reason, "OOMKilled");
    assert.equal(oom.sandboxVm.memoryMiB, 2048 + 256);
    // One at a time: the 2-vCPU node holds a single default sandbox VM.
    const pullRes = await stack.call("POST", jobs, submitter, { name: "pull", image: "mcr.microsoft.com/nope:1" });
    assert.equal(pullRes.status, 201, await pullRes.clone().text());
    const pull = await poll(async () => {
      const body = await json(await stack.call("GET", `${jobs}/pull`, submitter));
      return body.reason === "ErrImagePull" || body.reason === "ImagePullBackOff" ? body : undefined;
    }, "image pull error");
    assert.equal(pull.status, "Pending");
    assert.match(pull.message, /not found/);
    assert.equal((await json(await stack.call("DELETE", `${jobs}/pull`, submitter))).status, "Canceled");
  });

  test("a retry that takes over from a try which died after submitting answers 201 with that job, not Conflict", async () => {
    const id = randomUUID();
    const body = { name: "once", image: SEED_IMAGE, command: ["uname", "-r"] };
    const first = await stack.call("POST", jobs, submitter, body, { "repeatability-request-id": id });
    assert.equal(first.status, 201, await first.clone().text());
    const submitted = await json(first);
    // What the pending lease's expiry does after a crash: the request id's record is gone, the retry runs again.
    const conn = stack.host.env.SANDBOX_TABLES_CONNECTION!;
    const table = TableClient.fromConnectionString(conn, REPEATABILITY_TABLE, { allowInsecureConnection: true });
    for await (const row of table.listEntities()) await table.deleteEntity(row.partitionKey!, row.rowKey!);
    const retry = await stack.call("POST", jobs, submitter, body, { "repeatability-request-id": id });
    assert.equal(retry.status, 201, await retry.clone().text());
    assert.equal((await json(retry)).id, submitted.id);
    assert.equal(snapshot().jobs.filter((j) => j.metadata?.name === "once").length, 1, "one Job");
    // Another request (another id) for the same name is still refused.
    const other = await stack.call("POST", jobs, submitter, body, { "repeatability-request-id": randomUUID() });
    assert.equal(other.status, 409);
    await stack.call("DELETE", `${jobs}/once`, submitter);
  });
});
