/**
 * Discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`)
 * for the resources the emulator serves. kubectl builds its REST mapping
 * from these; the emulator answers the classic (unaggregated) form, which
 * kubectl falls back to when the aggregated `apidiscovery.k8s.io/v2` form is
 * not offered.
 */

interface ResourceInfo {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export const CORE_RESOURCES: ResourceInfo[] = [
  {
    name: "events",
    singularName: "event",
    namespaced: true,
    kind: "Event",
    verbs: ["get", "list"],
    shortNames: ["ev"],
  },
  {
    name: "limitranges",
    singularName: "limitrange",
    namespaced: true,
    kind: "LimitRange",
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    shortNames: ["limits"],
  },
  {
    name: "namespaces",
    singularName: "namespace",
    namespaced: false,
    kind: "Namespace",
    verbs: ["create", "get", "list", "patch", "update", "watch"],
    shortNames: ["ns"],
  },
  { name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"], shortNames: ["no"] },
  {
    name: "pods",
    singularName: "pod",
    namespaced: true,
    kind: "Pod",
    verbs: ["create", "delete", "get", "list", "watch"],
    shortNames: ["po"],
    categories: ["all"],
  },
  { name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] },
  {
    name: "resourcequotas",
    singularName: "resourcequota",
    namespaced: true,
    kind: "ResourceQuota",
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    shortNames: ["quota"],
  },
  {
    name: "serviceaccounts",
    singularName: "serviceaccount",
    namespaced: true,
    kind: "ServiceAccount",
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    shortNames: ["sa"],
  },
];

export const GROUPS: Record<string, { version: string; resources: ResourceInfo[] }> = {
  batch: {
    version: "v1",
    resources: [
      {
        name: "jobs",
        singularName: "job",
        namespaced: true,
        kind: "Job",
        verbs: ["create", "delete", "get", "list", "watch"],
        categories: ["all"],
      },
      { name: "jobs/status", singularName: "", namespaced: true, kind: "Job", verbs: ["get"] },
    ],
  },
  "networking.k8s.io": {
    version: "v1",
    resources: [
      {
        name: "networkpolicies",
        singularName: "networkpolicy",
        namespaced: true,
        kind: "NetworkPolicy",
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        shortNames: ["netpol"],
      },
    ],
  },
  "node.k8s.io": {
    version: "v1",
    resources: [
      {
        name: "runtimeclasses",
        singularName: "runtimeclass",
        namespaced: false,
        kind: "RuntimeClass",
        verbs: ["get", "list"],
      },
    ],
  },
};

/** `/api`: the core API versions. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    apiVersion: "v1",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function group(name: string, version: string): Record<string, unknown> {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

/** `/apis`: the named groups. */
export function apiGroupList(): Record<string, unknown> {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: Object.entries(GROUPS).map(([name, g]) => group(name, g.version)),
  };
}

/** `/apis/<group>`: one group, or undefined when unknown. */
export function apiGroup(name: string): Record<string, unknown> | undefined {
  const g = GROUPS[name];
  return g ? { kind: "APIGroup", apiVersion: "v1", ...group(name, g.version) } : undefined;
}

/** `/api/v1` or `/apis/<group>/<version>`: the resources, or undefined when unknown. */
export function apiResourceList(groupName: string, version: string): Record<string, unknown> | undefined {
  if (groupName === "")
    return version === "v1"
      ? { kind: "APIResourceList", apiVersion: "v1", groupVersion: "v1", resources: CORE_RESOURCES }
      : undefined;
  const g = GROUPS[groupName];
  if (!g || g.version !== version) return undefined;
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${groupName}/${version}`, resources: g.resources };
}
