// Against a real Azurite: job rows, chunked log tails, ETags, paging, active pointers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { TableClient } from "@azure/data-tables";
import { RestError, type PipelinePolicy } from "@azure/core-rest-pipeline";
import { JobTable, LOG_CHUNK_BYTES } from "../../../../src/adapters/tables/jobTable.js";
import { MAX_CAPTURED_LOG_BYTES, type JobRecord } from "../../../../src/domain/jobs/jobRecord.js";
import { SandboxError } from "../../../../src/domain/sandboxError.js";
import type { RunningAzurite } from "../../../../src/localhost/azuriteProcess.js";
import { startTestAzurite } from "../../../support/testAzurite.js";

const c1 = { subscriptionId: "11111111-1111-1111-1111-111111111111", resourceGroup: "rg-a", clusterName: "Kata1" };
const c2 = { ...c1, clusterName: "kata2" };

function record(name: string, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    team: "alpha",
    cluster: c1,
    name,
    namespace: "sandbox-alpha",
    uid: `j-${name}`,
    isolation: "sandbox",
    runtimeClassName: "kata-mshv-vm-isolation",
    sandboxVm: { vCpu: 1, memoryMiB: 2048 },
    image: "mcr.microsoft.com/x:1",
    status: "Pending",
    reason: "Creating",
    createdAt: new Date().toISOString(),
    createdBy: "p1",
    requestId: "r1",
    warnings: ["w"],
    refreshedAt: undefined,
    logs: undefined,
    ...overrides,
  };
}

