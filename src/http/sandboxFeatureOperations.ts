import { services } from "../composition.js";
import { sandboxFeatureView, type SandboxFeatureInput } from "../domain/operations/kinds/sandboxFeatureKind.js";
import { authorizeSubscriptionAccess } from "../domain/policy/authorization.js";
import { FEATURE_GONE } from "../domain/sandbox/sandboxArm.js";
import { sandboxFlavor } from "../domain/sandbox/sandboxFlavor.js";
import type { OperationHandler } from "./httpOperation.js";
import { acceptedOperation } from "./operationOperations.js";

/** API path of a subscription's sandbox feature (the operation's `target`). */
export function sandboxFeatureTarget(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/sandbox-feature`;
}

/** Registration operations of one subscription queue on this key (never two registrations at once). */
function featureSerialKey(subscriptionId: string): string {
  return `sandbox-feature:${subscriptionId.toLowerCase()}`;
}

/**
 * `getSandboxFeature`: the feature's and the provider's registration state
 * (ARM reads only). GA flavour: `ready: true` without asking ARM. A preview
 * feature that ARM no longer knows (gone GA) is shown `NotRequired`, ready.
 */
export const getSandboxFeature: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const subscriptionId = params.subscriptionId ?? "";
  authorizeSubscriptionAccess(principal, s.policy, subscriptionId, "read");
  const flavor = sandboxFlavor(s.configuration.flavor);
  if (!flavor.feature) return { status: 200, body: sandboxFeatureView(flavor, undefined, undefined, Date.now()) };
  const call = { correlationId: requestId };
  const featureState = await s.sandboxArm.getFeatureState(subscriptionId, flavor.feature.namespace, flavor.feature.name, call);
  const providerState = await s.sandboxArm.getProviderState(subscriptionId, flavor.feature.namespace, call);
  return { status: 200, body: sandboxFeatureView(flavor, featureState, providerState, Date.now()) };
};

/**
 * `registerSandboxFeature`: 200 with the state when nothing is to be done
 * (GA flavour; feature and provider Registered; feature gone GA) — no ARM
 * write. Otherwise 202 `RegisterSandboxFeature` (RegisterFeature,
 * WaitForFeature, RegisterProvider, WaitForProvider). A registration already
 * running for the subscription is returned (202) instead of a second one.
 * Idempotent.
 */
export const registerSandboxFeature: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const subscriptionId = params.subscriptionId ?? "";
  authorizeSubscriptionAccess(principal, s.policy, subscriptionId, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const feature = flavor.feature;
  if (!feature) return { status: 200, body: sandboxFeatureView(flavor, undefined, undefined, Date.now()) };
  const call = { correlationId: requestId };
  const featureState = await s.sandboxArm.getFeatureState(subscriptionId, feature.namespace, feature.name, call);
  const providerState = featureState === FEATURE_GONE ? undefined : await s.sandboxArm.getProviderState(subscriptionId, feature.namespace, call);
  const view = sandboxFeatureView(flavor, featureState, providerState, Date.now());
  if (view.ready) return { status: 200, body: view };

  const running = await s.activeOperations.activeOn(featureSerialKey(subscriptionId));
  if (running) {
    const op = await s.operations.get(running.id);
    if (op && op.kind === "RegisterSandboxFeature" && (principal.roles.includes("Sandbox.Admin") || op.team === principal.team)) return acceptedOperation(op);
  }
  const input: SandboxFeatureInput = { subscriptionId, namespace: feature.namespace, featureName: feature.name };
  const op = await s.operations.submit({
    kind: "RegisterSandboxFeature",
    target: sandboxFeatureTarget(subscriptionId),
    subscriptionId,
    serialKey: featureSerialKey(subscriptionId),
    input: input as unknown as Record<string, unknown>,
    createdBy: principal.id,
    team: principal.team,
    correlationId: requestId,
  });
  return acceptedOperation(op);
};
