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

/** The sandbox feature view of the API (docs/api-conventions.md, Sandbox feature). */
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
export function sandboxFeatureView(
  flavor: SandboxFlavorNames,
  featureState: string | undefined,
  providerState: string | undefined,
  now: number,
): SandboxFeatureView {
  const checkedAt = new Date(now).toISOString();
  if (!flavor.feature) {
    return {
      flavor: flavor.flavor,
      featureName: undefined,
      featureState: "NotRequired",
      providerState,
      ready: true,
      checkedAt,
      message: `The ${flavor.flavor} flavour needs no feature registration.`,
    };
  }
  if (featureState === FEATURE_GONE) {
    return {
      flavor: flavor.flavor,
      featureName: flavor.feature.name,
      featureState: "NotRequired",
      providerState,
      ready: true,
      checkedAt,
      message: GONE_MESSAGE(flavor.feature.name),
    };
  }
  const state = featureState ?? "NotRegistered";
  const ready = state === "Registered" && providerState === "Registered";
  let message: string | undefined;
  if (state === "Pending") message = pendingMessage(flavor.feature.namespace, flavor.feature.name);
  else if (!ready) message = "Register with PUT …/sandbox-feature (feature, then the provider again).";
  return {
    flavor: flavor.flavor,
    featureName: flavor.feature.name,
    featureState: state,
    providerState,
    ready,
    checkedAt,
    ...(message ? { message } : {}),
  };
}

function pendingMessage(namespace: string, name: string): string {
  return `Feature ${namespace}/${name} is Pending: this subscription needs approval before the feature can be registered. Ask the feature's owners (or your Azure account team) to approve it, then PUT …/sandbox-feature again.`;
}

function pendingError(input: SandboxFeatureInput): OperationError {
  return {
    code: "FeatureNotRegistered",
    message: pendingMessage(input.namespace, input.featureName),
    details: [{ code: "Pending", message: "Feature registration needs approval." }],
  };
}

const inputOf = (context: StepContext<SandboxFeatureInput>): Readonly<SandboxFeatureInput> => context.input;

/** States a registration never leaves on its own: waiting for `Registered` there would wait out the deadline. */
const STUCK_STATES = new Set(["NotRegistered", "Unregistered"]);
/** Register calls a wait step re-issues when it finds its target stuck, before it fails. */
export const MAX_REGISTRATION_REISSUES = 3;

/**
 * Whether a running `RegisterSandboxFeature` at step `stepName` can still
 * progress given the live states: false when it waits for a feature or a
 * provider that is `NotRegistered`/`Unregistered` (Azure lost or undid the
 * registration, or simulated Azure restarted without it). A fresh
 * `PUT …/sandbox-feature` then starts over instead of joining it.
 */
export function registrationCanProgress(
  stepName: string | undefined,
  featureState: string | undefined,
  providerState: string | undefined,
): boolean {
  if (stepName === "WaitForFeature") return !STUCK_STATES.has(featureState ?? "NotRegistered");
  if (stepName === "WaitForProvider")
    return !STUCK_STATES.has(providerState ?? "NotRegistered") && !STUCK_STATES.has(featureState ?? "");
  return true;
}

function stuckError(what: string, state: string, calls: number): OperationError {
  return {
    code: "FeatureNotRegistered",
    message: `${what} stayed ${state} after ${calls} register calls: Azure does not keep the registration. Check the subscription's state (az feature show / az provider show), then PUT …/sandbox-feature again.`,
    details: [{ code: state, message: `${what} is ${state}.` }],
  };
}

/**
 * Re-issues an idempotent register call for a target found stuck (see
 * {@link STUCK_STATES}), at most {@link MAX_REGISTRATION_REISSUES} times per
 * wait step; then the step fails with a clear error.
 */
