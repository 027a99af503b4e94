import { ArmError } from "./armError.js";
import { supportedApiVersions } from "./armEmulatorSettings.js";
import type { FeatureRecord, JsonObject } from "./armEmulatorState.js";
import type { ArmContext, ArmRequest, ArmResponse, ArmRoute } from "./armRoute.js";

const FEATURES = supportedApiVersions.features;
const PROVIDER_FEATURES =
  "/subscriptions/{subscriptionId}/providers/Microsoft.Features/providers/{resourceProviderNamespace}/features";
const REGISTRATIONS =
  "/subscriptions/{subscriptionId}/providers/Microsoft.Features/featureProviders/{providerNamespace}/subscriptionFeatureRegistrations";

function renderFeature(f: FeatureRecord): JsonObject {
  return {
    name: `${f.namespace}/${f.name}`,
    properties: { state: f.state },
    id: `/subscriptions/${f.subscriptionId}/providers/Microsoft.Features/providers/${f.namespace}/features/${f.name}`,
    type: "Microsoft.Features/providers/features",
  };
}

function renderRegistration(f: FeatureRecord, approval: boolean): JsonObject {
  const props: JsonObject = {
    subscriptionId: f.subscriptionId,
    featureName: f.name,
    providerNamespace: f.namespace,
    state: f.state,
    authorizationProfile: {},
    releaseDate: "2026-01-15T00:00:00Z",
    approvalType: approval ? "ApprovalRequired" : "AutoApproval",
  };
  if (f.registrationDate) props.registrationDate = f.registrationDate;
  return {
    name: f.name,
    id: `/subscriptions/${f.subscriptionId}/providers/Microsoft.Features/featureProviders/${f.namespace}/subscriptionFeatureRegistrations/${f.name}`,
    type: "Microsoft.Features/featureProviders/subscriptionFeatureRegistrations",
    properties: props,
  };
}

/**
 * Microsoft.Features: Features_Get/Register/Unregister/List/ListAll (the
 * `register` answer is synchronous, 200, as the swagger says) and the newer
 * subscriptionFeatureRegistrations resource sharing the same state.
 */
export function featuresRoutes(ctx: ArmContext): ArmRoute[] {
  const { state } = ctx;
  const p = (r: ArmRequest): [string, string, string] => [
    r.params.subscriptionId ?? "",
    r.params.resourceProviderNamespace ?? r.params.providerNamespace ?? "",
    r.params.featureName ?? "",
  ];
  const ok = (body: unknown): ArmResponse => ({ status: 200, body });
  const approval = (ns: string, name: string): boolean => state.featureSetting(ns, name)?.approvalRequired ?? false;
  return [
    {
      method: "GET",
      template: "/subscriptions/{subscriptionId}/providers/Microsoft.Features/features",
      apiVersions: FEATURES,
      handler: (r) => ok({ value: state.listFeatures(p(r)[0]).map(renderFeature) }),
    },
    {
      method: "GET",
      template: PROVIDER_FEATURES,
      apiVersions: FEATURES,
      handler: (r) => ok({ value: state.listFeatures(p(r)[0], p(r)[1]).map(renderFeature) }),
    },
    {
      method: "GET",
      template: `${PROVIDER_FEATURES}/{featureName}`,
      apiVersions: FEATURES,
      handler: (r) => ok(renderFeature(state.feature(...p(r)))),
    },
    {
      method: "POST",
      template: `${PROVIDER_FEATURES}/{featureName}/register`,
      apiVersions: FEATURES,
      handler: (r) => ok(renderFeature(state.registerFeature(...p(r)))),
    },
    {
      method: "POST",
      template: `${PROVIDER_FEATURES}/{featureName}/unregister`,
      apiVersions: FEATURES,
      handler: (r) => ok(renderFeature(state.unregisterFeature(...p(r)))),
    },
    {
      method: "GET",
      template: `${REGISTRATIONS}/{featureName}`,
      apiVersions: ["2021-07-01"],
      handler: (r) => {
        const f = state.feature(...p(r));
        if (f.state === "NotRegistered" || f.state === "Unregistered") {
          throw new ArmError(
            404,
            "SubscriptionFeatureRegistrationNotFound",
            `The subscription feature registration '${f.name}' could not be found.`,
          );
        }
        return ok(renderRegistration(f, approval(f.namespace, f.name)));
      },
    },
    {
      method: "PUT",
      template: `${REGISTRATIONS}/{featureName}`,
      apiVersions: ["2021-07-01"],
      handler: (r) => {
        const f = state.registerFeature(...p(r));
        return ok(renderRegistration(f, approval(f.namespace, f.name)));
      },
    },
    {
      method: "DELETE",
      template: `${REGISTRATIONS}/{featureName}`,
      apiVersions: ["2021-07-01"],
      handler: (r) => {
        const f = state.feature(...p(r));
        if (f.state === "NotRegistered" || f.state === "Unregistered") return { status: 204 };
        state.unregisterFeature(...p(r));
        return { status: 200 };
      },
    },
  ];
}
