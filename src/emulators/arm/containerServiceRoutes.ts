// The Microsoft.ContainerService routes of the ARM emulator (managed clusters, agent pools, their LROs and
// credentials) as one route table over shared request helpers; rendering is in renderManagedCluster.ts.
import { randomUUID } from "node:crypto";
import { ArmError, invalidParameter, resourceGroupNotFound, resourceNotFound } from "./armError.js";
import { isPreviewApiVersion, supportedApiVersions } from "./armEmulatorSettings.js";
import {
  normalizeLocation,
  type ClusterRecord,
  type JsonObject,
  type LroKind,
  type LroRecord,
  type PoolRecord,
} from "./armEmulatorState.js";
import type { ArmContext, ArmRequest, ArmResponse, ArmRoute } from "./armRoute.js";
import {
  checkClusterName,
  checkNoActiveOperation,
  checkPoolName,
  checkPoolRules,
  resolveKubernetesVersion,
} from "./aksRules.js";
import { buildKubeconfig } from "./kubeconfig.js";
import { isObject, renderAgentPool, renderManagedCluster } from "./renderManagedCluster.js";

const AKS_VERSIONS = [...supportedApiVersions.containerServiceStable, ...supportedApiVersions.containerServicePreview];
const CS = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.ContainerService";
const CLUSTER = `${CS}/managedClusters/{resourceName}`;
const POOL = `${CLUSTER}/agentPools/{agentPoolName}`;
const OPS = "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/locations/{location}";
const CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters";

