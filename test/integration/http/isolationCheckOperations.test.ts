// The isolation check end to end: POST → IsolationCheck operation → verdict,
// through the local stack against the ARM and Kubernetes emulators.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MASTER_KEY, poll, startSandboxStack, type SandboxStack } from "../../support/sandboxStack.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

describe("Isolation check through the REST API (simulated Azure)", () => {
  let stack: SandboxStack;
  let submitter: string;

  before(async () => {
    stack = await startSandboxStack({ scale: 0.01 });
    await stack.createCluster("rg-iso", "kata1");
    // A cluster without any sandbox pool (ordinary containers only).
    await stack.createCluster("rg-iso", "plain1", { workloadRuntime: "OCIContainer" });
    submitter = await stack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
  });
  after(async () => {
    await stack?.close();
  });

  test("with a sandbox pool: isolated, the guest kernel differs from the node's, both probes cleaned up", async () => {
    const res = await stack.call("POST", `${stack.clusterPath("rg-iso", "kata1")}/isolation-checks`, submitter);
    assert.equal(res.status, 202, await res.clone().text());
    const location = res.headers.get("operation-location");
    assert.match(location ?? "", /^\/api\/v1\/operations\/op_/);
    assert.ok(Number(res.headers.get("retry-after")) >= 0);
    const accepted = (await res.json()) as any;
    assert.equal(accepted.kind, "IsolationCheck");
    assert.deepEqual(accepted.steps.map((s: any) => s.name), ["RunSandboxedProbe", "RunTrustedProbe", "Compare", "Cleanup"]);
    const op = await poll(async () => {
      // Drive it like the reconciler would, then read it.
      await fetch(`${new URL(stack.host.api).origin}/admin/functions/reconcileOperations`, { method: "POST", headers: { "x-functions-key": MASTER_KEY, "content-type": "application/json" }, body: "{}" });
      const body = (await (await stack.call("GET", location!.replace(/^\/api\/v1/, ""), submitter)).json()) as any;
      return body.status === "Running" || body.status === "NotStarted" ? undefined : body;
    }, "isolation check", 60_000, 100);
    assert.equal(op.status, "Succeeded", JSON.stringify(op));
    assert.equal(op.result.isolated, true);
    assert.equal(op.result.sandboxKernel, "5.15.48.1-8.cm2");
    assert.equal(op.result.nodeKernel, "5.15.80.mshv2-hvl1.m2");
    assert.notEqual(op.result.sandboxKernel, op.result.nodeKernel);
    assert.equal(op.result.runtimeClassName, "kata-mshv-vm-isolation");
    assert.ok(Date.parse(op.result.checkedAt) > 0);
    const snap = stack.azure.kubernetes.snapshot(stack.clusterKey("rg-iso", "kata1"));
    assert.deepEqual(snap.jobs.map((j) => j.metadata.name), [], "both probe jobs are deleted");
  });

  test("without a sandbox pool: 409 SandboxNotReady and no pod (nor anything else) is created", async () => {
    const key = stack.clusterKey("rg-iso", "plain1");
    const before = stack.azure.kubernetes.snapshot(key);
    const res = await stack.call("POST", `${stack.clusterPath("rg-iso", "plain1")}/isolation-checks`, submitter);
    assert.equal(res.status, 409);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, "SandboxNotReady");
    assert.match(body.error.message, /sandbox pool/);
    const after = stack.azure.kubernetes.snapshot(key);
    assert.equal(after.pods.length, 0);
    assert.equal(after.jobs.length, 0);
    assert.equal(after.namespaces.length, before.namespaces.length);
    const ops = (await (await stack.call("GET", "/operations?kind=IsolationCheck", submitter)).json()) as any;
    assert.equal(ops.value.length, 1, "only the first test's operation exists");
    // A job submission to that cluster is refused the same way.
    const job = await stack.call("POST", `${stack.clusterPath("rg-iso", "plain1")}/jobs`, submitter, { image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11" });
    assert.equal(job.status, 409);
    assert.equal(((await job.json()) as any).error.code, "SandboxNotReady");
    assert.equal(stack.azure.kubernetes.snapshot(key).jobs.length, 0);
  });

  test("an unknown cluster is 404", async () => {
    const res = await stack.call("POST", `${stack.clusterPath("rg-iso", "missing")}/isolation-checks`, submitter);
    assert.equal(res.status, 404);
  });
});
