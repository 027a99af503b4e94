import { test } from "node:test";
import assert from "node:assert/strict";
import {
  registerSandboxFeatureKind,
  registrationCanProgress,
  sandboxFeatureView,
  type SandboxFeatureInput,
} from "../../../../../src/domain/operations/kinds/sandboxFeatureKind.js";
import { FEATURE_GONE, type SandboxArm } from "../../../../../src/domain/sandbox/sandboxArm.js";
import { FakeSandboxArm } from "../../../../support/fakes/fakeSandboxArm.js";
import { sandboxFlavor } from "../../../../../src/domain/sandbox/sandboxFlavor.js";
import type { StepContext } from "../../../../../src/domain/operations/steps.js";

const preview = sandboxFlavor("preview");

test("feature view: GA needs nothing; gone GA is ready with a note; Pending says approval is needed", () => {
  assert.equal(sandboxFeatureView(sandboxFlavor("ga"), undefined, undefined, 0).ready, true);
  const gone = sandboxFeatureView(preview, FEATURE_GONE, undefined, 0);
  assert.deepEqual([gone.ready, gone.featureState], [true, "NotRequired"]);
  assert.match(gone.message ?? "", /no longer exists.*SANDBOX_FLAVOR=ga/);
  const pending = sandboxFeatureView(preview, "Pending", "Registered", 0);
  assert.equal(pending.ready, false);
  assert.match(pending.message ?? "", /needs approval/);
  assert.equal(sandboxFeatureView(preview, "Registered", "Registering", 0).ready, false);
  assert.equal(sandboxFeatureView(preview, "Registered", "Registered", 0).ready, true);
});

test("a feature gone GA (404) passes every step without a provider registration", async () => {
  const arm = new FakeSandboxArm();
  arm.featureGone("s", "Microsoft.ContainerService", "KataVMIsolationPreview");
  const kind = registerSandboxFeatureKind({ arm, flavor: preview });
  let data: Record<string, unknown> = {};
  const input: SandboxFeatureInput = {
    subscriptionId: "s",
    namespace: "Microsoft.ContainerService",
    featureName: "KataVMIsolationPreview",
  };
  for (const step of kind.steps) {
    const context = {
      input,
      data,
      state: {},
      now: 0,
      call: { correlationId: "c" },
      countArmCall: () => undefined,
    } as unknown as StepContext<SandboxFeatureInput>;
    const out = await step.advance(context);
    assert.equal(out.type, "done", step.name);
    if (out.type === "done") data = { ...data, ...(out.data ?? {}) };
  }
  assert.deepEqual(
    arm.calls.map((call) => call.method),
    ["registerFeature"],
  );
  assert.equal((kind.result?.(data, input) as { ready: boolean }).ready, true);
});

function waitContext(state: Record<string, unknown>): StepContext<SandboxFeatureInput> {
  return {
    input: { subscriptionId: "s", namespace: "Microsoft.ContainerService", featureName: "KataVMIsolationPreview" },
    data: {},
    state,
    now: 0,
    call: { correlationId: "c" },
    countArmCall: () => undefined,
  } as unknown as StepContext<SandboxFeatureInput>;
}

test("WaitForFeature finding NotRegistered/Unregistered registers again (3×), then fails at once — never waits out the deadline", async () => {
  for (const stuck of ["NotRegistered", "Unregistered"]) {
    const calls: string[] = [];
    const arm = {
      registerFeature: async () => (calls.push("registerFeature"), "Registering"),
      getFeatureState: async () => (calls.push("getFeatureState"), stuck),
    } as unknown as SandboxArm;
    const wait = registerSandboxFeatureKind({ arm, flavor: preview }).steps[1]!;
    assert.equal(wait.name, "WaitForFeature");
    let state: Record<string, unknown> = { checks: 5, interval: 300, since: 0 };
    for (let round = 1; round <= 3; round++) {
      const out = await wait.advance(waitContext(state));
      assert.equal(out.type, "wait", stuck);
      if (out.type !== "wait") return;
      assert.equal(out.afterSeconds, 10, "looks again soon after re-registering, not after the grown interval");
      assert.match(out.message ?? "", new RegExp(`was ${stuck} .*registered again \\(${round}/3\\)`));
      state = out.state!;
    }
    const last = await wait.advance(waitContext(state));
    assert.equal(last.type, "fail");
    if (last.type === "fail") {
      assert.equal(last.error.code, "FeatureNotRegistered");
      assert.match(last.error.message, new RegExp(`stayed ${stuck} after 3 register calls`));
    }
    assert.deepEqual(calls.filter((c) => c === "registerFeature").length, 3);
  }
});

test("WaitForFeature: a re-registration that answers Pending fails with the approval message", async () => {
  const arm = {
    registerFeature: async () => "Pending",
    getFeatureState: async () => "NotRegistered",
  } as unknown as SandboxArm;
  const out = await registerSandboxFeatureKind({ arm, flavor: preview }).steps[1]!.advance(waitContext({}));
  assert.equal(out.type, "fail");
  if (out.type === "fail") assert.match(out.error.message, /needs approval/);
});

test("WaitForProvider finding the provider NotRegistered registers it again", async () => {
  const calls: string[] = [];
  const arm = {
    registerProvider: async () => (calls.push("registerProvider"), "Registering"),
    getProviderState: async () => (calls.push("getProviderState"), "NotRegistered"),
  } as unknown as SandboxArm;
  const wait = registerSandboxFeatureKind({ arm, flavor: preview }).steps[3]!;
  const out = await wait.advance(waitContext({}));
  assert.equal(out.type, "wait");
  assert.deepEqual(calls, ["getProviderState", "registerProvider"]);
});

test("registrationCanProgress: a wait for a NotRegistered feature or provider cannot; Registering can", () => {
  assert.equal(registrationCanProgress("WaitForFeature", "NotRegistered", undefined), false);
  assert.equal(registrationCanProgress("WaitForFeature", "Unregistered", undefined), false);
  assert.equal(registrationCanProgress("WaitForFeature", "Registering", undefined), true);
  assert.equal(registrationCanProgress("WaitForProvider", "Registered", "NotRegistered"), false);
  assert.equal(registrationCanProgress("WaitForProvider", "Registered", "Registering"), true);
  assert.equal(registrationCanProgress("RegisterFeature", "NotRegistered", "NotRegistered"), true);
});
