// SandboxFeatureService on typed fakes (ARM reads, the operation store) and a real engine: no network.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";
import { SandboxFeatureService } from "../../../../src/domain/sandbox/sandboxFeatureService.js";
import { fixturePolicy, principal, SUB_ALPHA } from "../../../support/policyFixtures.js";
import { sandboxDomain } from "../../../support/sandboxDomain.js";

const NS = "Microsoft.ContainerService";
const FEATURE = "KataVMIsolationPreview";
const admin = { principal: principal("alpha", ["Sandbox.Admin"]), requestId: "req-1" };
const reader = { principal: principal("alpha", ["Sandbox.Reader"]), requestId: "req-2" };
const beta = { principal: principal("beta", ["Sandbox.Reader"]), requestId: "req-3" };

function setup(flavor: "preview" | "ga" = "preview") {
  const domain = sandboxDomain(flavor);
  const service = new SandboxFeatureService({
    policy: fixturePolicy(),
    arm: domain.sandboxArm,
    flavor: domain.flavor,
    activeOperations: domain.activeOperations,
    operations: domain.submitter,
    now: domain.now,
  });
  return { ...domain, service };
}

test("get: the feature's and the provider's state from ARM; another team's subscription is NotFound", async () => {
  const { service, sandboxArm } = setup();
  const before = await service.get(SUB_ALPHA, reader);
  assert.deepEqual([before.flavor, before.featureState, before.ready], ["preview", "NotRegistered", false]);
  assert.ok(sandboxArm.calls.every((c) => c.correlationId === "req-2"));
  sandboxArm.features.set(`${SUB_ALPHA}/${NS}/${FEATURE}`.toLowerCase(), "Registered");
  sandboxArm.providers.set(`${SUB_ALPHA}/${NS}`.toLowerCase(), "Registered");
  const after = await service.get(SUB_ALPHA, reader);
  assert.deepEqual([after.featureState, after.providerState, after.ready], ["Registered", "Registered", true]);
  await assert.rejects(service.get(SUB_ALPHA, beta), (e) => isSandboxError(e) && e.code === "NotFound");
});

test("GA flavour: ready without asking ARM, and register is done without an operation", async () => {
  const { service, sandboxArm, submitter } = setup("ga");
  const view = await service.get(SUB_ALPHA, reader);
  assert.deepEqual([view.flavor, view.ready, view.featureState], ["ga", true, "NotRequired"]);
  const outcome = await service.register(SUB_ALPHA, admin);
  assert.equal(outcome.type, "done");
  assert.equal(sandboxArm.calls.length, 0);
  assert.equal(submitter.requests.length, 0);
});

test("register: already Registered → done, no operation; a feature gone GA → done, NotRequired", async () => {
  const { service, sandboxArm, submitter } = setup();
  sandboxArm.features.set(`${SUB_ALPHA}/${NS}/${FEATURE}`.toLowerCase(), "Registered");
  sandboxArm.providers.set(`${SUB_ALPHA}/${NS}`.toLowerCase(), "Registered");
  assert.equal((await service.register(SUB_ALPHA, admin)).type, "done");
  sandboxArm.featureGone(SUB_ALPHA, NS, FEATURE);
  const gone = await service.register(SUB_ALPHA, admin);
  assert.ok(gone.type === "done" && gone.body.featureState === "NotRequired" && gone.body.ready, JSON.stringify(gone));
  assert.equal(submitter.requests.length, 0);
});

test("register: NotRegistered → RegisterSandboxFeature on the subscription's serial key, by the caller's team", async () => {
  const { service, submitter } = setup();
  const outcome = await service.register(SUB_ALPHA, admin);
  assert.equal(outcome.type, "accepted");
  assert.equal(submitter.requests.length, 1);
  const request = submitter.requests[0]!;
  assert.deepEqual(
    [request.kind, request.target, request.serialKey, request.team, request.correlationId],
    [
      "RegisterSandboxFeature",
      `/subscriptions/${SUB_ALPHA}/sandbox-feature`,
      `sandbox-feature:${SUB_ALPHA}`,
      "alpha",
      "req-1",
    ],
  );
  assert.deepEqual(request.input, { subscriptionId: SUB_ALPHA, namespace: NS, featureName: FEATURE });
  // Roles are the HTTP layer's; the subscription scope is the service's: another team's is NotFound, no operation.
  await assert.rejects(service.register(SUB_ALPHA, beta), (e) => isSandboxError(e) && e.code === "NotFound");
  assert.equal(submitter.requests.length, 1);
});

test("register joins a registration that can progress; one waiting on NotRegistered is canceled and started over", async () => {
  const { service, submitter, sandboxArm, engine } = setup();
  const first = await service.register(SUB_ALPHA, admin);
  assert.ok(first.type === "accepted");
  await engine.advance(first.operation.id); // RegisterFeature: ARM says Registering
  const joined = await service.register(SUB_ALPHA, admin);
  assert.ok(joined.type === "accepted");
  assert.equal(joined.operation.id, first.operation.id, "joined, not a second registration");
  assert.equal(submitter.requests.length, 1);
  // Azure lost the registration: the running one waits for a state it will not reach.
  sandboxArm.features.set(`${SUB_ALPHA}/${NS}/${FEATURE}`.toLowerCase(), "NotRegistered");
  const fresh = await service.register(SUB_ALPHA, admin);
  assert.ok(fresh.type === "accepted");
  assert.notEqual(fresh.operation.id, first.operation.id);
  assert.deepEqual(submitter.canceled, [first.operation.id]);
  assert.equal((await engine.get(first.operation.id))?.status, "Canceled");
});
