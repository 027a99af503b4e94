import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:https";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import type { RequestLogEntry } from "../../../../src/emulators/arm/requestLog.js";
import type { ActiveFaultRule } from "../../../../src/emulators/arm/faultInjector.js";
import {
  STABLE,
  SUB,
  armCall,
  clusterPath,
  createReadyCluster,
  startTestArm,
  staticCredential,
  waitUntil,
  type TestArm,
  type SdkError,
} from "../../../support/armTestSupport.js";

const FEATURE = `/subscriptions/${SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/KataVMIsolationPreview`;

describe("ARM emulator fault injection, request log, Retry-After and load", () => {
  let t: TestArm;
  before(async () => {
    t = await startTestArm({ poolCreateSeconds: 120, lroRetryAfterSeconds: 20 }, 0.01);
    await createReadyCluster(t, "rg-f", "faults");
  });
  after(() => t.close());

  test("fault rules over /_emulator/faults: 429 with scaled Retry-After, 500, 503, reset, latency — all in the request log", async () => {
    await armCall(t, "DELETE", "/_emulator/requests", undefined, { auth: false });
    const add = await armCall(
      t,
      "POST",
      "/_emulator/faults",
      [
        {
          method: "GET",
          pathPattern: "/subscriptions/{s}/providers/Microsoft.Features/providers/{ns}/features/{f}",
          times: 1,
          action: { status: 429, retryAfterSeconds: 300 },
        },
        {
          method: "GET",
          pathPattern: "^/subscriptions/[^/]+/providers/Microsoft.Features/providers/[^/]+/features/[^/]+$",
          times: 1,
          action: { status: 500 },
        },
        { method: "GET", pathPattern: "*/features/KataVMIsolationPreview", times: 1, action: { status: 503 } },
        { method: "GET", pathPattern: "*/features/KataVMIsolationPreview", times: 1, action: { reset: true } },
        { method: "GET", pathPattern: "*/features/KataVMIsolationPreview", times: 1, action: { latencyMs: 150 } },
      ],
      { auth: false },
    );
    assert.equal(add.status, 201);
    assert.equal(add.body.ids.length, 5);

    const throttled = await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.body.error.code, "TooManyRequests");
    // 300 simulated s × 0.01 = 3 s wall.
    assert.equal(throttled.headers["retry-after"], "3");
    assert.equal(throttled.headers["retry-after-ms"], "3000");
    assert.equal(throttled.headers["x-ms-retry-after-ms"], "3000");
    assert.equal((await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`)).status, 500);
    assert.equal((await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`)).status, 503);
    await assert.rejects(armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`), /socket hang up|ECONNRESET/);
    const started = Date.now();
    const slow = await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`);
    assert.equal(slow.status, 200);
    assert.ok(Date.now() - started >= 140);
    assert.equal(
      (await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`)).status,
      200,
      "rules with times: 1 are spent",
    );

    const log = await armCall(t, "GET", "/_emulator/requests", undefined, { auth: false });
    const template =
      "/subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/{resourceProviderNamespace}/features/{featureName}";
    assert.equal(log.body.counts[`GET ${template}`], 6);
    assert.deepEqual(
      log.body.entries.map((e: RequestLogEntry) => e.status),
      [429, 500, 503, 0, 200, 200],
    );
    assert.equal(log.body.entries[0].retryAfterMs, 3000);
    assert.ok(log.body.entries.slice(0, 5).every((e: RequestLogEntry) => typeof e.faultId === "string"));
    assert.ok(log.body.entries.every((e: RequestLogEntry) => e.wallTime && e.simulatedTime && e.template === template));
    assert.ok(!JSON.stringify(log.body).includes("test-token"), "no secrets in the log");
    const rules = await armCall(t, "GET", "/_emulator/faults", undefined, { auth: false });
    assert.deepEqual(
      rules.body.rules.map((r: ActiveFaultRule) => r.fired),
      [1, 1, 1, 1, 1],
    );
    assert.equal((await armCall(t, "DELETE", "/_emulator/faults", undefined, { auth: false })).status, 204);
    assert.equal((await armCall(t, "DELETE", "/_emulator/requests", undefined, { auth: false })).status, 204);
    assert.equal((await armCall(t, "GET", "/_emulator/requests", undefined, { auth: false })).body.total, 0);
    assert.equal(
      (await armCall(t, "POST", "/_emulator/faults", { pathPattern: "/x", action: { status: 418 } }, { auth: false }))
        .status,
      400,
    );
  });

  test("x-ms-correlation-request-id: a client's id is echoed and logged; without one ARM makes one per request", async () => {
    const id = "c0ffee00-0000-4000-8000-000000000001";
    const mine = await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`, undefined, {
      headers: { "x-ms-correlation-request-id": id },
    });
    assert.equal(mine.headers["x-ms-correlation-request-id"], id);
    assert.notEqual(mine.headers["x-ms-request-id"], id);
    const theirs = await armCall(t, "GET", `${FEATURE}?api-version=2021-07-01`);
    assert.match(String(theirs.headers["x-ms-correlation-request-id"]), /^[0-9a-f-]{36}$/);
    assert.notEqual(theirs.headers["x-ms-correlation-request-id"], id);
    const [first, second] = t.arm.requestLog.since(t.arm.requestLog.lastSeq - 2);
    assert.equal(first?.correlationId, id);
    assert.equal(second?.correlationId, undefined);
  });

  test("failLro makes the operation end Failed with the given error (status endpoint and Location endpoint)", async () => {
    t.arm.faults.add({
      method: "PUT",
      pathPattern: "*/agentPools/doomed",
      times: 1,
      action: {
        failLro: {
          code: "QuotaExceeded",
          message: "Operation could not be completed as it results in exceeding approved Total Regional Cores quota.",
        },
      },
    });
    const put = await armCall(t, "PUT", `${clusterPath("rg-f", "faults")}/agentPools/doomed?api-version=${STABLE}`, {
      properties: { count: 1, vmSize: "Standard_D2s_v3" },
    });
    assert.equal(put.status, 201);
    const statusUrl = put.headers["azure-asyncoperation"] as string;
    const first = await armCall(t, "GET", statusUrl);
    assert.equal(first.body.status, "InProgress");
    await waitUntil(async () => (await armCall(t, "GET", statusUrl)).body.status !== "InProgress", 10_000, 50);
    const done = await armCall(t, "GET", statusUrl);
    assert.equal(done.body.status, "Failed");
    assert.deepEqual(done.body.error, {
      code: "QuotaExceeded",
      message: "Operation could not be completed as it results in exceeding approved Total Regional Cores quota.",
    });
    assert.ok(done.body.endTime);
    const resultUrl = statusUrl.replace("/operations/", "/operationresults/");
    const result = await armCall(t, "GET", resultUrl);
    assert.equal(result.status, 400);
    assert.equal(result.body.error.code, "QuotaExceeded");
    const poolGet = await armCall(t, "GET", `${clusterPath("rg-f", "faults")}/agentPools/doomed?api-version=${STABLE}`);
    assert.equal(poolGet.body.properties.provisioningState, "Failed");

    // The SDK surfaces it as a failed poller.
    const aks = new ContainerServiceClient(staticCredential, SUB, t.clientOptions);
    t.arm.faults.add({
      pathPattern: "*/agentPools/doomed2",
      action: { failLro: { code: "InternalOperationError", message: "boom" } },
    });
    await assert.rejects(
      aks.agentPools.createOrUpdate(
        "rg-f",
        "faults",
        "doomed2",
        { count: 1, vmSize: "Standard_D2s_v3" },
        { updateIntervalInMs: 20 },
      ),
      (e: SdkError) => /boom|InternalOperationError/.test(JSON.stringify(e.message ?? e)),
    );
  });

  test("time scale applies to LRO Retry-After; clients can check no poll came early; Retry-After can be switched off", async () => {
    await waitUntil(() => t.arm.state.cluster(SUB, "rg-f", "faults")!.activeOp === undefined);
    t.arm.requestLog.clear();
    const put = await armCall(t, "PUT", `${clusterPath("rg-f", "faults")}/agentPools/timed?api-version=${STABLE}`, {
      properties: { count: 1, vmSize: "Standard_D2s_v3" },
    });
    assert.equal(put.status, 201);
    // 20 simulated s × 0.01 = 200 ms wall → Retry-After rounds up to 1 s, retry-after-ms is exact.
    assert.equal(put.headers["retry-after"], "1");
    assert.equal(put.headers["retry-after-ms"], "200");
    const statusUrl = put.headers["azure-asyncoperation"] as string;
    const early = await armCall(t, "GET", statusUrl);
    assert.equal(early.headers["retry-after-ms"], "200");
    const earlyRequests = t.arm.requestLog.earlyRequests();
    assert.equal(earlyRequests.length, 1, "the immediate poll is flagged as early");
    assert.equal(earlyRequests[0]!.entry.path, new URL(statusUrl).pathname);
    await new Promise((r) => setTimeout(r, 250));
    await armCall(t, "GET", statusUrl);
    assert.equal(t.arm.requestLog.earlyRequests().length, 1, "a poll after retry-after-ms is not early");
    await waitUntil(() => t.arm.state.cluster(SUB, "rg-f", "faults")!.activeOp === undefined);

    t.arm.settings.sendRetryAfter = false;
    try {
      const del = await armCall(t, "DELETE", `${clusterPath("rg-f", "faults")}/agentPools/timed?api-version=${STABLE}`);
      assert.equal(del.status, 202);
      assert.ok(del.headers.location && del.headers["azure-asyncoperation"]);
      assert.equal(del.headers["retry-after"], undefined);
      assert.equal(del.headers["retry-after-ms"], undefined);
    } finally {
      t.arm.settings.sendRetryAfter = true;
    }
  });

  test("500 concurrent requests on loopback without errors", async () => {
    const paths = [
      `${clusterPath("rg-f", "faults")}?api-version=${STABLE}`,
      `${clusterPath("rg-f", "faults")}/agentPools?api-version=${STABLE}`,
      `${FEATURE}?api-version=2021-07-01`,
      `/subscriptions/${SUB}/providers/Microsoft.ContainerService?api-version=2025-04-01`,
      `/subscriptions/${SUB}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=location eq 'eastus'`,
    ];
    t.arm.requestLog.clear();
    // One connection per request: 500 TLS connections at once, not a small pool.
    const agent = new Agent({ ca: t.tls.certPem, keepAlive: false, maxSockets: Infinity });
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => armCall(t, "GET", paths[i % paths.length]!, undefined, { agent })),
    );
    agent.destroy();
    assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
    assert.equal(t.arm.requestLog.toJSON().total, 500);
  });
});