async function reissue(context: StepContext, what: string, state: string, register: () => Promise<string>) {
  const reissued = ((context.state as { reissued?: number }).reissued ?? 0) + 1;
  if (reissued > MAX_REGISTRATION_REISSUES)
    return { done: false, fail: stuckError(what, state, MAX_REGISTRATION_REISSUES) };
  context.countArmCall();
  const after = await register();
  return {
    done: false,
    state: { reissued },
    recheckSoon: true,
    registered: after,
    message: `${what} was ${state} while waiting for Registered (the registration was lost or undone); registered again (${reissued}/${MAX_REGISTRATION_REISSUES}), now ${after}.`,
  };
}

/** Dependencies of {@link registerSandboxFeatureKind}. */
export interface SandboxFeatureKindDependencies {
  readonly arm: SandboxArm;
  readonly flavor: SandboxFlavorNames;
  /** Wall-clock now, epoch ms (default the system clock). */
  readonly now?: () => number;
}

/**
 * `RegisterSandboxFeature`: the `az feature register` → wait for
 * `Registered` → `az provider register` → wait for `Registered` sequence,
 * one operation with four named steps. Registration has no upper bound in
 * time: the waits back off from 10 s to 5 min and say how long they have
 * been waiting. A wait that finds its feature or provider `NotRegistered` /
 * `Unregistered` (a state it never leaves on its own) registers again, at most
 * three times, then fails `FeatureNotRegistered` — it never waits out its deadline. `Pending` (approval needed) ends the operation `Failed`
 * (`FeatureNotRegistered`). A feature that no longer exists (404, gone GA)
 * is treated as "not needed": the remaining steps pass without ARM writes.
 * Every step is idempotent (register calls are idempotent at ARM).
 * Deadline 24 h. The result is the feature view.
 */
export function registerSandboxFeatureKind(
  deps: SandboxFeatureKindDependencies,
): OperationKindDefinition<SandboxFeatureInput> {
  const registerFeature: StepDefinition<SandboxFeatureInput> = {
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
  const waitForFeature = waitForStep<SandboxFeatureInput>({
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
      if (STUCK_STATES.has(state)) {
        const again = await reissue(context, `Feature ${i.namespace}/${i.featureName}`, state, () =>
          deps.arm.registerFeature(i.subscriptionId, i.namespace, i.featureName, context.call),
        );
        if (again.registered === "Pending") return { done: false, fail: pendingError(i) };
        if (again.registered === FEATURE_GONE)
          return { done: true, data: { featureGone: true, featureState: FEATURE_GONE } };
        return again;
      }
      const since = (context.state as { since?: number }).since ?? context.now;
      return {
        done: false,
        message: `Feature ${i.namespace}/${i.featureName} is ${state}; waiting since ${new Date(since).toISOString()} (registration can take minutes, sometimes hours).`,
      };
    },
  });
  const registerProvider: StepDefinition<SandboxFeatureInput> = {
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
  const waitForProvider = waitForStep<SandboxFeatureInput>({
    name: "WaitForProvider",
    intervalSeconds: 10,
    maxIntervalSeconds: 120,
    async check(context) {
      const i = inputOf(context);
      if (context.data.featureGone === true) return { done: true };
      context.countArmCall();
      const state = await deps.arm.getProviderState(i.subscriptionId, i.namespace, context.call);
      if (state === "Registered") return { done: true, data: { providerState: state } };
      if (STUCK_STATES.has(state)) {
        return reissue(context, `Provider ${i.namespace}`, state, () =>
          deps.arm.registerProvider(i.subscriptionId, i.namespace, context.call),
        );
      }
      const since = (context.state as { since?: number }).since ?? context.now;
      return {
        done: false,
        message: `Provider ${i.namespace} is ${state}; waiting since ${new Date(since).toISOString()}.`,
      };
    },
  });
  return {
    kind: "RegisterSandboxFeature",
    steps: [registerFeature, waitForFeature, registerProvider, waitForProvider],
    deadlineSeconds: 24 * 3600,
    result: (data) =>
      sandboxFeatureView(
        deps.flavor,
        data.featureGone === true
          ? FEATURE_GONE
          : typeof data.featureState === "string"
            ? data.featureState
            : undefined,
        typeof data.providerState === "string" ? data.providerState : undefined,
        (deps.now ?? Date.now)(),
      ),
  };
}
