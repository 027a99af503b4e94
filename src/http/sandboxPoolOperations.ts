import { services } from "../composition.js";
import type { AgentPoolRef, AgentPoolSpec } from "../domain/operations/armOperations.js";
import { poolMatches, sandboxPoolView, type SandboxPoolBody } from "../domain/operations/kinds/sandboxPoolKinds.js";
import { authorizeClusterAccess } from "../domain/policy/authorization.js";
import { SandboxError } from "../domain/sandboxError.js";
import { sandboxFlavor } from "../domain/sandbox/sandboxFlavor.js";
import type { OperationContext, OperationHandler } from "./httpOperation.js";
import { acceptedOperation } from "./operationOperations.js";

function poolOf(params: Readonly<Record<string, string>>): AgentPoolRef {
  return {
    subscriptionId: params.subscriptionId ?? "",
    resourceGroup: params.resourceGroup ?? "",
    clusterName: params.clusterName ?? "",
    poolName: params.poolName ?? "",
  };
}

/** API path of a sandbox pool (the operation's `target`). */
export function sandboxPoolTarget(pool: AgentPoolRef): string {
  return `/subscriptions/${pool.subscriptionId}/resourceGroups/${pool.resourceGroup}/clusters/${pool.clusterName}/sandbox-pools/${pool.poolName}`;
}

/** The cluster's ARM id, lower case: operations on one cluster queue behind each other on this key. */
export function clusterSerialKey(pool: Omit<AgentPoolRef, "poolName">): string {
  return `/subscriptions/${pool.subscriptionId}/resourceGroups/${pool.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${pool.clusterName}`.toLowerCase();
}

/**
 * `putSandboxPool`: creates (or scales) a sandbox node pool. Runs the
 * preflight hook (issue 6) before any ARM write; `?dryRun=true` returns its
 * report and changes nothing. A pool already in the requested state answers
 * 200 with its view (no ARM write). Otherwise 202 `CreateSandboxPool`
 * (queued behind other operations of ours on the cluster). The
 * workloadRuntime, OS SKU and api-version come from the flavour module.
 */
export const putSandboxPool: OperationHandler<SandboxPoolBody> = async ({ params, query, body, principal, requestId }: OperationContext<SandboxPoolBody>) => {
  const s = services();
  const pool = poolOf(params);
  authorizeClusterAccess(principal, s.policy, pool, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const spec: AgentPoolSpec = {
    vmSize: body.vmSize,
    count: body.nodeCount,
    mode: "User",
    osType: "Linux",
    osSKU: flavor.osSku,
    workloadRuntime: flavor.workloadRuntime,
    ...(body.maxPods !== undefined ? { maxPods: body.maxPods } : {}),
    ...(body.labels !== undefined ? { nodeLabels: body.labels } : {}),
    ...(body.taints !== undefined ? { nodeTaints: body.taints } : {}),
  };

  // PREFLIGHT HOOK: issue 6 supplies `sandboxPoolPreflight` in src/composition.ts.
  const report = await s.sandboxPoolPreflight.check({ pool, body, spec, flavor, principal, correlationId: requestId });
  if (query.dryRun === true) return { status: 200, body: report };
  if (!report.ok) {
    const failing = report.checks.filter((c) => !c.ok);
    const first = failing[0];
    throw new SandboxError(first?.code ?? "InvalidRequest", first?.message ?? "The sandbox pool request failed its preflight checks.", {
      details: failing.map((c) => ({ code: c.code ?? "InvalidRequest", message: c.message, target: c.name })),
    });
  }

  const current = await s.arm.getAgentPool(pool, flavor.containerServiceApiVersion, { correlationId: requestId });
  if (current && current.provisioningState === "Succeeded" && poolMatches(current, spec)) {
    return { status: 200, body: sandboxPoolView(pool.poolName, current) };
  }
  const op = await s.operations.submit({
    kind: "CreateSandboxPool",
    target: sandboxPoolTarget(pool),
    subscriptionId: pool.subscriptionId,
    serialKey: clusterSerialKey(pool),
    input: { pool, spec, apiVersion: flavor.containerServiceApiVersion },
    createdBy: principal.id,
    team: principal.team,
    correlationId: requestId,
  });
  return acceptedOperation(op);
};

/**
 * `deleteSandboxPool`: 202 `DeleteSandboxPool` (queued like other
 * operations on the cluster); 204 when the pool does not exist.
 */
export const deleteSandboxPool: OperationHandler = async ({ params, principal, requestId }) => {
  const s = services();
  const pool = poolOf(params);
  authorizeClusterAccess(principal, s.policy, pool, "change");
  const flavor = sandboxFlavor(s.configuration.flavor);
  const current = await s.arm.getAgentPool(pool, flavor.containerServiceApiVersion, { correlationId: requestId });
  if (!current) return { status: 204 };
  const op = await s.operations.submit({
    kind: "DeleteSandboxPool",
    target: sandboxPoolTarget(pool),
    subscriptionId: pool.subscriptionId,
    serialKey: clusterSerialKey(pool),
    input: { pool, apiVersion: flavor.containerServiceApiVersion },
    createdBy: principal.id,
    team: principal.team,
    correlationId: requestId,
  });
  return acceptedOperation(op);
};
