// JobReconciler with in-memory fakes: pointers whose row is missing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JobReconciler } from "../../../../src/domain/jobs/jobReconciler.js";
import { ALPHA_CLUSTER, fixturePolicy } from "../../../support/policyFixtures.js";
import { InMemoryJobStore } from "../../../support/fakes/inMemoryJobStore.js";

describe("JobReconciler", () => {
  test("a pointer without its row is kept while young (the row is being written with it), cleared after", async () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    const store = new InMemoryJobStore();
    const key = (name: string, since?: string) => ({ team: "alpha", cluster: ALPHA_CLUSTER, name, since });
    store.active.set(
      InMemoryJobStore.key("alpha", ALPHA_CLUSTER, "young"),
      key("young", new Date(now - 5_000).toISOString()),
    );
    store.active.set(
      InMemoryJobStore.key("alpha", ALPHA_CLUSTER, "old"),
      key("old", new Date(now - 120_000).toISOString()),
    );
    store.active.set(InMemoryJobStore.key("alpha", ALPHA_CLUSTER, "unknown"), key("unknown"));
    const reconciler = new JobReconciler({
      store,
      kubernetes: {
        forCluster: () => Promise.reject(new Error("no cluster call expected")),
        forget: () => undefined,
      },
      slots: { reserveJobSlot: async () => undefined, releaseJobSlot: async () => false },
      policy: fixturePolicy(),
      now: () => new Date(now),
      log: () => undefined,
    });
    const report = await reconciler.reconcileJobs();
    assert.deepEqual(report, { active: 3, refreshed: 3, finished: 2, failed: 0 });
    assert.deepEqual(
      [...store.active.values()].map((k) => k.name),
      ["young"],
    );
  });
});
