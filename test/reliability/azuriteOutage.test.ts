// Table Storage goes away mid-run: Azurite (persisting to a data folder) is
// stopped for AZURITE_OUTAGE_SECONDS (default 30) while operations and jobs
// are in flight and clients keep calling, then restarted on the same port and
// folder. During the outage every answer that needed storage is 503 with
// Retry-After (never a 500), and readyz says Table Storage is the problem.
// Afterwards everything resumes: readyz is ready, every operation and job
// started before the outage finishes, nothing is lost or duplicated, and a
// write refused during the outage, retried with its Repeatability-Request-ID,
// is done exactly once.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { startAzurite, type RunningAzurite } from "../../src/localhost/azuriteProcess.js";
import { poll, startSandboxStack, type SandboxStack } from "../support/sandboxStack.js";
import { PatientClient, sleep } from "./support/patientClient.js";

const OUTAGE_MS = Number(process.env.AZURITE_OUTAGE_SECONDS ?? 30) * 1000;
const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const RG = "rg-outage";

describe("Azurite outage mid-run", () => {
  let azurite: RunningAzurite;
  let folder: string;
  let stack: SandboxStack;
  let operator: string;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), "azurite-outage-"));
    azurite = await startAzurite({ location: folder });
    // Scale 0.1: the outage is 5 simulated minutes, well inside every operation's deadline
    // (at 0.01 it would be 50 minutes, and a pool creation's 1-hour deadline could pass).
    stack = await startSandboxStack({
      scale: 0.1,
      env: { LOG_LEVEL: "warn", SANDBOX_TABLES_CONNECTION: azurite.connectionString },
    });
    await stack.createCluster(RG, "ready1");
    operator = await stack.host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
  });
  after(async () => {
    await stack?.close();
    await azurite?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  test(`${OUTAGE_MS / 1000} s without Table Storage: 503 + Retry-After, readyz says why, then everything resumes`, async () => {
    const client = new PatientClient(() => stack.host.api);
    const jobs = `${stack.clusterPath(RG, "ready1")}/jobs`;
    // Jobs that are still running when storage goes and end during the outage.
    stack.azure.kubernetes.scripts.set({
      match: { image: IMAGE },
      logLines: ["survived the outage"],
      durationSeconds: 100,
    });
    const ops: string[] = [];
    for (const pool of ["kata2", "kata3"]) {
      const res = await client.call("PUT", `${stack.clusterPath(RG, "ready1")}/sandbox-pools/${pool}`, operator, {
        vmSize: "Standard_D4s_v3",
        nodeCount: 1,
      });
      assert.equal(res.status, 202, res.text);
      ops.push((res.body as { id: string }).id);
    }
    const names = ["before-0", "before-1", "before-2"];
    for (const name of names)
      assert.equal((await client.call("POST", jobs, operator, { image: IMAGE, name })).status, 201);

    await azurite.stop();
    const outageEnds = Date.now() + OUTAGE_MS;
    const answers: { what: string; status: number; retryAfter: string | null; code: string | null }[] = [];
    let readyzWhy = "";
    const refusedWriteId = randomUUID();
    const refusedWrite = { image: IMAGE, name: "during-outage" };
    const send = async (
      what: string,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${stack.host.api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${operator}`,
          ...(body ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }).catch((error: unknown) => {
        throw new Error(
          `${what}: ${String((error as Error).cause ?? error)}; host exit ${stack.host.child.exitCode}; host output:\n${stack.host.output().slice(-3000)}`,
        );
      });
      const text = await res.text();
      answers.push({
        what,
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        code: res.headers.get("x-ms-error-code"),
      });
      return { res, text };
    };
    while (Date.now() < outageEnds) {
      const ready = await send("readyz", "GET", "/readyz");
      if (ready.res.status === 503) readyzWhy = ready.text;
      await send("getOperation", "GET", `/operations/${ops[0]}`);
      await send("listOperations", "GET", "/operations");
      await send("getJob", "GET", `${jobs}/before-0`);
      await send("listJobs", "GET", "/jobs");
      await send("submitJob", "POST", jobs, refusedWrite, { "Repeatability-Request-ID": refusedWriteId });
      await send("putSandboxPool", "PUT", `${stack.clusterPath(RG, "ready1")}/sandbox-pools/kata4`, {
        vmSize: "Standard_D4s_v3",
        nodeCount: 1,
      });
      await sleep(1000);
    }
    const storageAnswers = answers.filter((a) => a.what !== "readyz");
    assert.deepEqual(
      answers.filter((a) => a.status >= 500 && (a.status !== 503 || !(Number(a.retryAfter) > 0))),
      [],
      "during the outage every 5xx is a 503 with Retry-After",
    );
    assert.ok(
      storageAnswers.filter((a) => a.status === 503).length >= storageAnswers.length / 2,
      JSON.stringify(storageAnswers.slice(0, 20)),
    );
    assert.ok(
      answers.some((a) => a.what === "readyz" && a.status === 503),
      "readyz never said not ready",
    );
    assert.match(readyzWhy, /tableStorage/);
    assert.match(readyzWhy, /Table Storage did not answer/);

    azurite = await startAzurite({ port: azurite.port, location: folder });
    await poll(
      async () => ((await fetch(`${stack.host.api}/readyz`)).status === 200 ? true : undefined),
      "readyz after the outage",
      60_000,
      500,
    );

    // The write refused during the outage, retried with the same id, happens once.
    const retried = await client.call("POST", jobs, operator, refusedWrite);
    const again = await fetch(`${stack.host.api}${jobs}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${operator}`,
        "content-type": "application/json",
        "Repeatability-Request-ID": refusedWriteId,
      },
      body: JSON.stringify(refusedWrite),
    });
    assert.ok([201, 409].includes(retried.status), retried.text);
    assert.ok(again.status < 500, await again.text());

    for (const id of ops) {
      const op = await poll(
        async () => {
          const body = (await client.call("GET", `/operations/${id}`, operator)).body as { status: string };
          return ["Succeeded", "Failed", "Canceled"].includes(body.status) ? body : undefined;
        },
        `operation ${id}`,
        120_000,
        500,
      );
      assert.equal(op.status, "Succeeded", JSON.stringify(op));
    }
    for (const name of [...names, "during-outage"]) {
      let last: unknown;
      const job = await poll(
        async () => {
          const body = (await client.call("GET", `${jobs}/${name}`, operator)).body as { status: string };
          last = body;
          return ["Succeeded", "Failed", "Canceled", "TimedOut"].includes(body.status) ? body : undefined;
        },
        `job ${name}`,
        120_000,
        500,
      ).catch((error: unknown) => {
        throw new Error(
          `${(error as Error).message}; last seen ${JSON.stringify(last)}\n${stack.host.output().slice(-4000)}`,
        );
      });
      assert.equal(job.status, "Succeeded", `${name}: ${JSON.stringify(job)}`);
      assert.match((await client.call("GET", `${jobs}/${name}/logs`, operator)).text, /survived the outage/);
    }
    // No row lost or duplicated: each job once in the list and once in the cluster.
    const listed = (await client.call("GET", "/jobs?top=100", operator)).body as { value: { name: string }[] };
    for (const name of [...names, "during-outage"])
      assert.equal(listed.value.filter((j) => j.name === name).length, 1, name);
    const k8sJobs = stack.azure.kubernetes.snapshot(stack.clusterKey(RG, "ready1")).jobs.map((j) => j.metadata.name);
    assert.equal(k8sJobs.filter((n) => n === "during-outage").length, 1, JSON.stringify(k8sJobs));
    assert.deepEqual(client.misbehaviour(), []);
    console.log(
      JSON.stringify({
        outageMs: OUTAGE_MS,
        answers: answers.length,
        unavailable: answers.filter((a) => a.status === 503).length,
      }),
    );
  });
});
