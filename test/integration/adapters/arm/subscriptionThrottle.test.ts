// ARM throttles per subscription: after a 429 with Retry-After, no request of that subscription reaches ARM
// until the wait is over, whichever path it is for (the reliability suite's upstream-fault test caught a second
// operation probing its resource group 300 ms early).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TokenCredential } from "@azure/core-auth";
import { ArmClientFactory } from "../../../../src/adapters/arm/armClients.js";
import { startTestArm, SUB, type TestArm } from "../../../support/armTestSupport.js";

const OTHER_SUB = "22222222-2222-2222-2222-222222222222";
const token: TokenCredential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3600e3 }) };

describe("SubscriptionThrottle in the ARM clients' pipeline", () => {
  let t: TestArm;
  let clients: ArmClientFactory;
  before(async () => {
    t = await startTestArm();
    clients = new ArmClientFactory(
      { armEndpoint: t.arm.url, simulate: false, simulatedCaCertPath: undefined, azureAuthorityHost: undefined },
      { credential: token, httpClient: t.clientOptions.httpClient },
    );
  });
  after(async () => {
    await t?.close();
  });

  test("a 429 holds every request of its subscription until Retry-After, and only that subscription", async () => {
    // 800 service seconds at the test clock's scale 0.001: an 800 ms wait.
    t.arm.faults.add({
      method: "GET",
      pathPattern: "/subscriptions/{s}/providers/Microsoft.ContainerService",
      times: 1,
      action: { status: 429, retryAfterSeconds: 800 },
    });
    const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;
    const featurePath = `/subscriptions/${SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/KataVMIsolationPreview`;
    const armRequestsTo = (path: string) =>
      t.arm.requestLog.entries().filter((e) => e.path.toLowerCase() === path.toLowerCase()).length;
    const readFeature = () =>
      clients.features(SUB).features.get("Microsoft.ContainerService", "KataVMIsolationPreview");

    const throttled = await clients
      .resources(SUB)
      .providers.get("Microsoft.ContainerService")
      .then(() => undefined, statusOf);
    assert.equal(throttled, 429, "the injected 429 reaches the caller");

    // Another path of the same subscription: answered 429 here, with the remaining wait, without calling ARM.
    const before = armRequestsTo(featurePath);
    const held = await readFeature().then(
      () => undefined,
      (error: { statusCode?: number; response?: { headers: { get(n: string): string | undefined } } }) => error,
    );
    assert.equal(held?.statusCode, 429);
    const remaining = Number(held?.response?.headers.get("retry-after-ms"));
    assert.ok(remaining > 0 && remaining <= 800, `remaining wait ${remaining} ms`);
    assert.equal(armRequestsTo(featurePath), before, "no ARM request while the subscription waits");

    // Another subscription is not held.
    const otherPath = `/subscriptions/${OTHER_SUB}/providers/Microsoft.ContainerService`;
    await clients
      .resources(OTHER_SUB)
      .providers.get("Microsoft.ContainerService")
      .catch(() => undefined);
    assert.equal(armRequestsTo(otherPath), 1);

    // After the wait, requests go through again.
    await new Promise((r) => setTimeout(r, remaining + 20));
    await readFeature().catch(() => undefined);
    assert.equal(armRequestsTo(featurePath), before + 1);
  });
});
