import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createReadyCluster, SUB } from "../../../support/armTestSupport.js";
import {
  createPoolRequest,
  poolRef,
  reconcileUntilDone,
  startEngineHarness,
  type EngineHarness,
} from "../../../support/engineHarness.js";

const POOL_TEMPLATE =
  "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}";

describe("operations engine against Azurite and the ARM emulator", () => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness();
    await createReadyCluster(h.arm, "rg-ops", "c1");
  });
  after(() => h?.close());

  test("a pool creation runs to Succeeded with the pool view as result", async () => {
    const store = h.newStore();
    const engine = h.newEngine(store);
    const op = await engine.submit(createPoolRequest(poolRef("c1", "kata1")));
    assert.equal(op.status, "Running");
    assert.ok(typeof op.stepState.pollerState === "string");
    const [done] = await reconcileUntilDone([engine], store, [op.id]);
    assert.equal(done!.status, "Succeeded", JSON.stringify(done));
    assert.deepEqual(done!.result, {
      name: "kata1",
      vmSize: "Standard_D4s_v3",
      nodeCount: 1,
      workloadRuntime: "KataMshvVmIsolation",
      osSku: "AzureLinux",
      provisioningState: "Succeeded",
    });
    assert.equal(done!.steps[0]!.status, "Succeeded");
    assert.equal(h.arm.arm.state.cluster(SUB, "rg-ops", "c1")!.pools.get("kata1")!.provisioningState, "Succeeded");
    assert.equal((await store.listActive()).length, 0);
  });

  test("crash between row and ARM call: the reconciler issues exactly one PUT", async () => {
    const store = h.newStore();
    const pool = poolRef("c1", "crash1");
    const before = h.arm.arm.requestLog
      .entries()
      .filter((e) => e.method === "PUT" && e.path.endsWith("/agentPools/crash1")).length;
    const op = await h.newEngine(store).submit(createPoolRequest(pool, { startNow: false }));
    assert.equal(op.status, "NotStarted");
    const other = h.newEngine(store); // "another process"
    const [done] = await reconcileUntilDone([other], store, [op.id]);
    assert.equal(done!.status, "Succeeded");
    const puts =
      h.arm.arm.requestLog.entries().filter((e) => e.method === "PUT" && e.path.endsWith("/agentPools/crash1")).length -
      before;
    assert.equal(puts, 1);
  });

  test("crash after the PUT reached ARM but before the row recorded it: adopted, no second PUT", async () => {
    const store = h.newStore();
    const pool = poolRef("c1", "crash2");
    const engine = h.newEngine(store);
    const op = await engine.submit(createPoolRequest(pool, { startNow: false }));
    // Simulate: a start attempt was recorded and the PUT issued, then the process died.
    const stored = (await store.get(op.id))!;
    await store.update({ ...stored.record, stepState: { startAttempts: 1 } }, stored.etag);
    const { armCall } = await import("../../../support/armTestSupport.js");
    const put = await armCall(
      h.arm,
      "PUT",
      `/subscriptions/${SUB}/resourceGroups/rg-ops/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/crash2?api-version=2026-10-02-preview`,
      {
        properties: {
          vmSize: "Standard_D4s_v3",
          count: 1,
          mode: "User",
          osType: "Linux",
          osSKU: "AzureLinux",
          workloadRuntime: "KataMshvVmIsolation",
        },
      },
    );
    assert.equal(put.status, 201);
    const [done] = await reconcileUntilDone([h.newEngine(store)], store, [op.id]);
    assert.equal(done!.status, "Succeeded", JSON.stringify(done));
    const puts = h.arm.arm.requestLog
      .entries()
      .filter((e) => e.method === "PUT" && e.path.endsWith("/agentPools/crash2")).length;
    assert.equal(puts, 1, "only the PUT made before the crash");
  });

  test("crash mid-poll: a new process resumes from the row's poller state", async () => {
    const store = h.newStore();
    const first = h.newEngine(store);
    const op = await first.submit(createPoolRequest(poolRef("c1", "resume1")));
    assert.ok(op.stepState.pollerState);
    // The first process is gone; a second one with fresh SDK clients picks it up.
    const second = h.newEngine(store);
    const [done] = await reconcileUntilDone([second], store, [op.id]);
    assert.equal(done!.status, "Succeeded");
    assert.equal(
      h.arm.arm.requestLog.entries().filter((e) => e.method === "PUT" && e.path.endsWith("/agentPools/resume1")).length,
      1,
    );
  });

  test("two pool operations on one cluster run one after the other, no 409 from ARM", async () => {
    await createReadyCluster(h.arm, "rg-ops", "c2");
    const store = h.newStore();
    const engine = h.newEngine(store);
    const a = await engine.submit(createPoolRequest(poolRef("c2", "poola")));
    const b = await engine.submit(createPoolRequest(poolRef("c2", "poolb")));
    assert.equal(a.status, "Running");
    assert.equal(b.status, "NotStarted");
    assert.match(b.steps[0]!.message ?? "", new RegExp(`Waiting for ${a.id}`));
    const [da, db] = await reconcileUntilDone([engine], store, [a.id, b.id]);
    assert.equal(da!.status, "Succeeded");
    assert.equal(db!.status, "Succeeded");
    const conflicts = h.arm.arm.requestLog
      .entries()
      .filter((e) => e.path.includes("/managedClusters/c2/") && e.status === 409);
    assert.deepEqual(conflicts, []);
    assert.ok(Date.parse(db!.steps[0]!.startedAt!) >= Date.parse(da!.steps[0]!.endedAt!) - 1);
  });

  test("permanent ARM failure ends Failed with ARM's code and message", async () => {
    const store = h.newStore();
    const engine = h.newEngine(store);
    const req = createPoolRequest(poolRef("c1", "bad1"));
    (req.input.spec as { vmSize: string }).vmSize = "Standard_D2_v3"; // generation 1: AKS refuses Kata
    const op = await engine.submit(req);
    const [done] = await reconcileUntilDone([engine], store, [op.id]);
    assert.equal(done!.status, "Failed");
    assert.equal(done!.error?.code, "UpstreamFailed");
    assert.ok(done!.error?.details?.[0]?.code, JSON.stringify(done!.error));
  });

  test("cancel aborts a running agent-pool operation at ARM; terminal operations cannot be canceled", async () => {
    const store = h.newStore();
    const engine = h.newEngine(store);
    const op = await engine.submit(createPoolRequest(poolRef("c1", "cancel1")));
    const canceled = await engine.cancel(op.id);
    assert.equal(canceled.status, "Canceled");
    assert.ok(
      h.arm.arm.requestLog.entries().some((e) => e.method === "POST" && e.path.endsWith("/agentPools/cancel1/abort")),
    );
    assert.equal(h.arm.arm.state.cluster(SUB, "rg-ops", "c1")!.pools.get("cancel1")!.provisioningState, "Canceled");
    await assert.rejects(engine.cancel(op.id), (e: { code?: string }) => e.code === "Conflict");
  });

  test("a delete runs and the pool disappears", async () => {
    const store = h.newStore();
    const engine = h.newEngine(store);
    const create = await engine.submit(createPoolRequest(poolRef("c1", "del1")));
    await reconcileUntilDone([engine], store, [create.id]);
    const del = await engine.submit({ ...createPoolRequest(poolRef("c1", "del1")), kind: "DeleteSandboxPool" });
    const [done] = await reconcileUntilDone([engine], store, [del.id]);
    assert.equal(done!.status, "Succeeded", JSON.stringify(done));
    assert.equal(h.arm.arm.state.cluster(SUB, "rg-ops", "c1")!.pools.get("del1"), undefined);
    void POOL_TEMPLATE;
  });
});
