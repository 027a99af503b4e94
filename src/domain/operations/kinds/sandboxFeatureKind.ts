import { FEATURE_GONE, type SandboxArm } from "../../sandbox/sandboxArm.js";
import type { SandboxFlavorNames } from "../../sandbox/sandboxFlavor.js";
import type { OperationError } from "../operation.js";
import type { OperationKindDefinition } from "../operationKinds.js";
import { waitForStep, type StepContext, type StepDefinition } from "../steps.js";

/** Input of `RegisterSandboxFeature` (stored in the row). */
export interface SandboxFeatureInput {
  subscriptionId: string;
  namespace: string;
  featureName: string;
}

/** The sandbox feature view of the API (API.md, Sandbox feature). */
export interface SandboxFeatureView {
  flavor: string;
  /** Undefined in the GA flavour (nothing to register). */
  featureName: string | undefined;
  /** ARM's state; `NotRequired` in GA or when the preview flag has gone (GA). */
  featureState: string;
  providerState: string | undefined;
  ready: boolean;
  checkedAt: string;
  /** What to do next, or why nothing is needed. */
  message?: string;
}

const GONE_MESSAGE = (name: string): string =>
  `The preview feature ${name} no longer exists at Azure (it went GA), so nothing needs registering. Switch the service to SANDBOX_FLAVOR=ga to use the GA names (KataVmIsolation / kata-vm-isolation).`;

/** The feature view from feature and provider states (`Gone` → ready, with a note). */
export function sandboxFeatureView(flavor: SandboxFlavorNames, featureState: string | undefined, providerState: string | undefined, now: number): SandboxFeatureView {
  const checkedAt = new Date(now).toISOString();
  if (!flavor.feature) {
    return { flavor: flavor.flavor, featureName: undefined, featureState: "NotRequired", providerState, ready: true, checkedAt, message: `The ${flavor.flavor} flavour needs no feature registration.` };
  }
  if (featureState === FEATURE_GONE) {
    return { flavor: flavor.flavor, featureName: flavor.feature.name, featureState: "NotRequired", providerState, ready: true, checkedAt, message: GONE_MESSAGE(flavor.feature.name) };
  }
  const state = featureState ?? "NotRegistered";
  const ready = state === "Registered" && providerState === "Registered";
  let message: string | undefined;
  if (state === "Pending") message = pendingMessage(flavor.feature.namespace, flavor.feature.name);
  else if (!ready) message = "Register with PUT …/sandbox-feature (feature, then the provider again).";
  return { flavor: flavor.flavor, featureName: flavor.feature.name, featureState: state, providerState, ready, checkedAt, ...(message ? { message } : {}) };
}

function pendingMessage(namespace: string, name: string): string {
  return `Feature ${namespace}/${name} is Pending: this subscription needs approval before the feature can be registered. Ask the feature's owners (or your Azure account team) to approve it, then PUT …/sandbox-feature again.`;
}

function pendingError(input: SandboxFeatureInput): OperationError {
  return { code: "FeatureNotRegistered", message: pendingMessage(input.namespace, input.featureName), details: [{ code: "Pending", message: "Feature registration needs approval." }] };
}

const inputOf = (context: StepContext): SandboxFeatureInput => context.input as unknown as SandboxFeatureInput;

/** Dependencies of {@link registerSandboxFeatureKind}. */
export interface SandboxFeatureKindDependencies {
  readonly arm: SandboxArm;
  readonly flavor: SandboxFlavorNames;
}

/**
 * `RegisterSandboxFeature`: the `az feature register` → wait for
 * `Registered` → `az provider register` → wait for `Registered` sequence,
 * one operation with four named steps. Registration has no upper bound in
 * time: the waits back off from 10 s to 5 min and say how long they have
 * been waiting. `Pending` (approval needed) ends the operation `Failed`
 * (`FeatureNotRegistered`). A feature that no longer exists (404, gone GA)
 * is treated as "not needed": the remaining steps pass without ARM writes.
 * Every step is idempotent (register calls are idempotent at ARM).
 * Deadline 24 h. The result is the feature view.
 */
export function registerSandboxFeatureKind(deps: SandboxFeatureKindDependencies): OperationKindDefinition {
  const registerFeature: StepDefinition = {
    name: "RegisterFeature",
    started: () => false,
    async advance(context) {
      const i = inputOf(context);
      context.countArmCall();
      const state = await deps.arm.registerFeature(i.subscriptionId, i.namespace, i.featureName, context.call);
      if (state === "Pending") return { type: "fail", error: pendingError(i) };
      return { type: "done", data: { featureState: state, ...(state === FEATURE_GONE ? { featureGone: true } : {}) } };
    },
  };
  const waitForFeature = waitForStep({
    name: "WaitForFeature",
    intervalSeconds: 10,
    maxIntervalSeconds: 300,
    async check(context) {
      const i = inputOf(context);
      if (context.data.featureGone === true) return { done: true };
      context.countArmCall();
      const state = await deps.arm.getFeatureState(i.subscriptionId, i.namespace, i.featureName, context.call);
      if (state === FEATURE_GONE) return { done: true, data: { featureGone: true, featureState: state } };
      if (state === "Registered") return { done: true, data: { featureState: state } };
      if (state === "Pending") return { done: false, fail: pendingError(i) };
      const since = (context.state as { since?: number }).since ?? context.now;
      return { done: false, message: `Feature ${i.namespace}/${i.featureName} is ${state}; waiting since ${new Date(since).toISOString()} (registration can take minutes, sometimes hours).` };
    },
  });
  const registerProvider: StepDefinition = {
    name: "RegisterProvider",
    started: () => false,
    async advance(context) {
      const i = inputOf(context);
      if (context.data.featureGone === true) return { type: "done", data: { providerState: "Registered" } };
      // Always registered again: the feature takes effect only through a provider registration after it (az CLI's note).
      context.countArmCall();
      const state = await deps.arm.registerProvider(i.subscriptionId, i.namespace, context.call);
      return { type: "done", data: { providerState: state } };
    },
  };
  const waitForProvider = waitForStep({
    name: "WaitForProvider",
    intervalSeconds: 10,
    maxIntervalSeconds: 120,
    async check(context) {
      const i = inputOf(context);
      if (context.data.featureGone === true) return { done: true };
      context.countArmCall();
      const state = await deps.arm.getProviderState(i.subscriptionId, i.namespace, context.call);
      if (state === "Registered") return { done: true, data: { providerState: state } };
      const since = (context.state as { since?: number }).since ?? context.now;
      return { done: false, message: `Provider ${i.namespace} is ${state}; waiting since ${new Date(since).toISOString()}.` };
    },
  });
  return {
    kind: "RegisterSandboxFeature",
    steps: [registerFeature, waitForFeature, registerProvider, waitForProvider],
    deadlineSeconds: 24 * 3600,
    result: (data) =>
      sandboxFeatureView(
        deps.flavor,
        data.featureGone === true ? FEATURE_GONE : typeof data.featureState === "string" ? data.featureState : undefined,
        typeof data.providerState === "string" ? data.providerState : undefined,
        Date.now(),
      ),
  };
}
