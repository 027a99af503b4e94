import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startInProcessApp, type InProcessApp } from "../../support/inProcessApp.js";
import { armCall, testTls, waitUntil, type TestArm } from "../../support/armTestSupport.js";
import { startSimulatedAzure } from "../../../src/emulators/simulatedAzure.js";
import { createTrustingHttpClient } from "../../../src/adapters/arm/emulatorTrust.js";

const SUB = "11111111-1111-1111-1111-111111111111";
const SCALE = 0.005;
const base = (cluster: string) => `subscriptions/${SUB}/resourceGroups/rg-http/clusters/${cluster}/sandbox-pools`;

async function readyCluster(t: TestArm, name: string): Promise<void> {
  await armCall(t, "PUT", `/subscriptions/${SUB}/resourcegroups/rg-http?api-version=2025-04-01`, {
    location: "eastus",
  });
  const res = await armCall(
    t,
    "PUT",
    `/subscriptions/${SUB}/resourceGroups/rg-http/providers/Microsoft.ContainerService/managedClusters/${name}?api-version=2026-10-01`,
    {
      location: "eastus",
      properties: {
        dnsPrefix: name,
        agentPoolProfiles: [{ name: "system", count: 1, vmSize: "Standard_D4s_v3", mode: "System", osType: "Linux" }],
      },
    },
  );
  assert.ok(res.status === 201 || res.status === 200, res.text);
  await waitUntil(() => t.arm.state.cluster(SUB, "rg-http", name)?.provisioningState === "Succeeded");
}

