/**
 * The managed cluster as ARM's JSON document (wire shape: `properties`
 * nested, dates as strings, preview-only fields kept), for the `az aks
 * update` re-PUT. The SDK's model is not used for it: its serializer knows
 * only the fields of the SDK's own api-version, drops the rest, and throws on
 * dates it did not deserialize itself.
 */

/**
 * Read-only properties of a managed cluster: every `readOnly` path of the
 * `ManagedCluster` definition (and its base `TrackedResource`) in
 * reference/arm/containerservice/2026-10-01/managedClusters.json, `[]` =
 * every array item. A contract test keeps it in step with the swagger.
 */
export const MANAGED_CLUSTER_READ_ONLY_PATHS: readonly string[] = Object.freeze([
  "id",
  "name",
  "type",
  "systemData",
  "eTag",
  "identity.principalId",
  "identity.tenantId",
  "properties.provisioningState",
  "properties.powerState",
  "properties.maxAgentPools",
  "properties.currentKubernetesVersion",
  "properties.fqdn",
  "properties.privateFQDN",
  "properties.azurePortalFQDN",
  "properties.resourceUID",
  "properties.agentPoolProfiles[].eTag",
  "properties.agentPoolProfiles[].currentOrchestratorVersion",
  "properties.agentPoolProfiles[].provisioningState",
  "properties.agentPoolProfiles[].status.provisioningError",
  "properties.agentPoolProfiles[].localDNSProfile.state",
  "properties.podIdentityProfile.userAssignedIdentities[].provisioningState",
  "properties.podIdentityProfile.userAssignedIdentities[].provisioningInfo",
  "properties.oidcIssuerProfile.issuerURL",
  "properties.networkProfile.loadBalancerProfile.effectiveOutboundIPs",
  "properties.networkProfile.natGatewayProfile.effectiveOutboundIPs",
  "properties.privateLinkResources[].privateLinkServiceID",
  "properties.ingressProfile.webAppRouting.identity",
  "properties.status.provisioningError",
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function removePath(target: unknown, segments: readonly string[]): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (head.endsWith("[]")) {
    const list = isObject(target) ? target[head.slice(0, -2)] : undefined;
    if (Array.isArray(list)) for (const item of list) removePath(item, rest);
    return;
  }
  if (!isObject(target)) return;
  if (rest.length === 0) delete target[head];
  else removePath(target[head], rest);
}

/** A deep copy of `document` without its read-only properties; everything else exactly as given. */
export function withoutReadOnly(document: Json, paths: readonly string[] = MANAGED_CLUSTER_READ_ONLY_PATHS): Json {
  const copy = structuredClone(document);
  for (const path of paths)
    removePath(
      copy,
      path
        .replace(/\[\]\./g, "[]/")
        .replace(/\./g, "/")
        .split("/"),
    );
  return copy;
}

/**
 * The re-PUT body: `document` (a GET of the cluster) minus read-only
 * properties, plus `addAgentPool` appended to `properties.agentPoolProfiles`
 * unless a pool of that name is there already. Nothing else changes: no
 * field is dropped, renamed, re-typed or scrubbed (secrets ARM returns are
 * sent back to ARM, never stored or logged).
 */
export function managedClusterUpdateBody(document: Json, addAgentPool?: Readonly<Json>): Json {
  const body = withoutReadOnly(document);
  if (addAgentPool) {
    const properties = isObject(body.properties) ? body.properties : (body.properties = {});
    const profiles = Array.isArray(properties.agentPoolProfiles) ? (properties.agentPoolProfiles as unknown[]) : [];
    const nameOf = (p: unknown): string => (isObject(p) && typeof p.name === "string" ? p.name.toLowerCase() : "");
    const name = nameOf(addAgentPool);
    if (!profiles.some((p) => nameOf(p) === name)) profiles.push(structuredClone(addAgentPool));
    properties.agentPoolProfiles = profiles;
  }
  return body;
}