/** Properties AKS computes; ignored when a client sends them back. */
const POOL_READONLY = ["eTag", "provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "powerState"];
const CLUSTER_READONLY = [
  "provisioningState",
  "powerState",
  "currentKubernetesVersion",
  "fqdn",
  "privateFQDN",
  "azurePortalFQDN",
  "maxAgentPools",
  "resourceUID",
  "identityProfile",
];

function without(obj: JsonObject, keys: string[]): JsonObject {
  const out = { ...obj };
  for (const k of keys) delete out[k];
  return out;
}

/** Drops secrets AKS never echoes (service principal secret, Windows admin password). */
function stripSecrets(props: JsonObject): JsonObject {
  const out = { ...props };
  if (isObject(out.servicePrincipalProfile))
    out.servicePrincipalProfile = without(out.servicePrincipalProfile, ["secret"]);
  if (isObject(out.windowsProfile)) out.windowsProfile = without(out.windowsProfile, ["adminPassword"]);
  return out;
}

/** The Microsoft.ContainerService routes: managedClusters, agentPools, operations, credentials. */
export function containerServiceRoutes(ctx: ArmContext): ArmRoute[] {
  const { state } = ctx;

  const opBase = (sub: string, loc: string): string =>
    `/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/${loc}`;
  const operationPaths = (op: LroRecord): { status: string; result: string } => ({
    status: `${opBase(op.subscriptionId, op.location)}/operations/${op.id}`,
    result: `${opBase(op.subscriptionId, op.location)}/operationresults/${op.id}`,
  });

  function lroHeaders(op: LroRecord, withLocation: boolean): Record<string, string> {
    const paths = operationPaths(op);
    const q = `?api-version=${encodeURIComponent(op.apiVersion)}`;
    const headers: Record<string, string> = { "Azure-AsyncOperation": `${ctx.baseUrl()}${paths.status}${q}` };
    if (withLocation) headers.Location = `${ctx.baseUrl()}${paths.result}${q}`;
    return headers;
  }

  function lroRetry(op: LroRecord, requestPath: string): ArmResponse["retryAfter"] {
    const paths = operationPaths(op);
    return {
      simulatedSeconds: ctx.settings.lroRetryAfterSeconds,
      appliesTo: [requestPath, paths.status, paths.result],
    };
  }

  function requireResourceGroup(req: ArmRequest): void {
    const { subscriptionId = "", resourceGroupName = "" } = req.params;
    if (!state.resourceGroup(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
  }

  function getCluster(req: ArmRequest): ClusterRecord {
    requireResourceGroup(req);
    const { subscriptionId = "", resourceGroupName = "", resourceName = "" } = req.params;
    const c = state.cluster(subscriptionId, resourceGroupName, resourceName);
    if (!c) throw resourceNotFound(CLUSTER_TYPE, resourceName, resourceGroupName);
    return c;
  }

  function getPool(req: ArmRequest): { c: ClusterRecord; p: PoolRecord } {
    const c = getCluster(req);
    const name = req.params.agentPoolName ?? "";
    const p = c.pools.get(name.toLowerCase());
    if (!p) throw resourceNotFound(`${CLUSTER_TYPE}/${c.name}/agentPools`, name, c.resourceGroup);
    return { c, p };
  }

  function validateBody(req: ArmRequest, definition: "ManagedCluster" | "AgentPool"): JsonObject {
    if (!isObject(req.body)) {
      throw new ArmError(
        400,
        "InvalidRequestContent",
        "The request content was invalid and could not be deserialized: the body must be a JSON object.",
      );
    }
    const doc = isPreviewApiVersion(req.apiVersion) ? "aks-preview" : "aks-stable";
    const problems = ctx.validator.validateDefinition(doc, definition, req.body);
    const first = problems[0];
    if (first) {
      throw new ArmError(
        400,
        "InvalidRequestContent",
        `The request content was invalid and could not be deserialized: '${first.path}' ${first.message}.`,
        first.path || undefined,
      );
    }
    return req.body;
  }

  function page<T>(req: ArmRequest, items: T[]): { value: T[]; nextLink?: string } {
    const skip = Math.max(0, Number(req.query.get("$skiptoken") ?? "0") || 0);
    const size = Math.max(1, ctx.settings.pageSize);
    const value = items.slice(skip, skip + size);
    if (skip + size >= items.length) return { value };
    const next = new URL(`${ctx.baseUrl()}${req.path}`);
    next.searchParams.set("api-version", req.apiVersion);
    next.searchParams.set("$skiptoken", String(skip + size));
    return { value, nextLink: next.toString() };
  }

  function lroFault(req: ArmRequest): { code: string; message: string } | undefined {
    const rule = ctx.faults.match(req.method, req.path, "lro");
    return rule && "failLro" in rule.action ? rule.action.failLro : undefined;
  }

  /** A pool record from request properties (rules already checked). */
  function poolFromRequest(name: string, props: JsonObject, version: string, existing?: PoolRecord): PoolRecord {
    const requested = without(stripSecrets(props), [...POOL_READONLY, "name"]);
    return {
      name,
      requested,
      provisioningState: existing ? "Updating" : "Creating",
      orchestratorVersion: version,
      eTag: existing?.eTag ?? randomUUID().slice(0, 12),
      everSucceeded: existing?.everSucceeded ?? false,
    };
  }

  // ------------------------------------------------------------ handlers

  function putCluster(req: ArmRequest): ArmResponse {
    const { subscriptionId = "", resourceGroupName = "", resourceName = "" } = req.params;
    checkClusterName(resourceName);
    requireResourceGroup(req);
    // Pool names first: the swagger pattern would also catch them, but AKS names the rule.
    const rawProfiles =
      isObject(req.body) && isObject(req.body.properties) ? req.body.properties.agentPoolProfiles : undefined;
    if (Array.isArray(rawProfiles)) {
      rawProfiles.forEach((p: unknown, i) => {
        if (isObject(p) && typeof p.name === "string") checkPoolName(p.name, `properties.agentPoolProfiles[${i}].name`);
      });
    }
    const body = validateBody(req, "ManagedCluster");
    const props = isObject(body.properties) ? body.properties : {};
    const existing = state.cluster(subscriptionId, resourceGroupName, resourceName);
    if (existing) checkNoActiveOperation(existing);
    if (existing && normalizeLocation(String(body.location)) !== existing.location) {
      throw invalidParameter(
        "location",
        `The location of an existing managed cluster cannot be changed (from '${existing.location}' to '${String(body.location)}').`,
      );
    }
    const version = resolveKubernetesVersion(
      props.kubernetesVersion,
      ctx.settings,
      "properties.kubernetesVersion",
      existing?.kubernetesVersion,
    );
    const profiles = Array.isArray(props.agentPoolProfiles) ? (props.agentPoolProfiles as unknown[]) : [];
    if (!existing && profiles.length === 0) {
      throw invalidParameter(
        "properties.agentPoolProfiles",
        "A managed cluster needs at least one agent pool in properties.agentPoolProfiles, with mode 'System'.",
      );
    }
    const pools: PoolRecord[] = [];
    profiles.forEach((raw, i) => {
      const prefix = `properties.agentPoolProfiles[${i}]`;
      const profile = isObject(raw) ? raw : {};
      const name = typeof profile.name === "string" ? profile.name : "";
      checkPoolName(name, `${prefix}.name`);
      const prev = existing?.pools.get(name);
      const poolVersion = resolveKubernetesVersion(
        profile.orchestratorVersion,
        ctx.settings,
        `${prefix}.orchestratorVersion`,
        prev?.orchestratorVersion ?? version,
      );
      checkPoolRules(state, subscriptionId, req.apiVersion, {
        properties: profile,
        kubernetesVersion: poolVersion,
        targetPrefix: prefix,
      });
      pools.push(poolFromRequest(name, { mode: i === 0 ? "System" : "User", ...profile }, poolVersion, prev));
    });
    if (!existing && !pools.some((p) => p.requested.mode === "System")) {
      throw invalidParameter(
        "properties.agentPoolProfiles",
        "A managed cluster needs at least one agent pool with mode 'System'.",
      );
    }

    const c = existing ?? state.newCluster(subscriptionId, resourceGroupName, resourceName, String(body.location));
    c.requested = {
      ...without(body, ["id", "name", "type", "eTag", "systemData"]),
      properties: without(stripSecrets(without(props, CLUSTER_READONLY)), ["agentPoolProfiles"]),
    };
    c.kubernetesVersion = version;
    c.provisioningState = existing ? "Updating" : "Creating";
    for (const p of pools) c.pools.set(p.name, p);
    const kind: LroKind = existing ? "clusterUpdate" : "clusterCreate";
    const op = state.startOperation(
      c,
      kind,
      existing ? ctx.settings.clusterUpdateSeconds : ctx.settings.clusterCreateSeconds,
      req.apiVersion,
      undefined,
      lroFault(req),
    );
    state.syncCloud(c);
    return {
      status: existing ? 200 : 201,
      body: renderManagedCluster(state, c),
      headers: lroHeaders(op, false),
      retryAfter: lroRetry(op, req.path),
    };
  }

  function deleteCluster(req: ArmRequest): ArmResponse {
    requireResourceGroup(req);
    const { subscriptionId = "", resourceGroupName = "", resourceName = "" } = req.params;
    const c = state.cluster(subscriptionId, resourceGroupName, resourceName);
    if (!c) return { status: 204 };
    checkNoActiveOperation(c);
    c.provisioningState = "Deleting";
    for (const p of c.pools.values()) p.provisioningState = "Deleting";
    const op = state.startOperation(
      c,
      "clusterDelete",
      ctx.settings.clusterDeleteSeconds,
      req.apiVersion,
      undefined,
      lroFault(req),
    );
    state.syncCloud(c);
    return { status: 202, headers: lroHeaders(op, true), retryAfter: lroRetry(op, req.path) };
  }

  function putPool(req: ArmRequest): ArmResponse {
    const { subscriptionId = "", agentPoolName = "" } = req.params;
    checkPoolName(agentPoolName, "agentPoolName");
    const c = getCluster(req);
    const body = validateBody(req, "AgentPool");
    const props = isObject(body.properties) ? body.properties : {};
    checkNoActiveOperation(c);
    if (c.provisioningState === "Deleting")
      throw new ArmError(409, "OperationNotAllowed", "Operation is not allowed: the managed cluster is being deleted.");
    const name = agentPoolName;
    const existing = c.pools.get(name);
    const version = resolveKubernetesVersion(
      props.orchestratorVersion,
      ctx.settings,
      "properties.orchestratorVersion",
      existing?.orchestratorVersion ?? c.kubernetesVersion,
    );
    checkPoolRules(state, subscriptionId, req.apiVersion, {
      properties: props,
      kubernetesVersion: version,
      targetPrefix: "properties",
    });
    const p = poolFromRequest(name, { mode: existing?.requested.mode ?? "User", ...props }, version, existing);
    c.pools.set(name, p);
    const op = state.startOperation(
      c,
      existing ? "poolUpdate" : "poolCreate",
      existing ? ctx.settings.poolUpdateSeconds : ctx.settings.poolCreateSeconds,
      req.apiVersion,
      name,
      lroFault(req),
    );
    state.syncCloud(c, [p]);
    return {
      status: existing ? 200 : 201,
      body: renderAgentPool(state, c, p),
      headers: lroHeaders(op, false),
      retryAfter: lroRetry(op, req.path),
    };
  }

  function deletePool(req: ArmRequest): ArmResponse {
    const c = getCluster(req);
    const name = req.params.agentPoolName ?? "";
    const p = c.pools.get(name.toLowerCase());
    if (!p) return { status: 204 };
    checkNoActiveOperation(c);
    if (p.requested.mode === "System" && ![...c.pools.values()].some((o) => o !== p && o.requested.mode === "System")) {
      throw new ArmError(
        400,
        "OperationNotAllowed",
        `Operation is not allowed: agent pool '${p.name}' is the last System pool of the cluster; a cluster must have at least one System agent pool.`,
        "agentPoolName",
      );
    }
    p.provisioningState = "Deleting";
    const op = state.startOperation(
      c,
      "poolDelete",
      ctx.settings.poolDeleteSeconds,
      req.apiVersion,
      p.name,
      lroFault(req),
    );
    state.syncCloud(c, [p]);
    return { status: 202, headers: lroHeaders(op, true), retryAfter: lroRetry(op, req.path) };
  }

  function abort(req: ArmRequest, pool: boolean): ArmResponse {
    const c = pool ? getPool(req).c : getCluster(req);
    state.abort(c, pool ? (req.params.agentPoolName ?? "").toLowerCase() : undefined);
    return { status: 204 };
  }

  function findOperation(req: ArmRequest): LroRecord {
    const { subscriptionId = "", location = "", operationId = "" } = req.params;
    const op = state.operations.get(operationId.toLowerCase()) ?? state.operations.get(operationId);
    if (
      !op ||
      op.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase() ||
      op.location !== normalizeLocation(location)
    ) {
      throw new ArmError(
        404,
        "NotFound",
        `The operation '${operationId}' could not be found in location '${location}'.`,
      );
    }
    return op;
  }

  function operationStatus(req: ArmRequest): ArmResponse {
    const op = findOperation(req);
    const body: JsonObject = {
      id: operationPaths(op).status,
      name: op.id,
      status: op.status,
      percentComplete: state.percentComplete(op),
      startTime: new Date(op.startSimMs).toISOString(),
    };
    if (op.endSimMs !== undefined) body.endTime = new Date(op.endSimMs).toISOString();
    if (op.error) body.error = op.error;
    const res: ArmResponse = { status: 200, body };
    if (op.status === "InProgress") res.retryAfter = lroRetry(op, req.path);
    return res;
  }

  function operationResult(req: ArmRequest): ArmResponse {
    const op = findOperation(req);
    if (op.status === "InProgress") {
      return {
        status: 202,
        headers: {
          Location: `${ctx.baseUrl()}${operationPaths(op).result}?api-version=${encodeURIComponent(req.apiVersion)}`,
        },
        retryAfter: lroRetry(op, req.path),
      };
    }
    if (op.status !== "Succeeded") {
      return {
        status: 400,
        body: { error: op.error ?? { code: op.status, message: `The operation ended ${op.status}.` } },
      };
    }
    if (op.kind === "clusterDelete" || op.kind === "poolDelete" || op.kind === "background") return { status: 204 };
    const c = state.clusters.get(op.clusterKey);
    if (!c) return { status: 204 };
    if (op.poolName !== undefined) {
      const p = c.pools.get(op.poolName);
      return p ? { status: 200, body: renderAgentPool(state, c, p) } : { status: 204 };
    }
    return { status: 200, body: renderManagedCluster(state, c) };
  }

  function credentials(req: ArmRequest, kind: "clusterUser" | "clusterAdmin"): ArmResponse {
    const c = getCluster(req);
    if (c.provisioningState === "Deleting")
      throw new ArmError(409, "OperationNotAllowed", "Operation is not allowed: the managed cluster is being deleted.");
    const cloudCluster = ctx.cloud.getCluster(c.key);
    if (!cloudCluster) throw resourceNotFound(CLUSTER_TYPE, c.name, c.resourceGroup);
    const props = isObject(c.requested.properties) ? c.requested.properties : {};
    const aad = isObject(props.aadProfile) && props.aadProfile.managed === true;
    const format =
      req.query.get("format")?.toLowerCase() === "exec" && aad && kind === "clusterUser" ? "exec" : "token";
    const kubeconfig = buildKubeconfig({
      clusterName: c.name,
      userName: `${kind}_${c.resourceGroup}_${c.name}`,
      server: `${ctx.cloud.kubernetesBaseUrl ?? ctx.baseUrl()}/clusters/${c.key}`,
      caCertPem: ctx.cloud.caCertPem ?? "",
      token: cloudCluster.bearerToken,
      format,
    });
    return {
      status: 200,
      body: { kubeconfigs: [{ name: kind, value: Buffer.from(kubeconfig, "utf8").toString("base64") }] },
    };
  }

  function listClustersIn(req: ArmRequest, byGroup: boolean): ArmResponse {
    const { subscriptionId = "", resourceGroupName = "" } = req.params;
    if (byGroup) requireResourceGroup(req);
    const items = [...state.clusters.values()]
      .filter(
        (c) =>
          c.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
          (!byGroup || c.resourceGroup.toLowerCase() === resourceGroupName.toLowerCase()),
      )
      .map((c) => renderManagedCluster(state, c));
    return { status: 200, body: page(req, items) };
  }

  return [
    {
      method: "GET",
      template: "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerService/managedClusters",
      apiVersions: AKS_VERSIONS,
      handler: (r) => listClustersIn(r, false),
    },
    {
      method: "GET",
      template: `${CS}/managedClusters`,
      apiVersions: AKS_VERSIONS,
      handler: (r) => listClustersIn(r, true),
    },
    {
      method: "GET",
      template: CLUSTER,
      apiVersions: AKS_VERSIONS,
      handler: (r) => ({ status: 200, body: renderManagedCluster(state, getCluster(r)) }),
    },
    { method: "PUT", template: CLUSTER, apiVersions: AKS_VERSIONS, handler: putCluster },
    {
      method: "PATCH",
      template: CLUSTER,
      apiVersions: AKS_VERSIONS,
      handler: (r) => {
        const c = getCluster(r);
        if (isObject(r.body) && isObject(r.body.tags)) c.requested.tags = r.body.tags;
        return { status: 200, body: renderManagedCluster(state, c) };
      },
    },
    { method: "DELETE", template: CLUSTER, apiVersions: AKS_VERSIONS, handler: deleteCluster },
    { method: "POST", template: `${CLUSTER}/abort`, apiVersions: AKS_VERSIONS, handler: (r) => abort(r, false) },
    {
      method: "POST",
      template: `${CLUSTER}/listClusterUserCredential`,
      apiVersions: AKS_VERSIONS,
      handler: (r) => credentials(r, "clusterUser"),
    },
    {
      method: "POST",
      template: `${CLUSTER}/listClusterAdminCredential`,
      apiVersions: AKS_VERSIONS,
      handler: (r) => credentials(r, "clusterAdmin"),
    },
    {
      method: "GET",
      template: `${CLUSTER}/agentPools`,
      apiVersions: AKS_VERSIONS,
      handler: (r) => {
        const c = getCluster(r);
        return {
          status: 200,
          body: page(
            r,
            [...c.pools.values()].map((p) => renderAgentPool(state, c, p)),
          ),
        };
      },
    },
    {
      method: "GET",
      template: POOL,
      apiVersions: AKS_VERSIONS,
      handler: (r) => {
        const { c, p } = getPool(r);
        return { status: 200, body: renderAgentPool(state, c, p) };
      },
    },
    { method: "PUT", template: POOL, apiVersions: AKS_VERSIONS, handler: putPool },
    { method: "DELETE", template: POOL, apiVersions: AKS_VERSIONS, handler: deletePool },
    { method: "POST", template: `${POOL}/abort`, apiVersions: AKS_VERSIONS, handler: (r) => abort(r, true) },
    { method: "GET", template: `${OPS}/operations/{operationId}`, apiVersions: AKS_VERSIONS, handler: operationStatus },
    {
      method: "GET",
      template: `${OPS}/operationresults/{operationId}`,
      apiVersions: AKS_VERSIONS,
      handler: operationResult,
    },
  ];
}
