// The operation engine alone (real adapters, Azurite, the ARM emulator) under injected upstream faults and
// concurrency: 200 operations through 20 % 429/500/reset answers, and two reconcilers on one table. About a
// minute of CPU, so it runs with the other fault tests in `npm run test:reliability`, not in `npm test`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  createPoolRequest,
  poolRef,
  readyClusters,
  reconcileUntilDone,
  startEngineHarness,
  type EngineHarness,
} from "../support/engineHarness.js";
import { SUB } from "../support/armTestSupport.js";

describe("operations engine under faults and concurrency", () => {
  let h: EngineHarness;
  before(async () => {
    // Scale 0.03, not 0.01: the kinds' deadlines (3600 s) run on the scaled
    // clock, and 200 operations on a busy 2-core machine can need more than
    // the 36 real seconds that 0.01 leaves them.
    h = await startEngineHarness({ poolCreateSeconds: 60, clusterCreateSeconds: 10 }, 0.03);
  });
  after(() => h?.close());

  test("20% injected 429/500/reset faults: 200 operations reach a terminal state, no call before a Retry-After", async () => {
    const clusters = Array.from({ length: 100 }, (_, i) => `f${i}`);
    await readyClusters(h, clusters);
    const store = h.newStore();
    const engine = h.newEngine(store, { serialWaitSeconds: 300, concurrency: 16 });
    h.arm.arm.requestLog.clear();
    const pattern =
      "^/subscriptions/[^/]+/(resourceGroups/rg-ops/providers/Microsoft.ContainerService/managedClusters/f\\d+/agentPools/|providers/Microsoft.ContainerService/locations/)";
    // A 429 holds the whole subscription for its Retry-After (as ARM's bucket does; src/adapters/arm/subscriptionThrottle.ts).
    // Random 429s on 7% of requests are far denser than a real bucket's, so their wait is short (2 s simulated):
    // with 20 s the subscription stayed throttled most of the run and operations reached their deadline.
    h.arm.arm.faults.add({ pathPattern: pattern, probability: 0.07, action: { status: 429, retryAfterSeconds: 2 } });
    h.arm.arm.faults.add({ pathPattern: pattern, probability: 0.07, action: { status: 500 } });
    h.arm.arm.faults.add({ pathPattern: pattern, probability: 0.07, action: { reset: true } });
    const ids: string[] = [];
    for (const c of clusters) {
      for (const p of ["pa", "pb"]) ids.push((await engine.submit(createPoolRequest(poolRef(c, p)))).id);
    }
    const ops = await reconcileUntilDone([engine], store, ids, 240_000);
    h.arm.arm.faults.clear();
    const statuses = ops.map((o) => o.status);
    assert.equal(statuses.length, 200);
    assert.ok(statuses.every((s) => s === "Succeeded" || s === "Failed" || s === "Canceled"));
    const faulted = h.arm.arm.requestLog.entries().filter((e) => e.faultId !== undefined).length;
    assert.ok(faulted > 50, `faults fired: ${faulted}`);
    assert.deepEqual(h.arm.arm.requestLog.earlyRequests(), []);
    // Transient faults never end an operation: all of them succeed.
    assert.deepEqual(
      [...new Set(statuses)],
      ["Succeeded"],
      JSON.stringify(
        ops
          .filter((o) => o.status !== "Succeeded")
          .slice(0, 3)
          .map((o) => o.error),
      ),
    );
  });

  test("two reconcilers on one table: no operation advanced twice, no lost update", async () => {
    const clusters = Array.from({ length: 20 }, (_, i) => `r${i}`);
    await readyClusters(h, clusters);
    const store = h.newStore();
    const one = h.newEngine(store, {}, "instance-one");
    const two = h.newEngine(store, {}, "instance-two");
    const ids: string[] = [];
    for (const c of clusters)
      ids.push((await one.submit(createPoolRequest(poolRef(c, "kata"), { startNow: false }))).id);
    const ops = await reconcileUntilDone([one, two], store, ids, 120_000);
    const log = h.arm.arm.requestLog.entries();
    for (const op of ops) {
      assert.equal(op.status, "Succeeded");
      const cluster = (op.input as { pool: { clusterName: string } }).pool.clusterName;
      const poolPath = `/managedClusters/${cluster}/agentPools/kata`;
      const puts = log.filter((e) => e.method === "PUT" && e.path.endsWith(poolPath));
      assert.equal(puts.length, 1, `${cluster}: ${puts.length} PUTs`);
      const lro = [...h.arm.arm.state.operations.values()].find(
        (o) => o.poolName === "kata" && o.clusterKey === h.arm.arm.state.cluster(SUB, "rg-ops", cluster)!.key,
      )!;
      const reads = log.filter(
        (e) => e.method === "GET" && (e.path.endsWith(`/operations/${lro.id}`) || e.path.endsWith(poolPath)),
      );
      // Every ARM call is accounted for by exactly one committed tick (+ the poller's final resource GET).
      assert.equal(1 + reads.length, op.armCalls + 1, `${cluster}: ${reads.length} reads vs armCalls ${op.armCalls}`);
    }
  });
});
