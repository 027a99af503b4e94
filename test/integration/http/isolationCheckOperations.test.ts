// The isolation check end to end: POST → IsolationCheck operation → verdict,
// through the local stack against the ARM and Kubernetes emulators.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulatedPolicyFile } from "../../../src/config/simulatedPolicy.js";
import { poll, startInProcessStack, type SandboxStack } from "../../support/sandboxStack.js";
import type { InProcessApp } from "../../support/inProcessApp.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

// Two stacks: the sample policy's, and one whose team policy opens the internet. Their tests run side by side.
describe("Isolation check through the REST API (simulated Azure)", { concurrency: 2 }, () => {
  let stack: SandboxStack<InProcessApp>;
  let submitter: string;
  let internetStack: SandboxStack<InProcessApp> | undefined;
  let internetSubmitter: string;
  let policyDir: string | undefined;

  const finish = (location: string, on: SandboxStack<InProcessApp> = stack): Promise<any> =>
    poll(
      async () => {
        // Drive it like the reconciler would, then read it.
        await on.host.fireTimer("reconcileOperations");
        const body = (await (
          await on.call("GET", location.replace(/^\/api\/v1/, ""), on === stack ? submitter : internetSubmitter)
        ).json()) as any;
        return body.status === "Running" || body.status === "NotStarted" ? undefined : body;
      },
      "isolation check",
      90_000,
      100,
    );

  describe("a team whose policy opens the internet", () => {
    before(async () => {
      const dir = await mkdtemp(join(tmpdir(), "iso-policy-"));
      policyDir = dir;
      const policy = JSON.parse(await readFile(simulatedPolicyFile(), "utf8"));
      policy.teams.alpha.egress = { internet: true };
      delete policy.$schema;
      await writeFile(join(dir, "policy.json"), JSON.stringify(policy));
      internetStack = await startInProcessStack({
        scale: 0.01,
        env: { SANDBOX_POLICY_FILE: join(dir, "policy.json") },
      });
      await internetStack.createCluster("rg-iso", "kata1");
      internetSubmitter = await internetStack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    });
    after(async () => {
      await internetStack?.close();
      if (policyDir) await rm(policyDir, { recursive: true, force: true });
    });

    test("with the team's policy opened to the internet only the internet probe changes; the check held a job slot", async () => {
      const res = await internetStack!.call(
        "POST",
        `${internetStack!.clusterPath("rg-iso", "kata1")}/isolation-checks`,
        internetSubmitter,
      );
      assert.equal(res.status, 202, await res.clone().text());
      const op = await finish(res.headers.get("operation-location")!, internetStack);
      assert.equal(op.result.verdict, "ISOLATED", JSON.stringify(op.result.probes));
      const internet = op.result.probes.find((p: any) => p.name === "internet");
      assert.equal(internet.observed, "reachable");
      assert.match(internet.evidence, /Example Domain/);
      assert.deepEqual(
        op.result.probes.filter((p: any) => p.observed === "reachable").map((p: any) => p.name),
        ["internet"],
      );
    });
  });

  // Its tests run in order (the third counts the first one's operation); suites inherit the outer concurrency.
  describe("the sample policy", { concurrency: 1 }, () => {
    before(async () => {
      stack = await startInProcessStack({ scale: 0.01 });
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
      assert.deepEqual(
        accepted.steps.map((s: any) => s.name),
        ["StartPeerPod", "RunSandboxedProbe", "RunTrustedProbe", "Compare", "Cleanup"],
      );
      // At most one check per team and cluster at a time.
      const second = await stack.call("POST", `${stack.clusterPath("rg-iso", "kata1")}/isolation-checks`, submitter);
      assert.equal(second.status, 409);
      assert.match(((await second.json()) as any).error.message, /already runs on cluster "kata1" \(operation op_/);
      const op = await finish(location!);
      assert.equal(op.status, "Succeeded", JSON.stringify(op));
      assert.equal(op.result.isolated, true);
      assert.equal(op.result.verdict, "ISOLATED", JSON.stringify(op.result.probes));
      assert.deepEqual(
        op.result.probes.map((p: any) => [p.name, p.passed, p.observed]),
        [
          ["kernel", true, "isolated kernel"],
          ["imds", true, "blocked"],
          ["wireserver", true, "blocked"],
          ["apiServer", true, "blocked"],
          ["otherNamespacePod", true, "blocked"],
          ["internet", true, "blocked"],
          ["serviceAccountToken", true, "no token"],
          ["podSecurity", true, "restricted"],
        ],
      );
      assert.match(
        op.result.probes[1].evidence,
        /^curl: \(28\) Failed to connect to 169\.254\.169\.254 port 80 after 5000 ms: Timeout was reached$/,
      );
      assert.equal(op.result.sandboxKernel, "5.15.48.1-8.cm2");
      assert.equal(op.result.nodeKernel, "5.15.80.mshv2-hvl1.m2");
      assert.notEqual(op.result.sandboxKernel, op.result.nodeKernel);
      assert.equal(op.result.runtimeClassName, "kata-mshv-vm-isolation");
      assert.ok(Date.parse(op.result.checkedAt) > 0);
      const snap = stack.azure.kubernetes.snapshot(stack.clusterKey("rg-iso", "kata1"));
      assert.deepEqual(
        snap.jobs.map((j) => j.metadata.name),
        [],
        "both probe jobs are deleted",
      );
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
      const job = await stack.call("POST", `${stack.clusterPath("rg-iso", "plain1")}/jobs`, submitter, {
        image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11",
      });
      assert.equal(job.status, 409);
      assert.equal(((await job.json()) as any).error.code, "SandboxNotReady");
      assert.equal(stack.azure.kubernetes.snapshot(key).jobs.length, 0);
    });

    test("an unknown cluster is 404", async () => {
      const res = await stack.call("POST", `${stack.clusterPath("rg-iso", "missing")}/isolation-checks`, submitter);
      assert.equal(res.status, 404);
    });
  });
});
