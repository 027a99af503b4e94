// ARM faults and a Kubernetes API outage against the local stack (timers on,
// as in production): 20% of ARM requests fail (429 with Retry-After, 500, 503,
// connection resets), the cluster API is unreachable for a while, and
// meanwhile clusters, sandbox pools and jobs are created through the API by a
// client that retries like the Azure SDKs. Everything must converge: every
// operation Succeeded, every job Succeeded with its log tail captured, one
// successful ARM create per resource, no ARM request before a Retry-After it
// was given had expired (emulator request log), and the API never answers 500
// nor a 503/429 without Retry-After.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { poll, startSandboxStack, type SandboxStack } from "../support/sandboxStack.js";
import { PatientClient, sleep } from "./support/patientClient.js";

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";
const RG = "rg-faults";

interface Operation {
  id: string;
  status: string;
  error?: unknown;
}

describe("ARM faults and a Kubernetes API outage", () => {
  let stack: SandboxStack;
  let client: PatientClient;
  let operator: string;

  before(async () => {
    stack = await startSandboxStack({ scale: 0.01, env: { LOG_LEVEL: "warn" } });
    await stack.createCluster(RG, "ready1");
    client = new PatientClient(() => stack.host.api);
    operator = await stack.host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
  });
  after(async () => {
    await stack?.close();
  });

  test("operations and jobs converge; no call before Retry-After; no 500", async () => {
    const arm = stack.azure.arm;
    const k8s = stack.azure.kubernetes;
    // 20% of every ARM request fails, spread evenly over the four kinds of failure.
    // Throttling for sure (the random share may miss it in a short run): the first two pool PUTs get 429.
    arm.faults.add({
      method: "PUT",
      pathPattern: "*/agentPools/*",
      times: 2,
      action: { status: 429, retryAfterSeconds: 30 },
    });
    const share = 0.05;
    arm.faults.add({ pathPattern: "*", probability: share, action: { status: 429, retryAfterSeconds: 30 } });
    arm.faults.add({ pathPattern: "*", probability: share / (1 - share), action: { status: 500 } });
    arm.faults.add({ pathPattern: "*", probability: share / (1 - 2 * share), action: { status: 503 } });
    arm.faults.add({ pathPattern: "*", probability: share / (1 - 3 * share), action: { reset: true } });
    k8s.scripts.set({ match: { image: IMAGE }, logLines: ["hello from the sandbox", "done"], durationSeconds: 300 });

    const ops: Operation[] = [];
    const started = async (method: string, path: string, body?: unknown): Promise<void> => {
      const res = await client.call(method, path, operator, body);
      assert.equal(res.status, 202, `${method} ${path}: ${res.text}`);
      ops.push(res.body as Operation);
    };
    const sub = stack.subscriptionId;
    for (const name of ["new1", "new2"])
      await started("PUT", `/subscriptions/${sub}/resourceGroups/${RG}/clusters/${name}`, { location: "eastus" });
    for (const pool of ["kata2", "kata3"])
      await started("PUT", `${stack.clusterPath(RG, "ready1")}/sandbox-pools/${pool}`, {
        vmSize: "Standard_D4s_v3",
        nodeCount: 1,
      });

    const jobs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await client.call("POST", `${stack.clusterPath(RG, "ready1")}/jobs`, operator, {
        image: IMAGE,
        name: `faulty-${i}`,
        command: ["echo", "hi"],
      });
      assert.equal(res.status, 201, res.text);
      jobs.push(`faulty-${i}`);
    }

    // The cluster API goes away while the jobs run: refused connections for every cluster request.
    const outage = k8s.faults.add({ pathPattern: "*", action: { reset: true } });
    const during = await fetch(`${stack.host.api}${stack.clusterPath(RG, "ready1")}/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
      body: JSON.stringify({ image: IMAGE, name: "during-outage" }),
    });
    const duringBody = (await during.json()) as { error?: { code?: string } };
    assert.equal(during.status, 503, JSON.stringify(duringBody));
    assert.equal(duringBody.error?.code, "UpstreamUnavailable");
    assert.ok(Number(during.headers.get("retry-after")) > 0, "503 without Retry-After");
    const read = await client.call("GET", `${stack.clusterPath(RG, "ready1")}/jobs/faulty-0`, operator);
    assert.equal(read.status, 200, `a job read answers from its row while the cluster API is down: ${read.text}`);
    // Longer than the jobs run (300 simulated s = 3 s), so they end unobserved.
    await sleep(5000);
    const refused = k8s.requestLog.entries().filter((e) => e.status === 0).length;
    assert.ok(refused > 0, "nobody tried the cluster API during the outage");
    k8s.faults.remove(outage);

    const finalOps = await Promise.all(
      ops.map((op) =>
        poll(
          async () => {
            const res = await client.call("GET", `/operations/${op.id}`, operator);
            const body = res.body as Operation;
            return ["Succeeded", "Failed", "Canceled"].includes(body.status) ? body : undefined;
          },
          `operation ${op.id}`,
          240_000,
          500,
        ),
      ),
    );
    for (const op of finalOps) assert.equal(op.status, "Succeeded", JSON.stringify(op));

    for (const name of jobs) {
      const job = await poll(
        async () => {
          const res = await client.call("GET", `${stack.clusterPath(RG, "ready1")}/jobs/${name}`, operator);
          const body = res.body as { status: string };
          return ["Succeeded", "Failed", "Canceled", "TimedOut"].includes(body.status) ? body : undefined;
        },
        `job ${name}`,
        120_000,
        500,
      );
      assert.equal(job.status, "Succeeded", JSON.stringify(job));
      const logs = await client.call("GET", `${stack.clusterPath(RG, "ready1")}/jobs/${name}/logs`, operator);
      assert.equal(logs.status, 200);
      assert.match(logs.text, /hello from the sandbox/);
    }
    arm.faults.clear();

    const log = arm.requestLog;
    const entries = log.entries();
    const injected = entries.filter((e) => e.faultId !== undefined).length;
    assert.ok(injected >= 3, `only ${injected} faults fired in ${entries.length} ARM requests`);
    assert.ok(entries.filter((e) => e.status === 429).length >= 2, "no throttling happened");
    assert.deepEqual(
      log
        .earlyRequests()
        .map((e) => `${e.entry.method} ${e.entry.path} ${e.earlyByMs} ms early (after ${e.after.status})`),
      [],
      "ARM calls before their Retry-After expired",
    );
    const creates = new Map<string, number>();
    for (const e of entries) {
      if (
        e.method === "PUT" &&
        e.status >= 200 &&
        e.status < 300 &&
        /\/(managedClusters\/new\d|agentPools\/kata\d)$/i.test(e.path)
      ) {
        creates.set(e.path.toLowerCase(), (creates.get(e.path.toLowerCase()) ?? 0) + 1);
      }
    }
    assert.equal(creates.size, 4, JSON.stringify([...creates]));
    for (const [path, n] of creates) assert.equal(n, 1, `${path} was created ${n} times`);
    assert.deepEqual(client.misbehaviour(), []);
    console.log(
      JSON.stringify({
        armRequests: entries.length,
        injected,
        kubernetesRefused: refused,
        apiAnswers: client.seen.length,
      }),
    );
  });
});