describe("operations and sandbox-pool routes through the local stack", () => {
  let t: TestArm;
  let host: InProcessApp;
  let alpha: string;
  let beta: string;
  let admin: string;
  before(async () => {
    // The Kubernetes emulator too: CreateSandboxPool waits for the RuntimeClass through the cluster's API.
    const tls = await testTls();
    const azure = await startSimulatedAzure({
      tls,
      timeScale: SCALE,
      armSettings: { poolCreateSeconds: 180, poolDeleteSeconds: 120 },
    });
    t = {
      arm: azure.arm,
      cloud: azure.cloud,
      tls,
      clientOptions: { endpoint: azure.armUrl, httpClient: createTrustingHttpClient(tls.certPem) },
      close: () => azure.close(),
    };
    t.arm.state.setFeatureState(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
    t.arm.state.registerProvider(SUB, "Microsoft.ContainerService");
    await waitUntil(() => t.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered");
    await readyCluster(t, "c1");
    host = await startInProcessApp({
      env: {
        ARM_ENDPOINT: t.arm.url,
        SANDBOX_SIMULATED_CA_CERT: t.tls.caCertPath,
        SIM_TIME_SCALE: String(SCALE),
        SANDBOX_SIMULATE: "true",
      },
    });
    alpha = await host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
    beta = await host.token({ team: "beta", roles: ["Sandbox.Operator"] });
    admin = await host.token({ roles: ["Sandbox.Admin"] });
  });
  after(async () => {
    await host?.stop();
    await t?.close();
  });

  const call = (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) =>
    host.call(method, `/${path}`, token, body, headers);

  const puts = (pool: string) =>
    t.arm.requestLog.entries().filter((e) => e.method === "PUT" && e.path.endsWith(`/agentPools/${pool}`)).length;

  test("100 identical retried PUTs with one Repeatability-Request-ID → one operation, one ARM PUT; another body → 409 rejected", async () => {
    const id = randomUUID();
    const body = { vmSize: "Standard_D4s_v3", nodeCount: 1 };
    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        call("PUT", `${base("c1")}/kata1`, alpha, body, { "repeatability-request-id": id }),
      ),
    );
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { id: string }[];
    assert.deepEqual([...new Set(responses.map((r) => r.status))], [202]);
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1);
    assert.ok(responses.every((r) => r.headers.get("repeatability-result") === "accepted"));
    assert.equal(responses[0]!.headers.get("operation-location"), `/api/v1/operations/${bodies[0]!.id}`);
    assert.match(responses[0]!.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal(puts("kata1"), 1);

    const other = await call(
      "PUT",
      `${base("c1")}/kata1`,
      alpha,
      { ...body, nodeCount: 2 },
      { "repeatability-request-id": id },
    );
    assert.equal(other.status, 409);
    assert.equal(other.headers.get("repeatability-result"), "rejected");
    assert.equal(((await other.json()) as { error: { code: string } }).error.code, "Conflict");

    // 100 concurrent GETs of the due operation: at most one ARM poll.
    const opId = bodies[0]!.id;
    const statusPolls = () =>
      t.arm.requestLog.entries().filter((e) => e.method === "GET" && /\/operations\/[^/]+$/.test(e.path)).length;
    await new Promise((r) => setTimeout(r, 180 * 1000 * SCALE)); // past the first poll time
    const beforePolls = statusPolls();
    const gets = await Promise.all(Array.from({ length: 100 }, () => call("GET", `operations/${opId}`, alpha)));
    assert.deepEqual([...new Set(gets.map((g) => g.status))], [200]);
    assert.ok(statusPolls() - beforePolls <= 1, `polls: ${statusPolls() - beforePolls}`);

    // Poll through the API until Succeeded.
    let op: { status: string; result?: unknown; steps: { status: string }[] } = { status: "Running", steps: [] };
    await waitUntil(
      async () => {
        const res = await call("GET", `operations/${opId}`, alpha);
        op = (await res.json()) as typeof op;
        if (op.status === "Running" || op.status === "NotStarted")
          assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);
        return op.status !== "Running" && op.status !== "NotStarted";
      },
      30_000,
      50,
    );
    assert.equal(op.status, "Succeeded", JSON.stringify(op));
    assert.deepEqual(op.result, {
      name: "kata1",
      vmSize: "Standard_D4s_v3",
      nodeCount: 1,
      workloadRuntime: "KataMshvVmIsolation",
      osSku: "AzureLinux",
      provisioningState: "Succeeded",
      capacity: { vCpuPerNode: 4, memoryGiBPerNode: 16, defaultSandboxesPerNode: 4 },
    });

    // Same PUT again (no repeatability id): already in that state → 200, no ARM write.
    const again = await call("PUT", `${base("c1")}/kata1`, alpha, body);
    assert.equal(again.status, 200);
    assert.equal(puts("kata1"), 1);

    // Terminal → cancel is a 409; other teams do not see it; Admin does.
    assert.equal((await call("POST", `operations/${opId}/cancel`, alpha)).status, 409);
    assert.equal((await call("GET", `operations/${opId}`, beta)).status, 404);
    assert.equal((await call("GET", `operations/${opId}`, admin)).status, 200);
  });

  test("list: filters, team visibility and nextLink paging", async () => {
    const a = await call("PUT", `${base("c1")}/lista`, alpha, { vmSize: "Standard_D4s_v3", nodeCount: 1 });
    assert.equal(a.status, 202);
    const b = await call("PUT", `${base("c1")}/listb`, alpha, { vmSize: "Standard_D4s_v3", nodeCount: 1 });
    assert.equal(b.status, 202);
    const queued = (await b.json()) as { status: string; steps: { message?: string }[] };
    assert.equal(queued.status, "NotStarted");
    assert.match(queued.steps[0]!.message ?? "", /Waiting for op_/);

    const seen: string[] = [];
    let next: string | undefined = "operations?kind=CreateSandboxPool&top=1";
    while (next) {
      const res = await call("GET", next, alpha);
      assert.equal(res.status, 200);
      const page = (await res.json()) as { value: { id: string; team: string }[]; nextLink?: string };
      assert.ok(page.value.length <= 1);
      for (const v of page.value) {
        assert.equal(v.team, "alpha");
        seen.push(v.id);
      }
      // The nextLink is absolute: its path and query under /api/v1/ are the next call.
      next = page.nextLink?.replace(/^.*?\/api\/v1\//, "");
    }
    assert.ok(seen.length >= 3, `seen ${seen.length}`);
    const betaList = (await (await call("GET", "operations", beta)).json()) as { value: unknown[] };
    assert.equal(betaList.value.length, 0);
    const running = (await (await call("GET", "operations?status=NotStarted", alpha)).json()) as {
      value: { status: string }[];
    };
    assert.ok(running.value.every((v) => v.status === "NotStarted") && running.value.length >= 1);
    const target = (await (
      await call("GET", `operations?target=${encodeURIComponent(`/${base("c1")}/lista`)}`, alpha)
    ).json()) as { value: { target: string }[] };
    assert.equal(target.value.length, 1);

    // The queued one can be canceled before it starts.
    const queuedId = (
      (await (await call("GET", `operations?target=${encodeURIComponent(`/${base("c1")}/listb`)}`, alpha)).json()) as {
        value: { id: string }[];
      }
    ).value[0]!.id;
    const canceled = await call("POST", `operations/${queuedId}/cancel`, alpha);
    assert.equal(canceled.status, 200);
    assert.equal(((await canceled.json()) as { status: string }).status, "Canceled");
    assert.equal(puts("listb"), 0);
  });

  test("a nextLink token the API did not issue → 400 InvalidRequest, never a storage 5xx (found by the fuzzer)", async () => {
    const forged = Buffer.from(JSON.stringify({ nextPartitionKey: 42 })).toString("base64");
    for (const token of ["+", " ", "not-base64-json", forged]) {
      const res = await call("GET", `operations?continuationToken=${encodeURIComponent(token)}`, alpha);
      const body = (await res.json()) as { error?: { code?: string; target?: string } };
      assert.equal(res.status, 400, `${JSON.stringify(token)}: ${JSON.stringify(body)}`);
      assert.equal(body.error?.code, "InvalidRequest");
      assert.equal(body.error?.target, "query.continuationToken");
    }
  });
});
