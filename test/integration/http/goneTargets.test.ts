// Targets in a state they cannot leave on their own (simulated Azure lost them, or somebody deleted them):
// nothing waits out its deadline or is retried forever. A fresh PUT …/sandbox-feature does not join a
// registration that waits for a NotRegistered feature: it starts over. A job whose cluster was deleted ends
// Failed (ClusterDeleted) once, and later reconcile passes leave it alone. Timers are off: the test drives
// the operation by reading it and fires the job timer by hand.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { poll, startInProcessStack, type SandboxStack } from "../../support/sandboxStack.js";
import type { InProcessApp } from "../../support/inProcessApp.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

const NS = "Microsoft.ContainerService";
const FEATURE = "KataVMIsolationPreview";

describe("targets that cannot progress on their own", () => {
  let stack: SandboxStack<InProcessApp>;
  let admin: string;
  before(async () => {
    stack = await startInProcessStack({ scale: 0.01, timers: false });
    admin = await stack.host.token({ team: "alpha", roles: ["Sandbox.Admin"] });
  });
  after(async () => {
    await stack?.close();
  });
  const json = async (res: Response): Promise<any> => (await res.json()) as any;
  const fireJobTimer = (): Promise<void> => stack.host.fireTimer("reconcileJobs");

  test("a fresh PUT …/sandbox-feature starts over instead of joining a registration stuck on NotRegistered", async () => {
    const sub = stack.subscriptionId;
    const state = stack.azure.arm.state;
    state.unregisterFeature(sub, NS, FEATURE);
    const first = await stack.call("PUT", `/subscriptions/${sub}/sandbox-feature`, admin);
    assert.equal(first.status, 202, await first.clone().text());
    const firstId = (await json(first)).id as string;
    // Azure loses the registration (as a restarted simulation without state did): NotRegistered, no timer will change it.
    state.setFeatureState(sub, NS, FEATURE, "NotRegistered");
    const second = await stack.call("PUT", `/subscriptions/${sub}/sandbox-feature`, admin);
    assert.equal(second.status, 202, await second.clone().text());
    const secondId = (await json(second)).id as string;
    assert.notEqual(secondId, firstId, "a new registration, not the stuck one");
    const old = await json(await stack.call("GET", `/operations/${firstId}`, admin));
    assert.equal(old.status, "Canceled", JSON.stringify(old));
    const done = await poll(
      async () => {
        const op = await json(await stack.call("GET", `/operations/${secondId}`, admin));
        return op.status === "Running" || op.status === "NotStarted" ? undefined : op;
      },
      "the fresh registration ends",
      60_000,
    );
    assert.equal(done.status, "Succeeded", JSON.stringify(done));
  });

  test("a registration that finds its feature NotRegistered registers again instead of waiting out its deadline", async () => {
    const sub = stack.subscriptionId;
    const state = stack.azure.arm.state;
    state.unregisterFeature(sub, NS, FEATURE);
    const put = await stack.call("PUT", `/subscriptions/${sub}/sandbox-feature`, admin);
    assert.equal(put.status, 202);
    const id = (await json(put)).id as string;
    state.setFeatureState(sub, NS, FEATURE, "NotRegistered");
    const done = await poll(
      async () => {
        const op = await json(await stack.call("GET", `/operations/${id}`, admin));
        return op.status === "Running" || op.status === "NotStarted" ? undefined : op;
      },
      "the registration ends",
      60_000,
    );
    assert.equal(done.status, "Succeeded", JSON.stringify(done));
  });

  test("a job whose cluster was deleted ends Failed (ClusterDeleted) once; later passes leave it alone", async () => {
    await stack.createCluster("rg-gone", "doomed");
    const submitter = await stack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    const jobs = `${stack.clusterPath("rg-gone", "doomed")}/jobs`;
    const res = await stack.call("POST", jobs, submitter, {
      name: "orphan",
      image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11",
      command: ["/bin/sh", "-ec"],
      args: ["while :; do echo .; sleep 5; done"],
    });
    assert.equal(res.status, 201, await res.clone().text());
    await poll(
      async () =>
        (await json(await stack.call("GET", `${jobs}/orphan`, submitter))).status === "Running" ? true : undefined,
      "orphan Running",
    );
    // The cluster goes away behind the service's back.
    const key = stack.clusterKey("rg-gone", "doomed");
    stack.azure.arm.state.clusters.delete(key);
    stack.azure.cloud.deleteCluster(key);
    await fireJobTimer();
    const ended = await json(await stack.call("GET", `${jobs}/orphan`, submitter));
    assert.equal(ended.status, "Failed", JSON.stringify(ended));
    assert.equal(ended.reason, "ClusterDeleted");
    assert.match(ended.message, /doomed .*no longer exists/);
    // Off the timer's list: two more passes make no ARM call about that cluster.
    stack.azure.arm.requestLog.clear();
    await fireJobTimer();
    await fireJobTimer();
    const about = stack.azure.arm.requestLog
      .entries()
      .filter((e) => e.path.toLowerCase().includes("/managedclusters/doomed"));
    assert.deepEqual(
      about.map((e) => `${e.method} ${e.path}`),
      [],
    );
    assert.doesNotMatch(stack.host.output(), /job reconcile failed.*orphan/);
  });
});
