import { test } from "node:test";
import assert from "node:assert/strict";
import { registerSandboxFeatureKind, sandboxFeatureView } from "../../../../../src/domain/operations/kinds/sandboxFeatureKind.js";
import { FEATURE_GONE, type SandboxArm } from "../../../../../src/domain/sandbox/sandboxArm.js";
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
  const calls: string[] = [];
  const arm = {
    registerFeature: async () => (calls.push("registerFeature"), FEATURE_GONE),
    getFeatureState: async () => (calls.push("getFeatureState"), FEATURE_GONE),
    registerProvider: async () => (calls.push("registerProvider"), "Registering"),
    getProviderState: async () => (calls.push("getProviderState"), "Registered"),
  } as unknown as SandboxArm;
  const kind = registerSandboxFeatureKind({ arm, flavor: preview });
  let data: Record<string, unknown> = {};
  for (const step of kind.steps) {
    const context = { input: { subscriptionId: "s", namespace: "Microsoft.ContainerService", featureName: "KataVMIsolationPreview" }, data, state: {}, now: 0, call: { correlationId: "c" }, countArmCall: () => undefined } as unknown as StepContext;
    const out = await step.advance(context);
    assert.equal(out.type, "done", step.name);
    if (out.type === "done") data = { ...data, ...(out.data ?? {}) };
  }
  assert.deepEqual(calls, ["registerFeature"]);
  assert.equal((kind.result?.(data, {}) as { ready: boolean }).ready, true);
});
