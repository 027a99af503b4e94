import {
  registrationCanProgress,
  sandboxFeatureView,
  type SandboxFeatureInput,
  type SandboxFeatureView,
} from "../operations/kinds/sandboxFeatureKind.js";
import type { Caller, OperationSubmitter, UseCaseOutcome } from "../operations/operationSubmission.js";
import { authorizeSubscriptionAccess } from "../policy/authorization.js";
import type { SandboxPolicy } from "../policy/policy.js";
import { FEATURE_GONE, type SandboxArm } from "./sandboxArm.js";
import type { SandboxFlavorNames } from "./sandboxFlavor.js";
import type { ActiveOperationLookup } from "./sandboxPreflight.js";

export interface SandboxFeatureServiceDependencies {
  readonly policy: SandboxPolicy;
  readonly arm: Pick<SandboxArm, "getFeatureState" | "getProviderState">;
  readonly flavor: SandboxFlavorNames;
  readonly activeOperations: ActiveOperationLookup;
  /** Submits, reads and (a registration that cannot progress) cancels operations. */
  readonly operations: OperationSubmitter & { cancel(id: string): Promise<unknown> };
  /** Wall-clock now, epoch ms. */
  readonly now: () => number;
}

/** API path of a subscription's sandbox feature (the operation's `target`). */
export function sandboxFeatureTarget(subscriptionId: string): string {
  return `/subscriptions/${subscriptionId}/sandbox-feature`;
}

/** Registration operations of one subscription queue on this key (never two registrations at once). */
function featureSerialKey(subscriptionId: string): string {
  return `sandbox-feature:${subscriptionId.toLowerCase()}`;
}

/** The sandbox feature use cases of a subscription: its registration state, and registering it. */
export class SandboxFeatureService {
  readonly #deps: SandboxFeatureServiceDependencies;

  constructor(deps: SandboxFeatureServiceDependencies) {
    this.#deps = deps;
  }

  /**
   * `getSandboxFeature`: the feature's and the provider's registration state
   * (ARM reads only). GA flavour: `ready: true` without asking ARM. A preview
   * feature that ARM no longer knows (gone GA) is shown `NotRequired`, ready.
   */
  async get(subscriptionId: string, caller: Caller): Promise<SandboxFeatureView> {
    const { policy, flavor, arm, now } = this.#deps;
    authorizeSubscriptionAccess(caller.principal, policy, subscriptionId, "read");
    if (!flavor.feature) return sandboxFeatureView(flavor, undefined, undefined, now());
    const call = { correlationId: caller.requestId };
    const featureState = await arm.getFeatureState(subscriptionId, flavor.feature.namespace, flavor.feature.name, call);
    const providerState = await arm.getProviderState(subscriptionId, flavor.feature.namespace, call);
    return sandboxFeatureView(flavor, featureState, providerState, now());
  }

  /**
   * `registerSandboxFeature`: the state when nothing is to be done (GA
   * flavour; feature and provider Registered; feature gone GA) — no ARM
   * write. Otherwise `RegisterSandboxFeature` (RegisterFeature,
   * WaitForFeature, RegisterProvider, WaitForProvider). A registration
   * already running for the subscription is returned instead of a second
   * one — unless it waits for a feature or provider that is `NotRegistered`
   * (it could not progress): that one is canceled and a fresh registration
   * starts. Idempotent.
   */
  async register(subscriptionId: string, caller: Caller): Promise<UseCaseOutcome<SandboxFeatureView>> {
    const { policy, flavor, arm, now, operations } = this.#deps;
    const { principal } = caller;
    authorizeSubscriptionAccess(principal, policy, subscriptionId, "change");
    const feature = flavor.feature;
    if (!feature) return { type: "done", body: sandboxFeatureView(flavor, undefined, undefined, now()) };
    const call = { correlationId: caller.requestId };
    const featureState = await arm.getFeatureState(subscriptionId, feature.namespace, feature.name, call);
    const providerState =
      featureState === FEATURE_GONE ? undefined : await arm.getProviderState(subscriptionId, feature.namespace, call);
    const view = sandboxFeatureView(flavor, featureState, providerState, now());
    if (view.ready) return { type: "done", body: view };

    const running = await this.#deps.activeOperations.activeOn(featureSerialKey(subscriptionId));
    if (running) {
      const op = await operations.get(running.id);
      if (
        op &&
        op.kind === "RegisterSandboxFeature" &&
        (principal.roles.includes("Sandbox.Admin") || op.team === principal.team)
      ) {
        // Join a registration that is getting somewhere; one that waits for a state Azure will not reach
        // on its own (the registration was lost) is canceled and started over.
        if (registrationCanProgress(op.steps[op.stepIndex]?.name, featureState, providerState))
          return { type: "accepted", operation: op };
        await operations.cancel(op.id).catch(() => undefined);
      }
    }
    const input: SandboxFeatureInput = { subscriptionId, namespace: feature.namespace, featureName: feature.name };
    const operation = await operations.submit({
      kind: "RegisterSandboxFeature",
      target: sandboxFeatureTarget(subscriptionId),
      subscriptionId,
      serialKey: featureSerialKey(subscriptionId),
      input,
      createdBy: principal.id,
      team: principal.team,
      correlationId: caller.requestId,
    });
    return { type: "accepted", operation };
  }
}