describe("JobTable on Azurite", () => {
  let azurite: RunningAzurite;
  let n = 0;
  const fresh = (): JobTable =>
    new JobTable(
      TableClient.fromConnectionString(azurite.connectionString, `jobs${++n}`, { allowInsecureConnection: true }),
    );

  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  test("a name Table Storage cannot store in a key (/, #, ?, \\, control characters) is simply not found (found by the fuzzer)", async () => {
    const store = fresh();
    await store.insert(record("a"));
    for (const clusterName of ["/ ", "a#b", "a?b", "a\\b", "a\u0001b"]) {
      assert.equal(await store.get("alpha", { ...c1, clusterName }, "a"), undefined, JSON.stringify(clusterName));
      assert.deepEqual(await store.findAnyTeam({ ...c1, clusterName }, "a"), [], JSON.stringify(clusterName));
    }
  });

  test("insert, get (case-insensitive cluster), conflict on a second insert, ETag-checked updates", async () => {
    const store = fresh();
    const stored = await store.insert(record("a"));
    assert.ok(stored.etag);
    const got = await store.get("alpha", { ...c1, clusterName: "KATA1", resourceGroup: "RG-A" }, "a");
    assert.equal(got?.uid, "j-a");
    assert.deepEqual(got?.sandboxVm, { vCpu: 1, memoryMiB: 2048 });
    assert.deepEqual(got?.warnings, ["w"]);
    // Another submission of the name (its own uid): the name is taken.
    await assert.rejects(
      store.insert(record("a", { uid: "j-a2" })),
      (e: unknown) => e instanceof SandboxError && e.code === "Conflict" && /already exists/.test(e.message),
    );
    const running = await store.update({
      ...got,
      status: "Running",
      reason: "Running",
      startedAt: "2026-01-01T00:00:00Z",
    });
    assert.ok(running);
    assert.equal(await store.update({ ...got, status: "Failed" }), undefined, "a stale ETag loses");
    assert.equal((await store.get("alpha", c1, "a"))?.status, "Running");
    assert.equal((await store.findAnyTeam(c1, "a")).length, 1);
    assert.equal(await store.get("beta", c1, "a"), undefined);
  });

  test("regression (issue 12): an insert whose answer is lost after the table stored the row is a success, not 409 'already exists'", async () => {
    // The SDK retries a create whose connection dropped (ECONNRESET) although the first attempt had reached the
    // table; the retry answers 409 EntityAlreadyExists. Here a pipeline policy below the retry policy drops the
    // first create's answer after Azurite stored the row, so the retry happens every time.
    const table = `jobs${++n}`;
    let dropped = 0;
    const dropFirstCreateAnswer: PipelinePolicy = {
      name: "dropFirstCreateAnswer",
      async sendRequest(request, next) {
        const response = await next(request);
        if (dropped === 0 && request.method === "POST" && new URL(request.url).pathname.endsWith(`/${table}`)) {
          dropped += 1;
          throw new RestError("socket hang up", { code: "ECONNRESET", request });
        }
        return response;
      },
    };
    const store = new JobTable(
      TableClient.fromConnectionString(azurite.connectionString, table, {
        allowInsecureConnection: true,
        additionalPolicies: [{ policy: dropFirstCreateAnswer, position: "perRetry" }],
      }),
    );
    const stored = await store.insert(record("trusted", { isolation: "none", runtimeClassName: undefined }));
    assert.equal(dropped, 1, "the first create's answer was dropped (the SDK retried)");
    assert.ok(stored.etag);
    const rows = await store.findAnyTeam(c1, "trusted");
    assert.deepEqual(
      rows.map((r) => [r.uid, r.status]),
      [["j-trusted", "Pending"]],
      "one row, this submission's",
    );
    assert.deepEqual(
      (await store.listActive(10)).map((k) => k.name),
      ["trusted"],
      "the timer will reconcile it",
    );
    // The stored ETag is the row's: the job can be updated with it.
    assert.ok(await store.update({ ...stored, status: "Running", reason: "Running" }));
  });

  test("log tails of 256 KiB are chunked across rows in the final update's transaction", async () => {
    const store = fresh();
    const stored = await store.insert(record("big"));
    const text = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${"é".repeat(3)}`)
      .join("\n")
      .slice(0, MAX_CAPTURED_LOG_BYTES / 2);
    assert.ok(Buffer.byteLength(text) > LOG_CHUNK_BYTES * 2);
    const final = await store.updateWithLogs({ ...stored, status: "Succeeded" }, text, true);
    assert.ok(final?.logs);
    assert.equal(final.logs.chunks, Math.ceil(Buffer.byteLength(text) / LOG_CHUNK_BYTES));
    assert.equal(final.logs.truncated, true);
    const reread = (await store.get("alpha", c1, "big"))!;
    assert.equal(await store.readLogs(reread), text);
    assert.equal(
      await store.updateWithLogs({ ...stored, status: "Canceled" }, "x", false),
      undefined,
      "stale ETag: nothing written",
    );
    assert.equal(await store.readLogs((await store.get("alpha", c1, "big"))!), text);
    await store.delete(reread);
    assert.equal(await store.get("alpha", c1, "big"), undefined);
  });

  test("list: team, cluster, cluster name and status filters; paging with continuation tokens; active pointers", async () => {
    const store = fresh();
    for (const name of ["a", "b", "c"]) await store.insert(record(name));
    await store.insert(record("d", { cluster: c2, status: "Running" }));
    await store.insert(record("e", { team: "beta" }));
    const all = await store.list({ team: "alpha", top: 100 });
    assert.deepEqual(
      all.records.map((r) => r.name),
      ["a", "b", "c", "d"],
    );
    assert.deepEqual((await store.list({ team: undefined, top: 100 })).records.map((r) => r.name).sort(), [
      "a",
      "b",
      "c",
      "d",
      "e",
    ]);
    assert.deepEqual(
      (await store.list({ team: "alpha", cluster: c2, top: 100 })).records.map((r) => r.name),
      ["d"],
    );
    assert.deepEqual(
      (await store.list({ team: "alpha", clusterName: "KATA1", top: 100 })).records.map((r) => r.name),
      ["a", "b", "c"],
    );
    assert.deepEqual(
      (await store.list({ team: "alpha", status: "Running", top: 100 })).records.map((r) => r.name),
      ["d"],
    );
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list({ team: "alpha", top: 3, continuationToken: token });
      names.push(...page.records.map((r) => r.name));
      token = page.continuationToken;
    } while (token);
    assert.deepEqual(names, ["a", "b", "c", "d"]);
    await assert.rejects(
      store.list({ team: "alpha", top: 1, continuationToken: "garbage" }),
      (e: unknown) => e instanceof SandboxError && e.code === "InvalidRequest",
    );
    const active = await store.listActive(100);
    assert.equal(active.length, 5);
    await store.clearActive({ team: "alpha", cluster: c1, name: "a" });
    await store.clearActive({ team: "alpha", cluster: c1, name: "a" });
    assert.equal((await store.listActive(100)).length, 4);
    assert.equal((await store.listActive(2)).length, 2);
  });
});
