// OperationService on a real OperationEngine over typed in-memory fakes of its ports (store, ARM): no network.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OperationService } from "../../../../src/domain/operations/operationService.js";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";
import { principal } from "../../../support/policyFixtures.js";
import { sandboxDomain } from "../../../support/sandboxDomain.js";

const alpha = principal("alpha", ["Sandbox.Operator"]);
const beta = principal("beta", ["Sandbox.Operator"]);
const admin = principal(undefined, ["Sandbox.Admin"]);

function setup() {
  const domain = sandboxDomain();
  const service = new OperationService(domain.engine);
  const submit = (team: string, subscriptionId = "sub1", startNow = false) =>
    domain.engine.submit({
      kind: "RegisterSandboxFeature",
      target: `/subscriptions/${subscriptionId}/sandbox-feature`,
      subscriptionId,
      input: { subscriptionId, namespace: "Microsoft.ContainerService", featureName: "KataVMIsolationPreview" },
      createdBy: `${team}-user`,
      team,
      correlationId: "corr-1",
      startNow,
    });
  return { ...domain, service, submit };
}

const code = (c: string) => (error: unknown) => isSandboxError(error) && error.code === c;

test("get: the caller's team's operation; another team's is NotFound; an Admin sees every team's", async () => {
  const { service, submit } = setup();
  const op = await submit("alpha");
  assert.equal((await service.get(op.id, alpha)).id, op.id);
  await assert.rejects(service.get(op.id, beta), code("NotFound"));
  assert.equal((await service.get(op.id, admin)).team, "alpha");
  await assert.rejects(service.get("op_missing", alpha), code("NotFound"));
});

test("get advances a due operation (one step through the ARM port); a terminal one is returned as it is", async () => {
  const { service, submit, sandboxArm } = setup();
  const op = await submit("alpha");
  assert.equal(op.status, "NotStarted");
  const read = await service.get(op.id, alpha);
  assert.equal(read.status, "Running");
  assert.ok(sandboxArm.calls.some((c) => c.method === "registerFeature" && c.correlationId === "corr-1"));
  const canceled = await service.cancel(op.id, alpha);
  assert.equal(canceled.status, "Canceled");
  const calls = sandboxArm.calls.length;
  assert.equal((await service.get(op.id, alpha)).status, "Canceled");
  assert.equal(sandboxArm.calls.length, calls, "no ARM call for a terminal operation");
});

test("list: a team member sees the team's operations only, filtered; an Admin sees all", async () => {
  const { service, submit } = setup();
  await submit("alpha", "sub1");
  await submit("alpha", "sub2");
  await submit("beta", "sub3");
  const mine = await service.list({ top: 10 }, alpha);
  assert.deepEqual(mine.items.map((o) => o.team).sort(), ["alpha", "alpha"]);
  const filtered = await service.list({ top: 10, target: "/subscriptions/sub2/sandbox-feature" }, alpha);
  assert.deepEqual(
    filtered.items.map((o) => o.subscriptionId),
    ["sub2"],
  );
  assert.equal((await service.list({ top: 10, status: "Succeeded" }, alpha)).items.length, 0);
  assert.equal((await service.list({ top: 10 }, admin)).items.length, 3);
});

test("cancel: another team's operation is NotFound (and stays running); a terminal one is a Conflict", async () => {
  const { service, submit } = setup();
  const op = await submit("alpha");
  await assert.rejects(service.cancel(op.id, beta), code("NotFound"));
  assert.equal((await service.get(op.id, alpha)).cancelRequested, false);
  assert.equal((await service.cancel(op.id, alpha)).status, "Canceled");
  await assert.rejects(service.cancel(op.id, alpha), code("Conflict"));
});

test("retryAfterSeconds is the engine's (1–60 s), and reconcile runs the engine's pass over due operations", async () => {
  const { service, submit, engine } = setup();
  const op = await submit("alpha");
  const seconds = service.retryAfterSeconds(op);
  assert.equal(seconds, engine.retryAfterSeconds(op));
  assert.ok(seconds >= 1 && seconds <= 60, String(seconds));
  const report = await service.reconcile();
  assert.ok(report.advanced >= 1, JSON.stringify(report));
  assert.notEqual((await service.get(op.id, alpha)).status, "NotStarted");
});
