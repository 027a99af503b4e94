// IsolationCheckService on typed fakes (Kubernetes, job slots, the operation store) and a real engine: no network.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";
import { IsolationCheckService } from "../../../../src/domain/sandbox/isolationCheckService.js";
import { ALPHA_CLUSTER, fixturePolicy, principal } from "../../../support/policyFixtures.js";
import { sandboxDomain } from "../../../support/sandboxDomain.js";

const submitter = { principal: principal("alpha", ["Sandbox.Submitter"]), requestId: "req-1" };
const beta = { principal: principal("beta", ["Sandbox.Submitter"]), requestId: "req-2" };
const RC = "kata-mshv-vm-isolation";
const withCode = (code: string) => (error: unknown) => isSandboxError(error) && error.code === code;

function setup(slotLimit = 3) {
  const domain = sandboxDomain();
  domain.slots.limit = slotLimit;
  let n = 0;
  const service = new IsolationCheckService({
    policy: fixturePolicy(),
    kubernetes: domain.kubernetes,
    runtimeClassName: RC,
    operations: domain.submitter,
    unique: () => `u${++n}`,
    slots: domain.slots,
    activeOperations: domain.activeOperations,
  });
  const withRuntimeClass = () =>
    domain.kubernetes.cluster(ALPHA_CLUSTER).runtimeClasses.set(RC, { name: RC, handler: "kata", nodeSelector: {} });
  return { ...domain, service, withRuntimeClass };
}

test("without the sandbox RuntimeClass: SandboxNotReady, no operation, no slot held", async () => {
  const { service, submitter: ops, slots } = setup();
  await assert.rejects(service.start(ALPHA_CLUSTER, submitter), withCode("SandboxNotReady"));
  assert.equal(ops.requests.length, 0);
  assert.equal(slots.held.get("alpha")?.size ?? 0, 0);
});

test("with it: an IsolationCheck operation with the team's namespace and probe names, holding one job slot", async () => {
  const { service, submitter: ops, slots, withRuntimeClass } = setup();
  withRuntimeClass();
  const outcome = await service.start(ALPHA_CLUSTER, submitter);
  assert.equal(outcome.type, "accepted");
  const request = ops.requests[0]!;
  assert.equal(request.kind, "IsolationCheck");
  assert.equal(request.team, "alpha");
  assert.equal(request.correlationId, "req-1");
  const input = request.input as { probeStem: string; team: string; runtimeClassName: string; slotId?: string };
  assert.deepEqual(
    [input.probeStem, input.team, input.runtimeClassName, input.slotId],
    ["isolation-probe-u1", "alpha", RC, "check-isolation-probe-u1"],
  );
  assert.deepEqual([...(slots.held.get("alpha") ?? [])], ["check-isolation-probe-u1"]);
});

test("a second check of the same team on the cluster is a Conflict while the first runs", async () => {
  const { service, submitter: ops, withRuntimeClass } = setup();
  withRuntimeClass();
  await service.start(ALPHA_CLUSTER, submitter);
  await assert.rejects(service.start(ALPHA_CLUSTER, submitter), withCode("Conflict"));
  assert.equal(ops.requests.length, 1);
});

test("no free job slot: QuotaExceeded and no operation; another team's cluster is NotFound", async () => {
  const { service, submitter: ops, withRuntimeClass } = setup(0);
  withRuntimeClass();
  await assert.rejects(service.start(ALPHA_CLUSTER, submitter), withCode("QuotaExceeded"));
  await assert.rejects(service.start(ALPHA_CLUSTER, beta), withCode("NotFound"));
  assert.equal(ops.requests.length, 0);
});
