import { test } from "node:test";
import assert from "node:assert/strict";
import {
  clusterKey,
  jobView,
  lastBytes,
  parseClusterApiId,
  tailLog,
  type JobRecord,
} from "../../../../src/domain/jobs/jobRecord.js";

const cluster = { subscriptionId: "11111111-1111-1111-1111-111111111111", resourceGroup: "RG-1", clusterName: "Kata1" };

test("ids: the job's cluster-scoped id, links, cluster keys", () => {
  const record: JobRecord = {
    team: "alpha",
    cluster,
    name: "j1",
    namespace: "sandbox-alpha",
    uid: "j-1",
    isolation: "sandbox",
    runtimeClassName: "kata-mshv-vm-isolation",
    sandboxVm: { vCpu: 1.5, memoryMiB: 2560 },
    image: "x",
    status: "Running",
    createdAt: "2026-01-01T00:00:00.000Z",
    createdBy: "p",
    requestId: "r",
    warnings: [],
    refreshedAt: undefined,
    logs: undefined,
    etag: "W/1",
  };
  const view = jobView(record);
  assert.equal(
    view.id,
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/RG-1/clusters/Kata1/jobs/j1",
  );
  assert.equal(view.cluster, "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/RG-1/clusters/Kata1");
  assert.deepEqual(view.links, { self: `/api/v1${view.id}`, logs: `/api/v1${view.id}/logs` });
  assert.equal("etag" in view, false);
  assert.equal(clusterKey(cluster), "11111111-1111-1111-1111-111111111111:rg-1:kata1");
  assert.deepEqual(parseClusterApiId(view.cluster), cluster);
  assert.equal(parseClusterApiId("/subscriptions/x/clusters/y"), undefined);
});

test("tailLog: tailLines, then limitBytes from the start of the tail, never splitting a character", () => {
  const log = "a\nb\nc\n";
  assert.equal(tailLog(log), log);
  assert.equal(tailLog(log, { tailLines: 2 }), "b\nc\n");
  assert.equal(tailLog(log, { tailLines: 10 }), log);
  assert.equal(tailLog(log, { tailLines: 0 }), "");
  assert.equal(tailLog(log, { tailLines: 2, limitBytes: 3 }), "b\nc");
  assert.equal(tailLog("é€x", { limitBytes: 4 }), "é");
});

test("lastBytes keeps the tail from a line boundary and says when it cut", () => {
  assert.deepEqual(lastBytes("short\n", 100), { text: "short\n", truncated: false });
  const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const { text, truncated } = lastBytes(long, 40);
  assert.ok(truncated);
  assert.ok(Buffer.byteLength(text) <= 40);
  assert.match(text, /^line \d+\n/);
  assert.ok(text.endsWith("line 99\n"));
});
