import { ArmError, resourceGroupNotFound } from "./armError.js";
import { supportedApiVersions } from "./armEmulatorSettings.js";
import type { JsonObject, ProviderRecord, ResourceGroupRecord } from "./armEmulatorState.js";
import type { ArmContext, ArmRequest, ArmResponse, ArmRoute } from "./armRoute.js";

const RESOURCES = supportedApiVersions.resources;
const RG = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}";
const RG_NAME = /^[-\w._()]{1,90}$/u;

function isObject(v: unknown): v is JsonObject {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * Microsoft.Resources: Providers_Get/List/Register/Unregister (register is
 * synchronous, 200 with `registrationState: "Registering"`, as the swagger
 * says) and resource groups (get, head, create-or-update, list, delete).
 */
export function resourcesRoutes(ctx: ArmContext): ArmRoute[] {
  const { state } = ctx;

  function renderProvider(p: ProviderRecord): JsonObject {
    const free = ["microsoft.resources", "microsoft.features"].includes(p.namespace.toLowerCase());
    const locations = ctx.settings.locations.map((l) => l);
    const resourceTypes =
      p.namespace.toLowerCase() === "microsoft.containerservice"
        ? [
            {
              resourceType: "managedClusters",
              locations,
              apiVersions: [
                ...supportedApiVersions.containerServicePreview,
                ...supportedApiVersions.containerServiceStable,
              ],
              locationMappings: [],
              capabilities:
                "CrossResourceGroupResourceMove, CrossSubscriptionResourceMove, SystemAssignedResourceIdentity, SupportsTags, SupportsLocation",
            },
            {
              resourceType: "managedClusters/agentPools",
              locations: [],
              apiVersions: [
                ...supportedApiVersions.containerServicePreview,
                ...supportedApiVersions.containerServiceStable,
              ],
              capabilities: "None",
            },
            {
              resourceType: "locations/operations",
              locations,
              apiVersions: [...supportedApiVersions.containerServiceStable],
              capabilities: "None",
            },
            {
              resourceType: "locations/operationresults",
              locations,
              apiVersions: [...supportedApiVersions.containerServiceStable],
              capabilities: "None",
            },
          ]
        : [
            {
              resourceType: "operations",
              locations: [],
              locationMappings: [],
              apiVersions: ["2021-07-01"],
              capabilities: "None",
            },
          ];
    return {
      id: `/subscriptions/${p.subscriptionId}/providers/${p.namespace}`,
      namespace: p.namespace,
      registrationState: free ? "Registered" : p.state,
      registrationPolicy: free ? "RegistrationFree" : "RegistrationRequired",
      resourceTypes,
    };
  }

  function renderGroup(g: ResourceGroupRecord): JsonObject {
    const out: JsonObject = {
      id: `/subscriptions/${g.subscriptionId}/resourceGroups/${g.name}`,
      name: g.name,
      type: "Microsoft.Resources/resourceGroups",
      location: g.location,
      properties: { provisioningState: "Succeeded" },
    };
    if (g.tags) out.tags = g.tags;
    if (g.managedBy) out.managedBy = g.managedBy;
    return out;
  }

  const sub = (r: ArmRequest): string => r.params.subscriptionId ?? "";
  const ns = (r: ArmRequest): string => r.params.resourceProviderNamespace ?? "";
  const rgName = (r: ArmRequest): string => r.params.resourceGroupName ?? "";

  function getGroup(r: ArmRequest): ResourceGroupRecord {
    const g = state.resourceGroup(sub(r), rgName(r));
    if (!g) throw resourceGroupNotFound(rgName(r));
    return g;
  }

  function putGroup(r: ArmRequest): ArmResponse {
    const name = rgName(r);
    if (!RG_NAME.test(name) || name.endsWith(".")) {
      throw new ArmError(
        400,
        "InvalidResourceGroup",
        `The provided resource group name '${name}' has these invalid characters or length: it must be 1-90 characters of letters, digits, '_', '-', '.', '(' or ')' and not end with '.'.`,
        "resourceGroupName",
      );
    }
    const body = isObject(r.body) ? r.body : {};
    const problems = ctx.validator.validateDefinition("resources", "ResourceGroup", body);
    const first = problems[0];
    if (first)
      throw new ArmError(
        400,
        "InvalidRequestContent",
        `The request content was invalid and could not be deserialized: '${first.path}' ${first.message}.`,
        first.path || undefined,
      );
    const tags = isObject(body.tags) ? (body.tags as Record<string, string>) : undefined;
    const { rg, created } = state.putResourceGroup(
      sub(r),
      name,
      String(body.location),
      tags,
      typeof body.managedBy === "string" ? body.managedBy : undefined,
    );
    return { status: created ? 201 : 200, body: renderGroup(rg) };
  }

  function deleteGroup(r: ArmRequest): ArmResponse {
    const g = getGroup(r);
    for (const c of [...state.clusters.values()]) {
      if (
        c.subscriptionId.toLowerCase() === g.subscriptionId.toLowerCase() &&
        c.resourceGroup.toLowerCase() === g.name.toLowerCase()
      ) {
        state.clusters.delete(c.key);
        ctx.cloud.deleteCluster(c.key);
      }
    }
    state.resourceGroups.delete(`${g.subscriptionId}/${g.name}`.toLowerCase());
    return { status: 200 };
  }

  return [
    {
      method: "GET",
      template: "/subscriptions/{subscriptionId}/providers",
      apiVersions: RESOURCES,
      handler: (r) => ({ status: 200, body: { value: state.listProviders(sub(r)).map(renderProvider) } }),
    },
    {
      method: "GET",
      template: "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}",
      apiVersions: RESOURCES,
      handler: (r) => ({ status: 200, body: renderProvider(state.provider(sub(r), ns(r))) }),
    },
    {
      method: "POST",
      template: "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}/register",
      apiVersions: RESOURCES,
      handler: (r) => ({ status: 200, body: renderProvider(state.registerProvider(sub(r), ns(r))) }),
    },
    {
      method: "POST",
      template: "/subscriptions/{subscriptionId}/providers/{resourceProviderNamespace}/unregister",
      apiVersions: RESOURCES,
      handler: (r) => ({ status: 200, body: renderProvider(state.unregisterProvider(sub(r), ns(r))) }),
    },
    {
      method: "GET",
      template: "/subscriptions/{subscriptionId}/resourcegroups",
      apiVersions: RESOURCES,
      handler: (r) => ({
        status: 200,
        body: {
          value: [...state.resourceGroups.values()]
            .filter((g) => g.subscriptionId.toLowerCase() === sub(r).toLowerCase())
            .map(renderGroup),
        },
      }),
    },
    {
      method: "GET",
      template: RG,
      apiVersions: RESOURCES,
      handler: (r) => ({ status: 200, body: renderGroup(getGroup(r)) }),
    },
    {
      method: "HEAD",
      template: RG,
      apiVersions: RESOURCES,
      handler: (r) => ({ status: state.resourceGroup(sub(r), rgName(r)) ? 204 : 404 }),
    },
    { method: "PUT", template: RG, apiVersions: RESOURCES, handler: putGroup },
    { method: "DELETE", template: RG, apiVersions: RESOURCES, handler: deleteGroup },
  ];
}
